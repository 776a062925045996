package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestREADMEMainJob runs the main job README.md shows and compares its
// output with the README's: the object keys of the tour, the first lines
// of an object, and the summary on stderr (time, rate and the memory
// figures aside, which differ from machine to machine).
func TestREADMEMainJob(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	block := func(after string) string {
		t.Helper()
		_, rest, ok := strings.Cut(readme, after)
		if !ok {
			t.Fatalf("README.md: no %q", after)
		}
		_, rest, ok = strings.Cut(rest, "```\n")
		text, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("README.md: no output block after %q", after)
		}
		return text
	}
	const cmd = "go run ./cmd/vpcflow pcap --topology examples/topology.yaml --out flowlogs examples/demo.pcap.gz"
	if !strings.Contains(readme, cmd+"\n") {
		t.Fatalf("README.md no longer shows %q", cmd)
	}
	out := filepath.Join(t.TempDir(), "flowlogs")
	_, stderr, code := runBinary(t, nil, "pcap", "--topology", "../../examples/topology.yaml", "--out", out, "../../examples/demo.pcap.gz")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}

	// The tour: the date folder and the objects in it.
	tour := strings.Fields(block("### A tour of the output"))
	files := tree(t, out)
	var keys []string
	for k := range files {
		keys = append(keys, "flowlogs/"+k)
	}
	slices.Sort(keys)
	var wantKeys []string
	for _, name := range tour[1:] {
		wantKeys = append(wantKeys, tour[0]+name)
	}
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("objects\n%q\nREADME.md's tour\n%q", keys, wantKeys)
	}

	// The first lines of the first object.
	const zcat = "$ zcat flowlogs/AWSLogs/*/vpcflowlogs/*/2026/01/01/*T0000Z*.log.gz | head -3\n"
	_, rest, ok := strings.Cut(readme, zcat)
	head, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("README.md: no %q block", zcat)
	}
	var text string
	for k, b := range files {
		if strings.Contains(k, "T0000Z") {
			text = gunzipText(t, b)
		}
	}
	if lines := strings.SplitAfterN(text, "\n", 4); len(lines) < 4 || strings.Join(lines[:3], "") != head {
		t.Errorf("README.md shows the object starting\n%s\nit starts\n%s", head, strings.Join(lines[:min(3, len(lines))], ""))
	}

	// The summary.
	norm := func(s string) string {
		for _, r := range []struct{ re, with string }{
			{`packets in \S+ \([0-9,]+ packets/s\)`, "packets in T (R packets/s)"},
			{`flow tables: [0-9,]+ MiB at most( \(\d+ B per flow\))? of a budget of \S+`, "flow tables: M"},
			{`under \S+`, "under DIR"},
			{"\r", ""},
		} {
			s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
		}
		return strings.TrimSpace(s)
	}
	if want, got := norm(block("The summary on stderr says what became of the 20,000 packets:")), norm(stderr); want != got {
		t.Errorf("README.md's summary:\n%s\n\npcap printed:\n%s", want, got)
	}
}

// gunzipText is the text of a gzip object.
func gunzipText(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(text)
}
