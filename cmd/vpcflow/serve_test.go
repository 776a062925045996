package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
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
)

// serveProc is a running `vpcflow serve`.
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr bytes.Buffer
	exited chan struct{}
}

var listenRE = regexp.MustCompile(`listening on http://(\S+)`)

// startServe runs `vpcflow serve --listen 127.0.0.1:0 args...` and waits
// until it listens.
func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	return startServeEnv(t, nil, args...)
}

// startServeEnv is startServe with variables added to the environment.
func startServeEnv(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{exited: make(chan struct{})}
	p.cmd = exec.Command(vpcflowBinary(t), append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	pipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
	})
	select {
	case p.addr = <-addr:
	case <-p.exited:
		t.Fatalf("serve exited: %s", p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen: %s", p.log())
	}
	return p
}

func (p *serveProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

func (p *serveProc) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	return string(b)
}

type health struct {
	Status               string
	Account              string
	FlowLogs             int
	SourcesEnded         bool
	Packets              uint64
	Records              uint64
	RecordsUndeliverable uint64
	RecordsAlreadyStored uint64
}

// makeBucket creates a bucket of the data dir before serve starts, as
// `aws s3 mb` does while it runs: the service delivers only into buckets
// that exist.
func makeBucket(t *testing.T, data, bucket string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(data, "buckets", bucket), 0o755); err != nil {
		t.Fatal(err)
	}
}

