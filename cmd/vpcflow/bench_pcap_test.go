package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestBenchPcapCLI runs `vpcflow bench pcap` on a small generated capture,
// with this binary as its own base: every contender goes through all
// 3000 packets, and the table has a row for each.
func TestBenchPcapCLI(t *testing.T) {
	capPath := filepath.Join(t.TempDir(), "small.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "3000", "--flows", "300", "--out", capPath); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	out, stderr, code := runBinary(t, nil, "bench", "pcap", "--runs", "2", "--base", vpcflowBinary(t), "--args", "--local-cidr 10.0.1.10/32", capPath)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	if !strings.Contains(out, "\n3000 packets; medians of 2 runs") {
		t.Errorf("no packet count:\n%s", out)
	}
	names := []string{"vpcflow", "base", "gopacket+map", "pcapgo-read"}
	if _, err := exec.LookPath("softflowd"); err == nil {
		names = append(names, "softflowd")
		if !regexp.MustCompile(`(?m)^softflowd: [1-9][0-9]* NetFlow v9 datagrams received$`).MatchString(out) {
			t.Errorf("softflowd exported nothing:\n%s", out)
		}
	} else {
		t.Log("softflowd is not installed: no softflowd row")
	}
	for _, name := range names {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +[0-9.]+ +[0-9]+ +[0-9.]+ +(\d+|-) +[0-9.]+ +[0-9.]+$`).MatchString(out) {
			t.Errorf("no row for %s:\n%s", name, out)
		}
		if strings.Count(out, "run 2 "+name+" ") != 1 {
			t.Errorf("%s did not run twice:\n%s", name, out)
		}
	}
	// The base ran with its count bounds lifted; both summaries agree.
	re := regexp.MustCompile(`records:  ([0-9,]+) `)
	m := re.FindAllStringSubmatch(out, -1)
	if len(m) != 2 || m[0][1] != m[1][1] {
		t.Errorf("records lines %v:\n%s", m, out)
	}
	if _, stderr, code := runBinary(t, nil, "bench", "pcap", "--runs", "0", capPath); code != 2 || !strings.Contains(stderr, "--runs") {
		t.Errorf("--runs 0: exit %d %s", code, stderr)
	}
}
