package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// startBroker runs franz-go's in-process Kafka broker (kfake) in the test
// process, on 127.0.0.1, for the binaries the test starts; it returns its
// address. Groups may use session timeouts down to 500 ms, so a killed
// collector's partitions move on quickly.
func startBroker(t testing.TB, partitions int32, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...), kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// collectorProc is a running `vpcflow collect`.
type collectorProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
	code   int
}

func startCollector(t testing.TB, args ...string) *collectorProc {
	t.Helper()
	p := &collectorProc{exited: make(chan struct{})}
	p.cmd = exec.Command(e2e.Binary(t), append([]string{"collect"}, args...)...)
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	return p
}

func (p *collectorProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

var progressRE = regexp.MustCompile(`(?m)^vpcflow collect: ([0-9,]+) records in ([0-9,]+) objects \(([0-9,]+) records/s\)$`)

// idle reports whether the collector's last progress line shows no
// record in its last interval, after some were.
func (p *collectorProc) idle() bool {
	m := progressRE.FindAllStringSubmatch(p.log(), -1)
	return len(m) >= 2 && m[len(m)-1][3] == "0" && m[len(m)-1][1] != "0"
}

// gzipLines counts the lines of the gzip objects under root (without
// the header line of flow-log objects) and returns how many objects.
func gzipLines(t testing.TB, root string, header bool) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		n++
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if header {
			lines = lines[1:]
		}
		for _, l := range lines {
			seen[l]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen, n
}

// compareLines compares two multisets of lines: how many of got are
// beyond want's count of the same line (or not in want at all), and how
// many of want are missing from got.
func compareLines(want, got map[string]int) (dup, missing int) {
	for l, n := range want {
		if got[l] < n {
			missing += n - got[l]
		} else {
			dup += got[l] - n
		}
	}
	for l, n := range got {
		if _, ok := want[l]; !ok {
			dup += n
		}
	}
	return dup, missing
}

// kafkaRun is one run of agent → Kafka → collector: what was measured.
type kafkaRun struct {
	records         int
	direct, publish time.Duration // pcap --out DIR alone; pcap --out DIR --publish
	collect         time.Duration // from the restarted collector's start to all records in objects
	killedAt        int
}

// agentToCollector runs `vpcflow pcap --publish` into a broker, then a
// collector killed with SIGKILL once it wrote killAfter objects and a
// second one of the same group, and checks that the collected objects
// hold each record of the flow-log objects exactly once.
func agentToCollector(t *testing.T, packets, flows string, killAfter int) kafkaRun {
	capPath := genCapture(t, packets, flows)
	addr := startBroker(t, 8, "flowlogs")
	base, dirA, dirB := t.TempDir(), t.TempDir(), t.TempDir()
	var run kafkaRun
	// The baseline: objects straight to disk.
	start := time.Now()
	if _, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32", "--out", base, capPath); code != 0 {
		t.Fatalf("pcap --out DIR: exit %d: %s", code, stderr)
	}
	run.direct = time.Since(start)
	start = time.Now()
	_, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32", "--out", dirA, "--publish", "kafka://"+addr+"/flowlogs", capPath)
	run.publish = time.Since(start)
	if code != 0 {
		t.Fatalf("pcap --publish: exit %d: %s", code, stderr)
	}
	want, _ := gzipLines(t, dirA, true)
	for _, n := range want {
		run.records += n
	}
	wantLine := fmt.Sprintf("published: %s records to Kafka (%s acknowledged, 0 failed", grouped(uint64(run.records)), grouped(uint64(run.records)))
	if !strings.Contains(stderr, wantLine) {
		t.Fatalf("pcap --publish summary lacks %q:\n%s", wantLine, stderr)
	}

	args := []string{"--from", "kafka://" + addr + "/flowlogs", "--group", "archive", "--to", dirB,
		"--max-records", "5000", "--max-wait", "500ms", "--session-timeout", "6s", "--progress", "500ms"}
	c1 := startCollector(t, args...)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, n := gzipLines(t, dirB, false)
		if n >= killAfter {
			run.killedAt = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the first collector wrote %d objects in 2 minutes: %s", n, c1.log())
		}
		select {
		case <-c1.exited:
			t.Fatalf("the first collector exited: %s", c1.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	c1.cmd.Process.Signal(syscall.SIGKILL)
	<-c1.exited

	start = time.Now()
	c2 := startCollector(t, args...)
	var got map[string]int
	total := 0
	for total < run.records {
		if time.Now().After(deadline.Add(3 * time.Minute)) {
			t.Fatalf("collected %d of %d records: %s", total, run.records, c2.log())
		}
		select {
		case <-c2.exited:
			t.Fatalf("the second collector exited: %s", c2.log())
		case <-time.After(200 * time.Millisecond):
		}
		if !c2.idle() {
			continue
		}
		got, _ = gzipLines(t, dirB, false)
		total = 0
		for _, n := range got {
			total += n
		}
	}
	run.collect = time.Since(start)
	c2.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c2.exited:
	case <-time.After(time.Minute):
		t.Fatal("the collector did not stop on SIGTERM")
	}
	if c2.code != 0 || !strings.Contains(c2.log(), "vpcflow collect: stopped after") {
		t.Errorf("after SIGTERM: exit %d: %s", c2.code, c2.log())
	}
	dup, missing := compareLines(want, got)
	if dup != 0 || missing != 0 {
		t.Fatalf("%d records doubled, %d missing of %d", dup, missing, run.records)
	}
	return run
}

// Agent → Kafka → collector with the real binaries: `vpcflow pcap
// --publish` into a broker, a `vpcflow collect` killed (SIGKILL) after
// its first objects, another of the same group: every record of the
// flow-log objects is in exactly one collected object. With
// VPCFLOW_KAFKA_1M=1 the capture gives about a million records.
func TestKafkaAgentToCollector(t *testing.T) {
	packets, flows, kill := "60000", "30000", 2
	if os.Getenv("VPCFLOW_KAFKA_1M") != "" {
		packets, flows, kill = "2400000", "1200000", 60
	}
	run := agentToCollector(t, packets, flows, kill)
	if run.records < 30000 {
		t.Fatalf("only %d records", run.records)
	}
	t.Logf("%d records: pcap --out DIR %v (%.0f records/s); with --publish %v (%.0f records/s); collector killed at %d objects, the next collected the rest in %v",
		run.records, run.direct.Round(time.Millisecond), float64(run.records)/run.direct.Seconds(),
		run.publish.Round(time.Millisecond), float64(run.records)/run.publish.Seconds(), run.killedAt, run.collect.Round(time.Millisecond))
}

// e2eRun runs the binary from a test or a benchmark.
func e2eRun(tb testing.TB, args ...string) (string, string, int) {
	tb.Helper()
	return e2e.Run(tb, e2e.Options{}, args...)
}

// committed is the records count of the collector's last progress line.
func (p *collectorProc) committed() int {
	m := progressRE.FindAllStringSubmatch(p.log(), -1)
	if len(m) == 0 {
		return 0
	}
	n := 0
	fmt.Sscan(strings.ReplaceAll(m[len(m)-1][1], ",", ""), &n)
	return n
}

// BenchmarkKafkaPath measures, in the same run on the same capture: the
// direct path (`vpcflow pcap --out DIR`, the baseline), the agent with
// --publish into the in-process broker (objects and every record to
// Kafka), and `vpcflow collect` draining the filled topic into objects.
// Records/s of each are reported; VPCFLOW_KAFKA_1M=1 uses about a million
// records (default about 200,000).
//
//	go test ./cmd/vpcflow -run XXX -bench KafkaPath -benchtime 2x
func BenchmarkKafkaPath(b *testing.B) {
	packets, flows := "400000", "200000"
	if os.Getenv("VPCFLOW_KAFKA_1M") != "" {
		packets, flows = "2400000", "1200000"
	}
	capPath := filepath.Join(b.TempDir(), "cap.pcap")
	if _, stderr, code := e2eRun(b, "gen", "pcap", "--packets", packets, "--flows", flows, "--out", capPath); code != 0 {
		b.Fatalf("gen: exit %d: %s", code, stderr)
	}
	var direct, publish, collect, steady time.Duration
	records, steadyN := 0, 0
	var collectCPU, brokerCPU time.Duration
	for i := 0; i < b.N; i++ {
		dirA, dirB, dirC := b.TempDir(), b.TempDir(), b.TempDir()
		start := time.Now()
		if _, stderr, code := e2eRun(b, "pcap", "--quiet", "--local-cidr", "10.0.1.10/32", "--out", dirA, capPath); code != 0 {
			b.Fatalf("pcap: exit %d: %s", code, stderr)
		}
		direct += time.Since(start)
		addr := startBroker(b, 8, "flowlogs")
		start = time.Now()
		_, stderr, code := e2eRun(b, "pcap", "--local-cidr", "10.0.1.10/32", "--out", dirB, "--publish", "kafka://"+addr+"/flowlogs", capPath)
		publish += time.Since(start)
		m := regexp.MustCompile(`published: ([0-9,]+) records to Kafka \(([0-9,]+) acknowledged, 0 failed`).FindStringSubmatch(stderr)
		if code != 0 || m == nil || m[1] != m[2] {
			b.Fatalf("pcap --publish: exit %d: %s", code, stderr)
		}
		fmt.Sscan(strings.ReplaceAll(m[1], ",", ""), &records)
		start = time.Now()
		before := selfCPU()
		c := startCollector(b, "--from", "kafka://"+addr+"/flowlogs", "--group", "bench", "--to", dirC,
			"--max-records", "10000", "--max-wait", "1s", "--progress", "100ms")
		// Steady state: from the first progress line with records
		// committed (the group joined, the first object written).
		var first time.Time
		firstN := 0
		for {
			n := c.committed()
			if n > 0 && first.IsZero() {
				first, firstN = time.Now(), n
			}
			if n >= records {
				break
			}
			select {
			case <-c.exited:
				b.Fatalf("collector exited: %s", c.log())
			case <-time.After(20 * time.Millisecond):
			}
		}
		collect += time.Since(start)
		brokerCPU += selfCPU() - before
		steady += time.Since(first)
		steadyN += records - firstN
		c.cmd.Process.Signal(syscall.SIGTERM)
		<-c.exited
		collectCPU += c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	}
	n := float64(b.N * records)
	// Where the CPU went: the collector process, against the wall time
	// (the broker runs in this process, on the same two cores).
	b.ReportMetric(collectCPU.Seconds()/collect.Seconds(), "collector-cores")
	b.ReportMetric(brokerCPU.Seconds()/collect.Seconds(), "broker-cores")
	b.ReportMetric(float64(records), "records")
	b.ReportMetric(n/direct.Seconds(), "direct-rec/s")
	b.ReportMetric(n/publish.Seconds(), "publish-rec/s")
	b.ReportMetric(n/collect.Seconds(), "collect-rec/s")
	b.ReportMetric(float64(steadyN)/steady.Seconds(), "collect-steady-rec/s")
	b.ReportMetric(direct.Seconds()/publish.Seconds(), "publish/direct")
	b.ReportMetric(direct.Seconds()/collect.Seconds(), "collect/direct")
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
