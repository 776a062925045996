package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/e2e"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// storeState is what a data dir holds for the kill tests: the group's
// events in the order they were stored, the Rejects datapoints per minute,
// the alarms, and the names of its files.
type storeState struct {
	events []logstore.Event // Message copied
	sums   map[int64]float64
	alarms []metricfilter.Evaluator
	files  []string
}

// readStore opens a data dir read-only, as a user's next command would,
// and reads it whole. Opening fails the test: a kill must never leave a
// store that does not open.
func readStore(t *testing.T, data string) storeState {
	t.Helper()
	s, err := logsvc.Open(data, logsvc.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the store does not open: %v", err)
	}
	defer s.Close()
	var st storeState
	err = s.Store().EventsAfter("vpc-flow-logs", 0, func(ev logstore.Event, _ uint64) error {
		ev.Message = slices.Clone(ev.Message)
		st.events = append(st.events, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st.sums = map[int64]float64{}
	for _, m := range s.MetricStats("VPC", "Rejects", nil) {
		st.sums[m.Minute] = m.Sum
	}
	st.alarms = s.Alarms(logsvc.AlarmFilter{})
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(data, path)
			st.files = append(st.files, rel)
		}
		return nil
	})
	return st
}

// checkContribution: the datapoints are exactly what the stored events
// give (one per REJECT record, in the minute of its timestamp), whatever
// moment the writer was killed at.
func checkContribution(t *testing.T, round string, st storeState) {
	t.Helper()
	want := map[int64]float64{}
	for _, ev := range st.events {
		f := strings.Fields(string(ev.Message))
		if len(f) != 14 {
			t.Fatalf("%s: a torn event %q", round, ev.Message)
		}
		if f[12] == "REJECT" {
			want[ev.Timestamp-ev.Timestamp%60000]++
		}
	}
	// The filter has no default value: a minute without a match has no
	// datapoint.
	if !reflect.DeepEqual(st.sums, want) {
		t.Fatalf("%s: %d events stored; datapoints per minute %v, the events give %v", round, len(st.events), st.sums, want)
	}
}

// sameResult compares a store that went through kills and a rerun with one
// that ran cleanly: the same events in the same order, datapoints, alarm
// states and history, and files (no temporary file left behind).
func sameResult(t *testing.T, got, want storeState) {
	t.Helper()
	msgs := func(evs []logstore.Event) []string {
		var m []string
		for _, ev := range evs {
			m = append(m, fmt.Sprintf("%d %s", ev.Timestamp, ev.Message))
		}
		return m
	}
	if g, w := msgs(got.events), msgs(want.events); !reflect.DeepEqual(g, w) {
		t.Errorf("events: %d after the kills and a rerun, %d after a clean run", len(g), len(w))
	}
	if !reflect.DeepEqual(got.sums, want.sums) {
		t.Errorf("datapoints %v, a clean run's %v", got.sums, want.sums)
	}
	if len(got.alarms) != len(want.alarms) {
		t.Fatalf("alarms %d, a clean run's %d", len(got.alarms), len(want.alarms))
	}
	for i := range got.alarms {
		g, w := got.alarms[i], want.alarms[i]
		// When the alarm was put is no part of what the events give.
		g.ConfigUpdated, g.Updated = w.ConfigUpdated, w.Updated
		if !reflect.DeepEqual(g, w) {
			t.Errorf("alarm\n%+v\na clean run's\n%+v", g, w)
		}
	}
	if !reflect.DeepEqual(got.files, want.files) {
		t.Errorf("files\n%q\na clean run's\n%q", got.files, want.files)
	}
}

