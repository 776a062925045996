package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

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
	return startCollectorOf(t, e2e.Binary(t), args...)
}

// startCollectorOf runs `collect` of the binary bin.
func startCollectorOf(t testing.TB, bin string, args ...string) *collectorProc {
	t.Helper()
	p := &collectorProc{exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"collect"}, args...)...)
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
	direct, publish time.Duration // pcap --out DIR; pcap --publish (no objects)
	collect         time.Duration // from the restarted collector's start to all records in objects
	killedAt        int
}

// agentToCollector runs `vpcflow pcap --publish` (an agent: no objects of
// its own) into a broker, then a collector killed with SIGKILL once it
// wrote killAfter objects and a second one of the same group, and checks
// that the collected objects hold each record of the objects `vpcflow pcap
// --out` writes of the capture exactly once.
func agentToCollector(t *testing.T, packets, flows string, killAfter int) kafkaRun {
	capPath := genCapture(t, packets, flows)
	addr := startBroker(t, 8, "flowlogs")
	base, cwd, dirB := t.TempDir(), t.TempDir(), t.TempDir()
	var run kafkaRun
	// The baseline, and what the collector must store: objects straight
	// to disk.
	start := time.Now()
	if _, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32", "--out", base, capPath); code != 0 {
		t.Fatalf("pcap --out DIR: exit %d: %s", code, stderr)
	}
	run.direct = time.Since(start)
	// The agent: --publish alone, which writes nothing.
	start = time.Now()
	_, stderr, code := execBinary(t, execOptions{Dir: cwd}, "pcap", "--local-cidr", "10.0.1.10/32", "--publish", "kafka://"+addr+"/flowlogs", capPath)
	run.publish = time.Since(start)
	if code != 0 {
		t.Fatalf("pcap --publish: exit %d: %s", code, stderr)
	}
	if left, _ := os.ReadDir(cwd); len(left) != 0 {
		t.Errorf("pcap --publish without --out wrote %s in its directory", left[0].Name())
	}
	if strings.Contains(stderr, "wrote ") {
		t.Errorf("pcap --publish without --out says it wrote objects:\n%s", stderr)
	}
	want, _ := gzipLines(t, base, true)
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
// direct path (`vpcflow pcap --out DIR`, the baseline), the agent
// (`vpcflow pcap --publish`: every record to the in-process broker, no
// objects of its own), a plain franz-go consumer in this process reading the filled
// topic (what the broker serves, the bound of any consumer), and
// `vpcflow collect` draining the topic into objects. Records/s of each
// are reported; VPCFLOW_KAFKA_1M=1 uses about a million records (default
// about 200,000). The collector is timed from its start (joining the
// group included) to the last full object committed (collect-rec/s) and
// to every record committed (collect-all-rec/s: the partial objects wait
// for --max-wait, 1 s).
//
// VPCFLOW_KAFKA_BASELINE=/path/to/an/older/vpcflow runs the same steps
// with that binary too, in the same iterations, and reports its figures
// as base-* and the ratios new/base.
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
	bins := []string{e2e.Binary(b)}
	if base := os.Getenv("VPCFLOW_KAFKA_BASELINE"); base != "" {
		bins = append(bins, base)
	}
	runs := make([]kafkaPathRun, len(bins))
	for i := 0; i < b.N; i++ {
		for j, bin := range bins {
			runs[j].add(kafkaPath(b, bin, capPath, j == 0))
		}
	}
	for j, prefix := range []string{"", "base-"}[:len(bins)] {
		r := runs[j]
		if j == 0 {
			b.ReportMetric(float64(r.records/b.N), "records")
			b.ReportMetric(float64(r.records)/r.fetch.Seconds(), "broker-fetch-rec/s")
		}
		b.ReportMetric(float64(r.records)/r.direct.Seconds(), prefix+"direct-rec/s")
		b.ReportMetric(float64(r.records)/r.publish.Seconds(), prefix+"publish-rec/s")
		b.ReportMetric(float64(r.full)/r.collectFull.Seconds(), prefix+"collect-rec/s")
		b.ReportMetric(float64(r.records)/r.collect.Seconds(), prefix+"collect-all-rec/s")
		b.ReportMetric(r.direct.Seconds()/r.publish.Seconds(), prefix+"publish/direct")
		b.ReportMetric(r.direct.Seconds()/r.collectFull.Seconds()*float64(r.full)/float64(r.records), prefix+"collect/direct")
		// Where the CPU went: the agent's and the collector's processes
		// against their wall time, and this process's (the broker's)
		// during the collector's drain.
		b.ReportMetric(r.agentCPU.Seconds()/r.publish.Seconds(), prefix+"agent-cores")
		b.ReportMetric(r.collectCPU.Seconds()/r.collect.Seconds(), prefix+"collector-cores")
		b.ReportMetric(r.brokerCPU.Seconds()/r.collect.Seconds(), prefix+"broker-cores")
		// The broker runs in this process, on the agent's two cores:
		// what it took while the agent published.
		b.ReportMetric(r.brokerPubCPU.Seconds()/r.publish.Seconds(), prefix+"broker-cores-publish")
		// Time the collector's threads were runnable but waited for a
		// CPU, against their time on one: above 1, the machine's other
		// work, not the broker or the disk, held the collector back.
		if r.collectRun > 0 {
			b.ReportMetric(r.collectRunq.Seconds()/r.collectRun.Seconds(), prefix+"collector-runq/run")
		}
	}
	if len(bins) == 2 {
		n, o := runs[0], runs[1]
		b.ReportMetric(o.publish.Seconds()/n.publish.Seconds(), "publish-new/base")
		b.ReportMetric((float64(n.full)/n.collectFull.Seconds())/(float64(o.full)/o.collectFull.Seconds()), "collect-new/base")
	}
}

