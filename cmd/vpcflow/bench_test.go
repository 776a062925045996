package main

import (
	"strings"
	"testing"
)

// TestBenchInsightsCLI runs `vpcflow bench insights` end to end on a small
// data set: it is built once, reused, and the engine agrees with the
// hand-written loop (the command fails otherwise).
func TestBenchInsightsCLI(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := execBinary(t, execOptions{}, "bench", "insights", "--events", "3000", "--data-dir", dir, "--build-only")
	if code != 0 || !strings.Contains(out, "building 3000 events") || strings.Contains(out, "ratio") {
		t.Fatalf("build-only: exit %d\n%s%s", code, out, stderr)
	}
	for _, workers := range []string{"1", "2"} {
		out, stderr, code = execBinary(t, execOptions{}, "bench", "insights", "--events", "3000", "--data-dir", dir, "--workers", workers)
		if code != 0 {
			t.Fatalf("workers %s: exit %d\n%s%s", workers, code, out, stderr)
		}
		if strings.Contains(out, "building") {
			t.Errorf("the data set was built again:\n%s", out)
		}
		for _, want := range []string{"events scanned: 3000\n", "insights engine: ", "baseline loop: ", "ratio engine/baseline: "} {
			if !strings.Contains(out, want) {
				t.Errorf("workers %s: output lacks %q:\n%s", workers, want, out)
			}
		}
	}
	if _, stderr, code := execBinary(t, execOptions{}, "bench", "insights", "--events", "0", "--data-dir", dir); code != 2 || !strings.Contains(stderr, "--events") {
		t.Errorf("--events 0: exit %d, %s", code, stderr)
	}
	// Another query times the engine alone; with the baseline it is refused.
	out, stderr, code = execBinary(t, execOptions{}, "bench", "insights", "--data-dir", dir, "--baseline=false", "--runs", "2", "--query", "stats count(*) by interfaceId")
	if code != 0 || !strings.Contains(out, "insights engine run 2: ") || strings.Contains(out, "ratio") {
		t.Errorf("--baseline=false --query: exit %d\n%s%s", code, out, stderr)
	}
	for _, args := range [][]string{{"--query", "stats count(*)"}, {"--runs", "0"}} {
		if _, stderr, code := execBinary(t, execOptions{}, append([]string{"bench", "insights", "--data-dir", dir}, args...)...); code != 2 || stderr == "" {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}