// storeWithAlarm is rejectFilter and an alarm on its metric: ten REJECTs
// in a minute.
func storeWithAlarm(t *testing.T, data string) {
	t.Helper()
	rejectFilter(t, data)
	if _, errOut, code := runBinary(t, nil, "logs", "alarm", "put", "--data-dir", data, "--alarm-name", "rejects",
		"--namespace", "VPC", "--metric-name", "Rejects", "--statistic", "Sum", "--period", "60",
		"--evaluation-periods", "1", "--threshold", "10", "--comparison-operator", "GreaterThanOrEqualToThreshold"); code != 0 {
		t.Fatalf("alarm put: %d %s", code, errOut)
	}
}

// killAfter starts the binary with args, SIGKILLs it after d (or lets it
// end first), and says whether it was killed.
func killAfter(t *testing.T, d time.Duration, args ...string) bool {
	t.Helper()
	cmd := exec.Command(vpcflowBinary(t), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v ended before the kill: %v", args, err)
		}
		return false
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return true
	}
}

// killMoment is a random moment within the first [from, to) of a run
// that takes about span on this machine now (the load changes it
// severalfold).
func killMoment(rng *rand.Rand, span time.Duration, from, to float64) time.Duration {
	return time.Duration(float64(span) * (from + rng.Float64()*(to-from))).Round(time.Millisecond)
}

// killRounds runs the binary with args(stored) five times, SIGKILLing each
// run at moment(round, stored) unless it ends first, where stored is how
// many events the data dir holds. After each kill the store opens, holds
// no fewer events than before, its events are a prefix of want's, and the
// datapoints are exactly their contribution. It returns how many events
// are stored at the end.
func killRounds(t *testing.T, data string, want storeState, moment func(round, stored int) time.Duration, args func(stored int) []string) int {
	t.Helper()
	stored, kills := 0, 0
	for round := 1; round <= 5; round++ {
		d := moment(round, stored)
		if killAfter(t, d, args(stored)...) {
			kills++
		}
		st := readStore(t, data)
		name := fmt.Sprintf("kill %d after %v", round, d)
		checkContribution(t, name, st)
		if len(st.events) < stored || len(st.events) > len(want.events) {
			t.Fatalf("%s: %d events stored, %d before, %d in a clean run", name, len(st.events), stored, len(want.events))
		}
		for i, ev := range st.events {
			if w := want.events[i]; ev.Timestamp != w.Timestamp || string(ev.Message) != string(w.Message) {
				t.Fatalf("%s: event %d is %d %q, a clean run's %d %q: the events are not a prefix", name, i, ev.Timestamp, ev.Message, w.Timestamp, w.Message)
			}
		}
		t.Logf("%s: %d of %d events stored", name, len(st.events), len(want.events))
		stored = len(st.events)
	}
	if kills == 0 {
		t.Fatal("no run was killed: each ended before its kill")
	}
	return stored
}