// kafkaPathRun is what BenchmarkKafkaPath measured of one binary, summed
// over iterations.
type kafkaPathRun struct {
	records, full                   int // records; those in full objects (10,000 a partition)
	direct, publish, fetch          time.Duration
	collectFull, collect            time.Duration
	agentCPU, collectCPU, brokerCPU time.Duration
	brokerPubCPU                    time.Duration // this process's (the broker's) during the agent's run
	collectRun, collectRunq         time.Duration // the collector's threads: on a CPU, and runnable but waiting for one
}

func (r *kafkaPathRun) add(o kafkaPathRun) {
	r.records += o.records
	r.full += o.full
	r.direct += o.direct
	r.publish += o.publish
	r.fetch += o.fetch
	r.collectFull += o.collectFull
	r.collect += o.collect
	r.agentCPU += o.agentCPU
	r.collectCPU += o.collectCPU
	r.brokerCPU += o.brokerCPU
	r.brokerPubCPU += o.brokerPubCPU
	r.collectRun += o.collectRun
	r.collectRunq += o.collectRunq
}

// kafkaPath runs the direct path, the agent publishing into a new
// broker, (with fetch) a plain consumer of the topic, and the collector,
// of the binary bin.
func kafkaPath(b *testing.B, bin, capPath string, fetch bool) kafkaPathRun {
	var r kafkaPathRun
	cwd := b.TempDir()
	run := func(args ...string) (string, *os.ProcessState, time.Duration) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = cwd // a binary from before --publish alone wrote ./flowlogs
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s %v: %v: %s", bin, args, err, stderr.String())
		}
		return stderr.String(), cmd.ProcessState, time.Since(start)
	}
	dirA, dirC := b.TempDir(), b.TempDir()
	_, _, r.direct = run("pcap", "--quiet", "--local-cidr", "10.0.1.10/32", "--out", dirA, capPath)
	addr := startBroker(b, 8, "flowlogs")
	beforePub := selfCPU()
	stderr, ps, el := run("pcap", "--local-cidr", "10.0.1.10/32", "--publish", "kafka://"+addr+"/flowlogs", capPath)
	r.brokerPubCPU = selfCPU() - beforePub
	r.publish = el
	r.agentCPU = ps.UserTime() + ps.SystemTime()
	m := regexp.MustCompile(`published: ([0-9,]+) records to Kafka \(([0-9,]+) acknowledged, 0 failed`).FindStringSubmatch(stderr)
	if m == nil || m[1] != m[2] {
		b.Fatalf("pcap --publish: %s", stderr)
	}
	fmt.Sscan(strings.ReplaceAll(m[1], ",", ""), &r.records)

	// The records of each partition, read by a plain consumer: how many
	// are in full objects, and how fast the broker serves them.
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("flowlogs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	perPartition := map[int32]int{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	for n := 0; n < r.records && ctx.Err() == nil; {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(rec *kgo.Record) { perPartition[rec.Partition]++ })
		n += fs.NumRecords()
	}
	cancel()
	cl.Close()
	if fetch {
		r.fetch = time.Since(start)
	}
	const perObject = 10000
	for _, n := range perPartition {
		r.full += n - n%perObject
	}

	start = time.Now()
	before := selfCPU()
	c := startCollectorOf(b, bin, "--from", "kafka://"+addr+"/flowlogs", "--group", "bench", "--to", dirC,
		"--max-records", strconv.Itoa(perObject), "--max-wait", "1s", "--progress", "20ms")
	for {
		n := c.committed()
		if n >= r.full && r.collectFull == 0 {
			r.collectFull = time.Since(start)
		}
		if n >= r.records {
			break
		}
		select {
		case <-c.exited:
			b.Fatalf("collector exited: %s", c.log())
		case <-time.After(5 * time.Millisecond):
		}
	}
	r.collect = time.Since(start)
	r.brokerCPU = selfCPU() - before
	r.collectRun, r.collectRunq = schedStat(c.cmd.Process.Pid)
	c.cmd.Process.Signal(syscall.SIGTERM)
	<-c.exited
	r.collectCPU = c.cmd.ProcessState.UserTime() + c.cmd.ProcessState.SystemTime()
	return r
}

// schedStat sums the scheduler's counts of pid's threads (Linux
// /proc/PID/task/*/schedstat): time on a CPU, and time runnable waiting
// for one. Zero when they cannot be read.
func schedStat(pid int) (run, wait time.Duration) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		var r, w int64
		if n, _ := fmt.Sscan(string(b), &r, &w); n == 2 {
			run += time.Duration(r)
			wait += time.Duration(w)
		}
	}
	return run, wait
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
