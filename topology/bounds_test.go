package topology

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The inputs that made the parser take gigabytes.
func nestedFlowLists(n int) []byte {
	return []byte("X: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n")
}

func nestedFlowMaps(n int) []byte {
	return []byte("X: " + strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n) + "\n")
}

func nestedBlockMaps(n int) []byte {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return []byte(b.String())
}

// cost runs Parse once and returns the bytes it allocated and its time.
func cost(data []byte) (uint64, time.Duration, error) {
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	start := time.Now()
	_, err := Parse("big.yaml", data)
	d := time.Since(start)
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc, d, err
}

// TestBoundsRefuseCheaply: the inputs that took gigabytes and seconds in
// the parser (200 KB of nested flow lists: 15 GB, 9.5 s; 250 KB of nested
// flow maps: 5.2 GB; a 100 MB string: 5.7 GB, 30 s) are refused before it
// runs, with a positioned error, in under 1 MB and a fraction of a second.
func TestBoundsRefuseCheaply(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"flow lists 200 KB", nestedFlowLists(100_000), "big.yaml:1: column 67: lists and mappings nested 65 deep, more than 64"},
		{"flow maps 250 KB", nestedFlowMaps(62_500), "big.yaml:1: column 256: lists and mappings nested 65 deep, more than 64"},
		{"block maps", nestedBlockMaps(100), "big.yaml:65: column 65: lists and mappings nested 65 deep, more than 64"},
		{"string 100 MB", []byte("AccountId: \"" + strings.Repeat("x", 100<<20) + "\"\n"), "big.yaml: file too large: 104857614 bytes; a topology file may have at most 16777216 (16 MiB)"},
		{"string 1 MB", []byte("Vpcs:\n  - VpcId: \"" + strings.Repeat("x", 1<<20) + "\"\n"), "big.yaml:2: column 12: a string of more than 65536 bytes"},
		{"plain string 1 MB", []byte("Vpcs:\n  - VpcId: " + strings.Repeat("x", 1<<20) + "\n"), "big.yaml:2: column 12: a string of more than 65536 bytes"},
		{"block scalar 1 MB", []byte("Vpcs:\n  - VpcId: |\n" + strings.Repeat("      xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 1<<15)), "big.yaml:2: column 12: a string of more than 65536 bytes"},
	} {
		alloc, d, err := cost(c.data)
		var el ErrorList
		if !errors.As(err, &el) || len(el) != 1 || !strings.HasPrefix(el.Error(), c.want) {
			t.Errorf("%s: %v, want %s...", c.name, err, c.want)
			continue
		}
		t.Logf("%s (%d bytes): refused in %v, %d KB allocated: %v", c.name, len(c.data), d.Round(time.Microsecond), alloc>>10, err)
		// The input itself is not copied; the bound leaves room for a
		// slow, shared machine.
		if alloc > 1<<20 || d > 500*time.Millisecond {
			t.Errorf("%s: %d bytes allocated in %v", c.name, alloc, d)
		}
	}
}

// TestBoundsAllowRealTopologies: the examples parse, and so does a JSON
// document nested exactly MaxDepth deep; one level more is refused.
func TestBoundsAllowRealTopologies(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, e := scanBounds(p, data)
		if e != nil {
			t.Fatalf("%s: %v", p, e)
		}
		t.Logf("%s: depth %d", p, d)
		if d > 8 {
			t.Errorf("%s: depth %d", p, d)
		}
	}
	// Shapes that repeat in a long file must not add up: entries ending
	// with a key without a value, entries with nothing on the dash's
	// line, lists at their key's indentation.
	var long strings.Builder
	long.WriteString("Vpcs:\n")
	for i := 0; i < 500; i++ {
		long.WriteString("  - VpcId: vpc-1\n    Tags:\n  -\n    VpcId: vpc-2\n    CidrBlockAssociationSet:\n    - CidrBlock: 10.0.0.0/16\n")
	}
	long.WriteString("Subnets:\n- SubnetId: s\n  Tags:\nNetworkInterfaces: []\n")
	if d, e := scanBounds("long.yaml", []byte(long.String())); e != nil || d != 5 {
		t.Errorf("repeated shapes: depth %d, %v", d, e)
	}
	for _, c := range []struct {
		data []byte
		ok   bool
	}{
		{nestedFlowLists(MaxDepth - 1), true}, // X: is the first level
		{nestedFlowLists(MaxDepth), false},
		{nestedFlowMaps(MaxDepth - 1), true},
		{nestedFlowMaps(MaxDepth), false},
		{nestedBlockMaps(MaxDepth), true},
		{nestedBlockMaps(MaxDepth + 1), false},
		{[]byte("{\"a\": " + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + "}"), true},
		{[]byte("Vpcs:\n- VpcId: \"" + strings.Repeat("x", MaxScalarBytes) + "\"\n"), true},
		{[]byte("Vpcs:\n- VpcId: \"" + strings.Repeat("x", MaxScalarBytes+1) + "\"\n"), false},
	} {
		if e := checkBounds("f.yaml", c.data); (e == nil) != c.ok {
			t.Errorf("checkBounds(%.40q...) = %v, want ok %v", c.data, e, c.ok)
		}
	}
}