func (p *serveProc) health(t *testing.T) health {
	t.Helper()
	var h health
	if err := json.Unmarshal([]byte(p.get(t, "/healthz")), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// stop sends SIGTERM and checks the exit: status 0 within 10 s.
func (p *serveProc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not stop within 10 s of SIGTERM: %s", p.log())
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("serve exited %d: %s", code, p.log())
	}
}

// tree returns every regular file under dir by relative path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestServeReplayMatchesPcap: a replay at full speed delivers exactly the
// objects `vpcflow pcap` writes for the same capture (same keys, same
// bytes), into the bucket's directory under the data dir; SIGTERM then
// exits 0.
func TestServeReplayMatchesPcap(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if _, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--topology", "../../examples/topology.yaml", "--out", out, "../../examples/demo.pcap.gz"); code != 0 {
		t.Fatalf("pcap: %d %s", code, errOut)
	}
	want := tree(t, out)
	if len(want) == 0 {
		t.Fatal("pcap wrote nothing")
	}
	data := t.TempDir()
	makeBucket(t, data, "demo-flow-bucket")
	p := startServe(t, "--data-dir", data, "--topology", "../../examples/topology.yaml", "--replay", "../../examples/demo.pcap.gz")
	deadline := time.Now().Add(30 * time.Second)
	var h health
	for h = p.health(t); !h.SourcesEnded && time.Now().Before(deadline); h = p.health(t) {
		time.Sleep(20 * time.Millisecond)
	}
	if !h.SourcesEnded || h.Status != "ok" || h.Account != "111122223333" || h.FlowLogs != 1 || h.Packets != 20000 {
		t.Fatalf("health: %+v", h)
	}
	got := tree(t, filepath.Join(data, "buckets", "demo-flow-bucket"))
	if len(got) != len(want) {
		t.Errorf("serve wrote %d objects, pcap %d", len(got), len(want))
	}
	for k, b := range want {
		if !bytes.Equal(got[k], b) {
			t.Errorf("object %s differs from pcap's (or is missing)", k)
		}
	}
	metrics := p.get(t, "/metrics")
	for _, line := range []string{"vpcflow_packets_total 20000", "vpcflow_flow_logs 1"} {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	p.stop(t)
	// The lock names the running service; now that it stopped, the data
	// dir is free for the offline CLI.
	if _, errOut, code := runBinary(t, nil, "logs", "groups", "--data-dir", data); code != 0 {
		t.Errorf("logs groups after serve stopped: %d %s", code, errOut)
	}
}

// TestServeMissingBucket: without its bucket, the demo flow log gets
// nothing: serve makes no directory, counts every record pcap would have
// written as undeliverable (health, metrics, the summary lines) and the
// flow log is FAILED with AWS's "Access error".
func TestServeMissingBucket(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if _, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--topology", "../../examples/topology.yaml", "--out", out, "../../examples/demo.pcap.gz"); code != 0 {
		t.Fatalf("pcap: %d %s", code, errOut)
	}
	// The records pcap wrote: every line of its objects but the headers.
	var records uint64
	for _, b := range tree(t, out) {
		records += uint64(strings.Count(gunzipText(t, b), "\n") - 1)
	}
	data := t.TempDir()
	p := startServe(t, "--data-dir", data, "--topology", "../../examples/topology.yaml", "--replay", "../../examples/demo.pcap.gz")
	deadline := time.Now().Add(30 * time.Second)
	var h health
	for h = p.health(t); !h.SourcesEnded && time.Now().Before(deadline); h = p.health(t) {
		time.Sleep(20 * time.Millisecond)
	}
	if !h.SourcesEnded || h.Records != 0 || h.RecordsUndeliverable != records {
		t.Fatalf("health: %+v, want 0 records delivered and the %d of pcap undeliverable", h, records)
	}
	if _, err := os.Stat(filepath.Join(data, "buckets", "demo-flow-bucket")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the bucket's directory was made: %v", err)
	}
	metric := regexp.MustCompile(`(?m)^vpcflow_records_undeliverable_total\{flow_log_id="fl-[0-9a-f]{17}"\} (\d+)$`).FindStringSubmatch(p.get(t, "/metrics"))
	if metric == nil || metric[1] != strconv.FormatUint(records, 10) {
		t.Errorf("metric vpcflow_records_undeliverable_total: %q, want %d", metric, records)
	}
	p.stop(t)
	// The demo's flow log gets 807 records (the README's tour).
	if records != 807 {
		t.Fatalf("pcap wrote %d records, the demo 807", records)
	}
	n := "807"
	for _, line := range []string{
		"vpcflow serve: sources ended: 20,000 packets, 0 records delivered, " + n + " undeliverable (refused by their destination: describe-flow-logs shows the flow logs FAILED); still serving\n",
		"vpcflow serve: stopped: 20,000 packets, 0 records delivered, " + n + " undeliverable (refused by their destination: describe-flow-logs shows the flow logs FAILED)\n",
	} {
		if !strings.Contains(p.log(), line) {
			t.Errorf("serve's log lacks %q:\n%s", line, p.log())
		}
	}
	stdout, errOut, code := runBinary(t, nil, "ec2", "describe-flow-logs", "--data-dir", data)
	var d struct {
		FlowLogs []struct{ DeliverLogsStatus, DeliverLogsErrorMessage string }
	}
	if err := json.Unmarshal([]byte(stdout), &d); code != 0 || err != nil || len(d.FlowLogs) != 1 ||
		d.FlowLogs[0].DeliverLogsStatus != "FAILED" || d.FlowLogs[0].DeliverLogsErrorMessage != "Access error" {
		t.Errorf("describe-flow-logs: %d %v %s %s, want FAILED with Access error", code, err, stdout, errOut)
	}
}

// TestServeLockNamesTheService: while serve runs, another serve or an
// offline logs command on its data dir is told who holds it.
func TestServeLockNamesTheService(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	p := startServe(t, "--data-dir", data, "--topology", "../../examples/topology.yaml")
	for _, args := range [][]string{
		{"serve", "--listen", "127.0.0.1:0", "--data-dir", data},
		{"logs", "groups", "--data-dir", data},
	} {
		_, errOut, code := runBinary(t, nil, args...)
		pid := strconv.Itoa(p.cmd.Process.Pid)
		if code != 1 || !strings.Contains(errOut, "PID "+pid) || !strings.Contains(errOut, p.addr) {
			t.Errorf("%s: exit %d, %q; want exit 1 naming PID %s and %s", args[0], code, errOut, pid, p.addr)
		}
	}
	p.stop(t)
}

