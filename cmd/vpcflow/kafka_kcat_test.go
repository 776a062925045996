package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Debian's kcat (librdkafka), a Kafka client that shares no code with
// franz-go, reads what `vpcflow pcap --publish` produced: every record of
// the flow-log objects is one message, exactly once, keyed by the record's
// own interface-id and carrying the flow log's id in the flow-log-id
// header.
func TestKafkaKcatConsumer(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat is not installed (Debian package kcat; .ci/run installs it)")
	}
	capPath := genCapture(t, "6000", "3000")
	addr := startBroker(t, 4, "flowlogs")
	dir := t.TempDir()
	_, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32", "--out", dir, "--publish", "kafka://"+addr+"/flowlogs", capPath)
	if code != 0 {
		t.Fatalf("pcap --publish: exit %d: %s", code, stderr)
	}
	want, _ := gzipLines(t, dir, true)
	total := 0
	for _, n := range want {
		total += n
	}
	if total < 1000 {
		t.Fatalf("only %d records", total)
	}
	// The default format's third field is interface-id.
	flowLogID := regexp.MustCompile(`^flow-log-id=fl-[0-9a-f]{17}$`)
	cmd := exec.Command(kcat, "-C", "-b", addr, "-t", "flowlogs", "-e", "-q", "-f", "%k\t%h\t%s\n")
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			cmd.Process.Kill()
		}
	}()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	got := map[string]int{}
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("kcat line %q: want key, headers and value", line)
		}
		key, headers, value := parts[0], parts[1], parts[2]
		fields := strings.Fields(value)
		if len(fields) < 3 || fields[2] != key {
			t.Fatalf("message key %q is not the record's interface-id: %q", key, value)
		}
		if !flowLogID.MatchString(headers) {
			t.Fatalf("message headers %q: want only flow-log-id=fl-...", headers)
		}
		got[value]++
		n++
	}
	dup, missing := compareLines(want, got)
	if dup != 0 || missing != 0 || n != total {
		t.Fatalf("kcat read %d messages for %d records: %d doubled or unknown, %d missing", n, total, dup, missing)
	}
	t.Logf("kcat read %d messages, one per record", n)
}