// TestLoadRefusesLargeFile: Load does not read a file over MaxFileBytes.
func TestLoadRefusesLargeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: 1 GB that takes no disk and would take 1 GB to read.
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(p)
	var el ErrorList
	if !errors.As(err, &el) || !strings.Contains(err.Error(), "file too large: 1073741824 bytes") {
		t.Fatalf("Load: %v", err)
	}
}

// astDepth is the nesting of lists and mappings the parser built.
func astDepth(n ast.Node) int {
	switch v := n.(type) {
	case nil:
		return 0
	case *ast.DocumentNode:
		return astDepth(v.Body)
	case *ast.AnchorNode:
		return astDepth(v.Value)
	case *ast.TagNode:
		return astDepth(v.Value)
	case *ast.SequenceNode:
		d := 0
		for _, e := range v.Values {
			d = max(d, astDepth(e))
		}
		return 1 + d
	case *ast.MappingNode:
		d := 0
		for _, p := range v.Values {
			d = max(d, pairDepth(p))
		}
		return 1 + d
	case *ast.MappingValueNode:
		return 1 + pairDepth(v)
	case *ast.MappingKeyNode:
		return astDepth(v.Value)
	}
	return 0
}

func pairDepth(p *ast.MappingValueNode) int {
	if p == nil {
		return 0
	}
	var k ast.Node
	if p.Key != nil {
		k = p.Key
	}
	return max(astDepth(k), astDepth(p.Value))
}

// FuzzBounds: the scan never reports less nesting than the parser builds
// (so no input deeper than MaxDepth reaches the parser), whatever the
// bytes; inputs it refuses have a positioned error.
func FuzzBounds(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.yaml")
	more, _ := filepath.Glob("../policy/testdata/*.yaml")
	for _, p := range append(files, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"X: [[[[]]]]\n", "X: {a: {a: {a: 1}}}\n", "a:\n b:\n  c: 1\n", "a:\n- b:\n  - c: [d: [e: f]]\n",
		"- - - x\n", "? [a]\n: {b: c}\n", "{\"a\":[{\"b\":\"c\"}]}", "k: |\n  [[[\n  text\nn: [x]\n",
		"k: 'it''s [' \nn: \"a\\\" [\"\n", "k: !!map {a: &x [b]}\n", "--- [a]\n", "k: a [b] c\nl: x # [c\n",
		"a:\n  - [b, c]: d\n", "[a: [b: [c: d]]]\n", "\xef\xbb\xbf[[a]]\n", "k: >-\n    folded\n    [text\nx: 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return // the parser is quadratic: keep the fuzzer fast
		}
		depth, e := scanBounds("f.yaml", data)
		if e != nil {
			if e.Line < 1 || !strings.HasPrefix(e.Msg, "column ") {
				t.Fatalf("unpositioned error: %v", e)
			}
			return
		}
		file, err := parser.ParseBytes(data, 0)
		if err != nil || file == nil {
			return
		}
		for _, doc := range file.Docs {
			if d := astDepth(doc); d > depth {
				t.Fatalf("the parser nests %d deep, the scan saw %d in %q", d, depth, data)
			}
		}
	})
}
