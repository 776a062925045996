package topology

import (
	"fmt"
	"strings"
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

// levenshtein is the edit distance, used to suggest the key a user meant.
func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nearest returns the known key closest to k, or "" when none is close
// enough to be a plausible typo.
func nearest(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if strings.EqualFold(c, k) {
			return c
		}
		if d := levenshtein(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD > 1 && len(k) < 5 {
		return ""
	}
	return best
}
