package logsvc

import (
	"reflect"
	"testing"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// TestIngestOnceCountsOnce: a capture window delivered again (the same
// flow log, stream and records, in this process and after a restart)
// stores nothing and adds no datapoint; records of the window not
// delivered before are stored and counted, once. Hour 12 holds L1, L2 (two
// rejected SSH) and L4: SSHRejects has 2 samples.
func TestIngestOnceCountsOnce(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.Store().CreateLogGroup("vpc", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	window := evs(hour, l1, l2, l4)
	if res, err := s.IngestOnce("vpc", "fl-1", window); err != nil || res.Stored != 3 {
		t.Fatalf("first delivery: %+v %v", res, err)
	}
	for round := 0; round < 2; round++ {
		res, err := s.IngestOnce("vpc", "fl-1", window)
		if err != nil || res.Stored != 0 || !reflect.DeepEqual(res.Duplicates, []int{0, 1, 2}) {
			t.Fatalf("round %d: %+v %v", round, res, err)
		}
		if n := sshSamples(s); n != 2 {
			t.Fatalf("round %d: %v samples, want 2", round, n)
		}
		s.Close()
		s = open(t, dir)
	}
	defer s.Close()
	// Another capture of the same hour: L1 again (delivered) and L2 at
	// another second (new): one more sample.
	other := evs(hour, l1)
	other = append(other, logstore.InputEvent{Stream: stream, Timestamp: hour + 5000, Message: []byte(l2)})
	res, err := s.IngestOnce("vpc", "fl-1", other)
	if err != nil || res.Stored != 1 || !reflect.DeepEqual(res.Duplicates, []int{0}) {
		t.Fatalf("other records: %+v %v", res, err)
	}
	if n := sshSamples(s); n != 3 {
		t.Errorf("%v samples, want 3", n)
	}
}

// TestCompleteHoldsAlarms: with deliveries under way, the alarm judges a
// period only once Complete says every event before its end is in, and
// then from all of them. Hour 12 gets two rejected SSH from one window and
// ten from a later one (12 >= 10: ALARM); judged when the first window's
// successor arrived, it would have been OK on 2.
func TestCompleteHoldsAlarms(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Complete(hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestOnce("vpc", "fl-60", evs(hour, l1, l2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestOnce("vpc", "fl-60", evs(hour+3600_000, l3)); err != nil {
		t.Fatal(err)
	}
	if ch, err := s.Advance(hour + 2*3600_000); err != nil || len(ch) != 0 {
		t.Fatalf("judged while held: %+v %v", ch, err)
	}
	var late []string
	for i := 0; i < 10; i++ {
		late = append(late, l1)
	}
	if _, err := s.IngestOnce("vpc", "fl-600", evs(hour+1000, late...)); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Complete(hour + 3600_000)
	want := "Threshold Crossed: 1 out of the last 1 datapoints [12 (14/07/19 12:00:00)] was greater than or equal to the threshold (10) (minimum 1 datapoints for ALARM)."
	if err != nil || len(ch) != 1 || ch[0].NewState != metricfilter.StateAlarm || ch[0].Reason != want {
		t.Fatalf("Complete: %+v %v", ch, err)
	}
	// The state change is saved.
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if a := s.Alarms(AlarmFilter{}); len(a) != 1 || a[0].State != metricfilter.StateAlarm || a[0].StateReason != want {
		t.Fatalf("after reopen: %+v", a)
	}
}
