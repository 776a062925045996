package filterpattern

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// refFields splits msg the way docs/aws-behaviour.md, "Space-delimited
// patterns" (Fields) describes, written as plainly as possible to check the
// optimised scanner against.
func refFields(msg string) (vals []string, starts []int) {
	ws := func(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
	i := 0
	for {
		for i < len(msg) && ws(msg[i]) {
			i++
		}
		if i == len(msg) {
			return
		}
		starts = append(starts, i)
		if msg[i] == '"' || msg[i] == '[' {
			closer := "\""
			if msg[i] == '[' {
				closer = "]"
			}
			if j := strings.Index(msg[i+1:], closer); j >= 0 {
				vals = append(vals, msg[i+1:i+1+j])
				i = i + 1 + j + 1
				continue
			}
		}
		j := i
		for j < len(msg) && !ws(msg[j]) {
			j++
		}
		vals = append(vals, msg[i:j])
		i = j
	}
}

// refBind binds n unconditioned slots named s0…s(n-1), with "..." at
// ellipsis (-1 for none), per the Binding and Extraction rules of
// docs/aws-behaviour.md, "Space-delimited patterns".
func refBind(msg string, n, ellipsis int) (bool, map[string]string) {
	vals, starts := refFields(msg)
	out := map[string]string{}
	if ellipsis < 0 {
		if len(vals) < n {
			return false, nil
		}
		for i := 0; i < n-1; i++ {
			out[fmt.Sprintf("$s%d", i)] = vals[i]
		}
		last := vals[n-1]
		if len(vals) > n {
			last = strings.TrimRight(msg[starts[n-1]:], " \t\r\n")
		}
		out[fmt.Sprintf("$s%d", n-1)] = last
		return true, out
	}
	if len(vals) < n-1 {
		return false, nil
	}
	tail := n - ellipsis - 1
	for i := 0; i < ellipsis; i++ {
		out[fmt.Sprintf("$s%d", i)] = vals[i]
	}
	for i := ellipsis; i < len(vals)-tail; i++ {
		out[fmt.Sprintf("$%d", i+1)] = vals[i]
	}
	for j := 0; j < tail; j++ {
		out[fmt.Sprintf("$s%d", ellipsis+1+j)] = vals[len(vals)-tail+j]
	}
	return true, out
}

func refPattern(n, ellipsis int) string {
	slots := make([]string, n)
	for i := range slots {
		slots[i] = fmt.Sprintf("s%d", i)
		if i == ellipsis {
			slots[i] = "..."
		}
	}
	return "[" + strings.Join(slots, ", ") + "]"
}

func checkBinding(t *testing.T, msg string, n, ellipsis int) {
	p := MustCompile(refPattern(n, ellipsis))
	ok, got := p.Extract(msg)
	wantOK, want := refBind(msg, n, ellipsis)
	if ok != wantOK || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s on %q: %v %v, reference %v %v", p, msg, ok, got, wantOK, want)
	}
}

func TestBindingAgainstReference(t *testing.T) {
	msgs := []string{d1, flowRecords[0].msg, flowRecords[2].msg, `a "b c" [d e] f`, `x"y z"w [q`, "  a\t\tb  ", `"" [] ""x`, ``, `one`}
	for _, m := range msgs {
		for n := 1; n <= 9; n++ {
			for e := -1; e < n; e++ {
				checkBinding(t, m, n, e)
			}
		}
	}
}

// FuzzBinding compares field splitting and slot binding with the reference.
func FuzzBinding(f *testing.F) {
	f.Add(d1, uint8(7), int8(-1))
	f.Add(`a "b c" [d e] f`, uint8(3), int8(1))
	f.Add("x\t\"y\" [z", uint8(2), int8(0))
	f.Fuzz(func(t *testing.T, msg string, n uint8, e int8) {
		slots := int(n%12) + 1
		ellipsis := int(e)
		if ellipsis < -1 || ellipsis >= slots {
			ellipsis = -1
		}
		checkBinding(t, msg, slots, ellipsis)
	})
}
