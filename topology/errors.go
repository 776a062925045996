package topology

import (
	"fmt"
	"strings"

	"github.com/vpcflow/vpcflow/internal/textdist"
)

// Error is one problem found in a topology file, positioned so the user can
// jump to it: FILE:LINE: path.to.key: problem.
type Error struct {
	File string
	Line int    // 1-based; 0 when unknown
	Path string // dotted key path such as Subnets[2].CidrBlock; "" for file-level problems
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList holds every problem of a file, so one run shows them all rather
// than making the user fix them one at a time.
type ErrorList []*Error

// maxErrors bounds the list: past it, further problems are usually echoes
// of the first ones.
const maxErrors = 50

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// nearest returns the known key closest to k, or "" when none is close
// enough to be a plausible typo.
func nearest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := textdist.Levenshtein(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD > 1 && len(k) < 5 {
		return ""
	}
	return best
}
