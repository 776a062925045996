package topology

import (
	"cmp"
	"fmt"
	"slices"
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

// Merge returns the problems of l and m in one list, in line order: a
// caller that checks more of a file (flowlog.Load) reports all at once.
func (l ErrorList) Merge(m ErrorList) ErrorList {
	return append(slices.Clone(l), m...).sorted()
}

// sorted returns the list in line order (file-level problems, which have
// no line, first), keeping the order of problems on one line and the "too
// many errors" mark at the end.
func (l ErrorList) sorted() ErrorList {
	if len(l) == 0 {
		return nil
	}
	out := make(ErrorList, 0, len(l))
	var marks ErrorList
	for _, e := range l {
		if e.Msg == tooMany && e.Path == "" {
			marks = append(marks, e)
		} else {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	if len(marks) > 0 {
		out = append(out, marks[0])
	}
	return out
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

// tooMany is the message of the mark that ends a list cut at maxErrors.
const tooMany = "too many errors"
