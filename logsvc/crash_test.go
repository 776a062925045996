package logsvc

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// TestMain lets the test binary act as the writer child of TestCrashMidIngest.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOGSVC_CRASH_CHILD"); dir != "" {
		base, _ := strconv.Atoi(os.Getenv("LOGSVC_CRASH_BASE"))
		crashChild(dir, base)
		return
	}
	if dir := os.Getenv("LOGSVC_REPLAY_CHILD"); dir != "" {
		base, _ := strconv.Atoi(os.Getenv("LOGSVC_REPLAY_BASE"))
		replayChild(dir, base)
		return
	}
	os.Exit(m.Run())
}

const (
	crashBatch   = 50 // events per batch
	crashRejects = 10 // rejected SSH records (L1) per batch
)

// crashChild ingests batches forever, one minute of event time each,
// printing "ack B" after batch B's Ingest returned.
func crashChild(dir string, base int) {
	s, err := Open(dir, Options{Identity: testID})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for b := base; ; b++ {
		var msgs []string
		for i := 0; i < crashBatch; i++ {
			if i < crashRejects {
				msgs = append(msgs, l1)
			} else {
				msgs = append(msgs, l3)
			}
		}
		if _, err := s.Ingest("vpc", evs(hour+int64(b)*60_000, msgs...)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ack", b+1-base)
	}
}

// TestCrashMidIngest SIGKILLs a writer in the middle of its stream (no
// Close) and reopens the data dir: every acknowledged batch has its events
// and its datapoints, and the alarm's state change is still there.
func TestCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	a := sshAlarm()
	a.Period = 60 // each batch's minute has Sum 10, which reaches the threshold
	// A batch lost with its unacknowledged writer leaves a minute without
	// data; "ignore" keeps the state through it.
	a.TreatMissingData = "ignore"
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	s.Close()
	total, base := 0, 0
	for round, killAfter := range []int{3, 40} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGSVC_CRASH_CHILD="+dir, "LOGSVC_CRASH_BASE="+strconv.Itoa(base))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		acked := 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 || f[0] != "ack" {
				t.Fatalf("child: %s", sc.Text())
			}
			acked, _ = strconv.Atoi(f[1])
			if acked == killAfter {
				break
			}
		}
		cmd.Process.Kill() // SIGKILL, while the child writes its next batch
		cmd.Wait()
		total += acked
		// The next round starts after the batch that may be half-written.
		base += acked + 1

		s := open(t, dir)
		var samples float64
		for _, m := range s.MetricStats("VPC", "SSHRejects", nil) {
			samples += m.SampleCount
		}
		// Acknowledged batches are all there. Unacknowledged ones may be
		// too: the child goes on writing between the ack the parent reads
		// and the SIGKILL, more than one batch on a busy machine. Whatever
		// is there, events and datapoints are there together: whole
		// batches, each with its 10 datapoints.
		stored := 0
		s.Store().Scan("vpc", 0, 1<<62, func(logstore.Event) error { stored++; return nil })
		if stored < total*crashBatch || stored%crashBatch != 0 {
			t.Fatalf("round %d: %d events stored, want whole batches of %d, at least %d", round, stored, crashBatch, total*crashBatch)
		}
		if want := stored / crashBatch * crashRejects; samples != float64(want) {
			t.Fatalf("round %d: %v datapoints for %d stored events, want %d", round, samples, stored, want)
		}
		al := s.Alarms(AlarmFilter{})
		if len(al) != 1 || al[0].State != metricfilter.StateAlarm || len(al[0].History) != 1 || al[0].History[0].Timestamp != hour+60_000 {
			t.Fatalf("round %d: alarm = %+v", round, al)
		}
		t.Logf("round %d: killed after %d acknowledged batches; %v datapoints, %d events", round, acked, samples, stored)
		s.Close()
	}
}
