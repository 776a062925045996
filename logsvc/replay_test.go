package logsvc

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

const replayBatch = 1_000 // events per batch, about one `logs put` transaction's work

// replayBatchEvents is batch b of the replay writer: one minute of event
// time; even minutes hold 10 rejected SSH records (the alarm's threshold),
// odd minutes none, so the alarm changes state every minute and a lost or
// doubled batch shows in its history as well as in the sums.
func replayBatchEvents(b int) []logstore.InputEvent {
	msgs := make([]string, replayBatch)
	for i := range msgs {
		msgs[i] = l3
		if b%2 == 0 && i%(replayBatch/10) == 0 {
			msgs[i] = l1
		}
	}
	return evs(hour+int64(b)*60_000, msgs...)
}

// replayChild ingests batches from base on until it is killed, printing
// "ack B" once batch B is acknowledged.
func replayChild(dir string, base int) {
	s, err := Open(dir, Options{Identity: testID})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for b := base; ; b++ {
		if _, err := s.Ingest("vpc", replayBatchEvents(b)); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ack", b)
	}
}

func replayAlarm() metricfilter.Alarm {
	a := sshAlarm()
	a.Period = 60
	a.TreatMissingData = "notBreaching"
	return a
}

// replayReference computes what the metric filter and the alarm must hold
// for the events stored in dir: a fresh data dir is given the same batches
// (events of one ingestion time), in ingestion order.
func replayReference(t *testing.T, s *Service) ([]metricfilter.MinuteStat, []metricfilter.Evaluator, int) {
	t.Helper()
	byIngest := map[int64][]logstore.InputEvent{}
	n := 0
	err := s.Store().Scan("vpc", 0, 1<<62, func(e logstore.Event) error {
		byIngest[e.IngestionTime] = append(byIngest[e.IngestionTime],
			logstore.InputEvent{Stream: e.Stream, Timestamp: e.Timestamp, Message: append([]byte(nil), e.Message...)})
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var times []int64
	for it := range byIngest {
		times = append(times, it)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	ref := open(t, t.TempDir())
	defer ref.Close()
	ref.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := ref.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	if err := ref.PutMetricAlarm(replayAlarm()); err != nil {
		t.Fatal(err)
	}
	for _, it := range times {
		mustIngest(t, ref, "vpc", byIngest[it])
	}
	return ref.MetricStats("VPC", "SSHRejects", nil), ref.Alarms(AlarmFilter{}), n
}

// TestKillLoopDatapointsMatchEvents SIGKILLs a writer at random moments,
// eight times, and reopens the data dir after each kill: whatever the
// moment (between the event store's commit and the metric data's, during
// the open, mid-transaction), the datapoints, the alarm's state and its
// history are exactly what the stored events give, as a data dir that saw
// the same batches without a crash holds.
func TestKillLoopDatapointsMatchEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricAlarm(replayAlarm()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	base := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGSVC_REPLAY_CHILD="+dir, "LOGSVC_REPLAY_BASE="+strconv.Itoa(base))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acks := make(chan int, 1024)
		go func() {
			defer close(acks)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f := strings.Fields(sc.Text())
				if len(f) == 2 && f[0] == "ack" {
					b, _ := strconv.Atoi(f[1])
					acks <- b
				} else {
					t.Errorf("child: %s", sc.Text())
				}
			}
		}()
		// Wait for one acknowledged batch half the time, so some kills
		// land in the child's open (and any catching up it does).
		if rng.IntN(2) == 0 {
			select {
			case <-acks:
			case <-time.After(10 * time.Second):
				t.Fatal("child acknowledged nothing in 10 s")
			}
		}
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		cmd.Wait()
		last := base - 1
		for b := range acks {
			last = b
		}
		// The batch after the last acknowledged one may be stored or not;
		// the next writer starts after it.
		base = last + 2

		s := open(t, dir)
		wantStats, wantAlarms, stored := replayReference(t, s)
		var samples float64
		gotStats := s.MetricStats("VPC", "SSHRejects", nil)
		for _, m := range gotStats {
			samples += m.Stats.SampleCount
		}
		var want float64
		for _, m := range wantStats {
			want += m.Stats.SampleCount
		}
		t.Logf("round %d: last acknowledged batch %d; %d events stored, %d given to the filters at open, %v datapoints (want %v)",
			round, last, stored, s.replayed, samples, want)
		if !reflect.DeepEqual(gotStats, wantStats) {
			t.Fatalf("round %d: datapoints %v, the stored events give %v", round, samples, want)
		}
		got := s.Alarms(AlarmFilter{})
		for i := range got {
			// When PutMetricAlarm ran is no part of what the events give,
			// nor is the state's date while it is still the one of the
			// alarm's creation.
			if i < len(wantAlarms) {
				got[i].ConfigUpdated = wantAlarms[i].ConfigUpdated
				if len(got[i].History) == 0 && len(wantAlarms[i].History) == 0 {
					got[i].Updated = wantAlarms[i].Updated
				}
			}
		}
		if !reflect.DeepEqual(got, wantAlarms) {
			t.Fatalf("round %d: alarm\n%+v\nthe stored events give\n%+v", round, got, wantAlarms)
		}
		s.Close()
	}
}