// TestServeLatency: paced at recorded speed with 60 s windows, every
// window is delivered within 2 s of its end on the clock, as the
// histogram in /metrics shows. It waits for one window boundary (up to a
// minute) and runs beside the other tests.
func TestServeLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a window boundary on the wall clock")
	}
	t.Parallel()
	data := t.TempDir()
	makeBucket(t, data, "demo-flow-bucket")
	p := startServe(t, "--data-dir", data, "--topology", "../../examples/topology.yaml",
		"--replay", "../../examples/demo.pcap.gz", "--speed", "1", "--loop")
	countRE := regexp.MustCompile(`vpcflow_window_delivery_seconds_count (\d+)`)
	within2RE := regexp.MustCompile(`vpcflow_window_delivery_seconds_bucket\{le="2"\} (\d+)`)
	deadline := time.Now().Add(80 * time.Second)
	for time.Now().Before(deadline) {
		m := p.get(t, "/metrics")
		c, w := countRE.FindStringSubmatch(m), within2RE.FindStringSubmatch(m)
		if c != nil && c[1] != "0" {
			if w == nil || w[1] != c[1] {
				t.Fatalf("%s windows delivered, %v within 2 s:\n%s", c[1], w, m)
			}
			p.stop(t)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no window delivered within 80 s: %s", p.log())
}

// TestServeKill9: killed with SIGKILL at random moments while it delivers,
// the service leaves only complete objects (every one a whole gzip stream
// of records) and a data dir the next start opens, removing the temporary
// files of objects it was writing.
func TestServeKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	capture := filepath.Join(dir, "big.pcap")
	if _, errOut, code := runBinary(t, nil, "gen", "pcap", "--topology", "../../examples/topology.yaml",
		"--packets", "300000", "--flows", "30000", "--seed", "3", "--snaplen", "128", "--out", capture); code != 0 {
		t.Fatalf("gen: %s", errOut)
	}
	topo := filepath.Join(dir, "topology.yaml")
	src, err := os.ReadFile("../../examples/topology.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A second flow log to CloudWatch Logs, so the store is written too.
	src = append(src, []byte(`  - ResourceIds: [vpc-0f1e2d3c4b5a69788]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: cloud-watch-logs
    LogGroupName: /vpc/demo
    MaxAggregationInterval: 60
`)...)
	if err := os.WriteFile(topo, src, 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	makeBucket(t, data, "demo-flow-bucket")
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3; i++ {
		p := startServe(t, "--data-dir", data, "--topology", topo, "--replay", capture)
		time.Sleep(time.Duration(50+rng.IntN(700)) * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	objects := 0
	filepath.WalkDir(filepath.Join(data, "buckets"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return err
		}
		objects++
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: torn object: %v", path, err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		for _, l := range lines[1:] {
			if len(strings.Fields(l)) != 14 {
				t.Fatalf("%s: bad record %q", path, l)
			}
		}
		return nil
	})
	t.Logf("%d complete objects after 3 kills", objects)
	// The next start cleans up and serves; its data dir holds the events.
	p := startServe(t, "--data-dir", data, "--topology", topo)
	p.stop(t)
	filepath.WalkDir(filepath.Join(data, "buckets"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left after a restart: %s", path)
		}
		return nil
	})
	out, errOut, code := runBinary(t, nil, "logs", "filter", "--data-dir", data, "--group", "/vpc/demo", "--output", "json")
	if code != 0 {
		if strings.Contains(errOut, "does not exist") {
			return // killed before the first window of the group was delivered
		}
		t.Fatalf("logs filter after kills: %d %s", code, errOut)
	}
	var res struct{ Events []struct{ Message string } }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Events {
		if len(strings.Fields(e.Message)) != 14 {
			t.Fatalf("bad stored event %q", e.Message)
		}
	}
	t.Logf("%d stored events after 3 kills", len(res.Events))
}

// TestServeReloadTopology: SIGHUP reloads the topology file; a file that
// does not load is reported and the running topology stays.
func TestServeReloadTopology(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	topo := filepath.Join(dir, "topology.yaml")
	src, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(topo, src, 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, "--data-dir", filepath.Join(dir, "data"), "--topology", topo)
	waitLog := func(s string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(p.log(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in:\n%s", s, p.log())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := os.WriteFile(topo, []byte("Vpcs: [{VpcId: 12}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog("topology not reloaded, version 1 stays")
	if err := os.WriteFile(topo, src, 0o644); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGHUP)
	waitLog("(version 2)")
	if m := p.get(t, "/metrics"); !strings.Contains(m, "vpcflow_topology_version 2\n") {
		t.Errorf("metrics do not show version 2")
	}
	p.stop(t)
}