// TestLogsPutKill9: `logs put` of 300 000 events into a group with a metric
// filter and an alarm, SIGKILLed at five random moments. After each kill
// the store opens, its events are a prefix of the input, and the datapoints
// are exactly the stored events' contribution; putting the rest of the
// input then gives what one clean put gives.
func TestLogsPutKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILLs the binary")
	}
	t.Parallel()
	dir := t.TempDir()
	const n = 300000
	const t0 = 1700000400000 // ms
	lines := make([]string, n)
	messages := make([]string, n)
	for i := range lines {
		action := "ACCEPT"
		if i%3 == 0 {
			action = "REJECT"
		}
		ts := int64(t0 + i*10)
		messages[i] = fmt.Sprintf("2 123456789012 eni-0a1b2c3d4e5f60718 198.51.100.%d 10.1.2.15 %d 22 6 1 40 %d %d %s OK",
			i%250, 1024+i%60000, ts/1000, ts/1000, action)
		lines[i] = fmt.Sprintf(`{"timestamp": %d, "message": %q, "logStream": "eni-0a1b2c3d4e5f60718-all"}`, ts, messages[i])
	}
	input := func(from int) string {
		p := filepath.Join(dir, fmt.Sprintf("input-%d.ndjson", from))
		if err := os.WriteFile(p, []byte(strings.Join(lines[from:], "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	clean, data := filepath.Join(dir, "clean"), filepath.Join(dir, "data")
	storeWithAlarm(t, clean)
	storeWithAlarm(t, data)
	all := input(0)
	start := time.Now()
	if _, errOut, code := runBinary(t, nil, "logs", "put", "--data-dir", clean, "--group", "vpc-flow-logs", all); code != 0 {
		t.Fatalf("clean put: %d %s", code, errOut)
	}
	took := time.Since(start)
	want := readStore(t, clean)
	if len(want.events) != n {
		t.Fatalf("a clean put stored %d events of %d", len(want.events), n)
	}
	for i, ev := range want.events {
		if string(ev.Message) != messages[i] || ev.Timestamp != int64(t0+i*10) {
			t.Fatalf("a clean put's event %d is %d %q, not the input's line %d", i, ev.Timestamp, ev.Message, i+1)
		}
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	stored := killRounds(t, data, want,
		func(_, stored int) time.Duration {
			// A put of the rest takes about the share of the clean time.
			return killMoment(rng, took*time.Duration(n-stored)/n, 0.1, 0.9)
		},
		func(stored int) []string {
			return []string{"logs", "put", "--data-dir", data, "--group", "vpc-flow-logs", input(stored)}
		})
	if stored < n {
		if _, errOut, code := runBinary(t, nil, "logs", "put", "--data-dir", data, "--group", "vpc-flow-logs", input(stored)); code != 0 {
			t.Fatalf("put of the rest: %d %s", code, errOut)
		}
	}
	sameResult(t, readStore(t, data), want)
}

// TestPcapStoreKill9: `vpcflow pcap` delivering to the log store (a flow
// log to cloud-watch-logs, a metric filter and an alarm), SIGKILLed at five
// random moments. After each kill the store opens, its events are a prefix
// of a clean run's, and the datapoints are exactly their contribution; a
// rerun delivers what is missing and ends where a clean run ends.
func TestPcapStoreKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("SIGKILLs the binary")
	}
	t.Parallel()
	topo := pingTwoENIs(t)
	const t0 = 1700000400
	// Pings from 4 000 addresses to both interfaces over an hour and a
	// half: 160 000 records in 60 and 600 s windows, every reply REJECTed.
	var pkts []e2e.Packet
	for i := 0; i < 40000; i++ {
		src := fmt.Sprintf("198.51.%d.%d", 100+i%16, i/16%250)
		sec := int64(t0 + i*5400/40000)
		pkts = append(pkts, pings(sec, src, e2e.PingENIMAC, "10.1.2.15")...)
		pkts = append(pkts, pings(sec, src, nitroMAC, "10.1.2.16")...)
	}
	capture := e2e.WritePcap(t, pkts)
	dir := t.TempDir()
	clean, data := filepath.Join(dir, "clean"), filepath.Join(dir, "data")
	storeWithAlarm(t, clean)
	storeWithAlarm(t, data)
	run := []string{"pcap", "--quiet", "--topology", topo, "--data-dir"}
	start := time.Now()
	if _, errOut, code := runBinary(t, nil, append(run, clean, capture)...); code != 0 {
		t.Fatalf("clean run: %d %s", code, errOut)
	}
	took := time.Since(start)
	want := readStore(t, clean)
	checkContribution(t, "clean run", want)

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 4))
	killRounds(t, data, want,
		func(round, _ int) time.Duration {
			// Later and later in the run: each rerun reads the whole
			// capture and delivers only the windows the store lacks.
			return killMoment(rng, took, float64(round-1)/6, float64(round)/6)
		},
		func(int) []string { return append(run, data, capture) })
	if _, errOut, code := runBinary(t, nil, append(run, data, capture)...); code != 0 {
		t.Fatalf("rerun: %d %s", code, errOut)
	}
	sameResult(t, readStore(t, data), want)
}
