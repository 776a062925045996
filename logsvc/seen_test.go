package logsvc

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/dirsnap"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// failing fails the named steps (see logstore.Options.Fault) while its
// entry is true.
type failing map[string]bool

var errFull = errors.New("no space left on device")

func (f failing) hook(step string) error {
	if f[step] {
		return errFull
	}
	return nil
}

func openFailing(t *testing.T, dir string, f failing, now func() time.Time) *Service {
	t.Helper()
	s, err := Open(dir, Options{Identity: testID, Store: logstore.Options{Fault: f.hook, Now: now}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// openWatching is openFailing on a data dir with the group vpc and the
// SSH filter on it.
func openWatching(t *testing.T, dir string, f failing) *Service {
	t.Helper()
	s := openFailing(t, dir, f, nil)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	return s
}

func sshSamples(s *Service) float64 {
	var n float64
	for _, m := range s.MetricStats("VPC", "SSHRejects", nil) {
		n += m.Stats.SampleCount
	}
	return n
}

// TestMetricSaveFailure: the events are stored but metrics.db cannot be
// written. Ingest says so (*MetricSaveError, with the count); nothing is
// lost: the next write saves the data, and a data dir closed (or killed)
// right after the failure gets it back from the events at open.
func TestMetricSaveFailure(t *testing.T) {
	for _, next := range []string{"ingest", "reopen"} {
		t.Run(next, func(t *testing.T) {
			dir := t.TempDir()
			f := failing{}
			s := openWatching(t, dir, f)
			f["save metric data"] = true
			_, err := s.Ingest("vpc", evs(hour, l1, l2, l3))
			var se *MetricSaveError
			if !errors.As(err, &se) || se.Events != 3 || !errors.Is(err, errFull) || !strings.Contains(err.Error(), "3 events stored in vpc") {
				t.Fatalf("Ingest: %v", err)
			}
			f["save metric data"] = false
			if next == "ingest" {
				mustIngest(t, s, "vpc", evs(hour+1000, l1))
				if n := sshSamples(s); n != 3 {
					t.Fatalf("%v datapoints, want 3", n)
				}
			}
			s.Close() // nothing saved at close: as good as a kill
			if next == "reopen" {
				// A reader first: it sees what the events give, and
				// leaves the catching up to save to the writer.
				before := dirsnap.Take(t, dir)
				r, err := Open(dir, Options{ReadOnly: true})
				if err != nil {
					t.Fatal(err)
				}
				if n := sshSamples(r); n != 2 {
					t.Errorf("read-only open: %v datapoints, want 2", n)
				}
				r.Close()
				if after := dirsnap.Take(t, dir); !slices.Equal(before, after) {
					t.Errorf("a read-only open changed the data dir:\n%q\n%q", before, after)
				}
			}
			s = open(t, dir)
			defer s.Close()
			want := 2.0
			if next == "ingest" {
				want = 3
			}
			if n := sshSamples(s); n != want {
				t.Fatalf("after reopen: %v datapoints, want %v", n, want)
			}
			if next == "reopen" && s.replayed != 3 {
				t.Errorf("%d events given to the filters at open, want 3", s.replayed)
			}
		})
	}
}

// TestFailedWriteCountsStoredDays: a batch over two days whose second day
// fails to store; the first day's events are stored, and the filters count
// them at once (the next batch's mark would otherwise pass over them).
func TestFailedWriteCountsStoredDays(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openWatching(t, dir, f)
	writes := 0
	s.store.Close()
	st, err := logstore.Open(dir, logstore.Options{Account: testID.Account, Region: testID.Region, Fault: func(step string) error {
		if step == "write day file" {
			writes++
			if writes == 2 {
				return errFull
			}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.store = st
	batch := append(evs(hour, l1, l2), evs(hour+86_400_000, l1)...)
	res, err := s.Ingest("vpc", batch)
	var ie *logstore.IngestError
	if !errors.As(err, &ie) || ie.Stored != 2 || res.Stored != 2 {
		t.Fatalf("Ingest = %+v, %v", res, err)
	}
	if n := sshSamples(s); n != 2 {
		t.Fatalf("%v datapoints, want the 2 of the stored day", n)
	}
	mustIngest(t, s, "vpc", evs(hour+2*86_400_000, l1))
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if n := sshSamples(s); n != 3 || s.replayed != 0 {
		t.Fatalf("after reopen: %v datapoints (want 3), %d replayed (want 0)", n, s.replayed)
	}
}

// TestCatchUpNotRetroactive: events stored before a filter existed are not
// given to it at open, even when a crash left a later batch unseen.
func TestCatchUpNotRetroactive(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openFailing(t, dir, f, nil)
	mustIngest(t, s, "vpc", evs(hour, l1, l1, l1)) // no filter yet
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	f["save metric data"] = true
	s.Ingest("vpc", evs(hour+1000, l1))
	s.Close()
	s = open(t, dir)
	if n := sshSamples(s); n != 1 || s.replayed != 1 {
		t.Fatalf("%v datapoints (want 1), %d replayed (want 1)", n, s.replayed)
	}
	// The same for a group that the first alarm makes watched.
	mustIngest(t, s, "quiet", evs(hour, l3, l3, l3))
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openFailing(t, dir, f, nil)
	s.Ingest("quiet", evs(hour+2000, l3))
	s.Close()
	f["save metric data"] = false
	s = open(t, dir)
	defer s.Close()
	if s.replayed != 1 {
		t.Fatalf("%d events given to the filters at open, want 1", s.replayed)
	}
}

// TestCatchUpNewGroupUnderAlarm: with an alarm defined every group is
// watched; a group created by the crashed batch has no mark, so all its
// events are the filters' (here they move the alarm's watermark).
func TestCatchUpNewGroupUnderAlarm(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openWatching(t, dir, f)
	a := replayAlarm()
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l1, l1, l1, l1, l1, l1, l1, l1, l1))
	f["save metric data"] = true
	s.Ingest("other", evs(hour+120_000, l3)) // a new group; closes minute 0
	s.Close()
	s = open(t, dir)
	defer s.Close()
	al := s.Alarms(AlarmFilter{})
	if s.replayed != 1 || len(al) != 1 || al[0].State != metricfilter.StateOK || len(al[0].History) != 2 {
		t.Fatalf("replayed %d, alarms %+v", s.replayed, al)
	}
}

// TestCatchUpRecreatedGroup: a mark belongs to one group; a new group of
// the same name starts from nothing.
func TestCatchUpRecreatedGroup(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openWatching(t, dir, f)
	mustIngest(t, s, "vpc", evs(hour, l1, l1, l1, l1))
	// Through the store: as if the service crashed between deleting the
	// group and deleting its mark.
	if err := s.Store().DeleteLogGroup("vpc"); err != nil {
		t.Fatal(err)
	}
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	f["save metric data"] = true
	s.Ingest("vpc", evs(hour+60_000, l1))
	s.Close()
	s = open(t, dir)
	defer s.Close()
	// Datapoints outlive their group: 4 + the replayed 1.
	if n := sshSamples(s); n != 5 || s.replayed != 1 {
		t.Fatalf("%v datapoints (want 5), %d replayed (want 1)", n, s.replayed)
	}
}

// TestCatchUpAfterRetention: retention removed the day file with the
// group's highest sequence numbers, so the store's counter comes back lower
// than the mark; new events must still number above it, or a batch lost in
// a crash would never be replayed.
func TestCatchUpAfterRetention(t *testing.T) {
	dir := t.TempDir()
	now := time.UnixMilli(hour)
	clock := func() time.Time { return now }
	f := failing{}
	s := openFailing(t, dir, f, clock)
	if err := s.Store().CreateLogGroup("vpc", logstore.GroupOptions{RetentionInDays: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l1, l1, l1, l1))
	s.Close()
	now = now.Add(72 * time.Hour)
	s = openFailing(t, dir, f, clock) // removes the expired day file
	s.Close()
	s = openFailing(t, dir, f, clock) // no day file: the store's counter starts at 0
	f["save metric data"] = true
	s.Ingest("vpc", evs(now.UnixMilli(), l1))
	s.Close()
	f["save metric data"] = false
	s = openFailing(t, dir, f, clock)
	defer s.Close()
	if s.replayed != 1 {
		t.Fatalf("%d events given to the filters at open, want 1", s.replayed)
	}
}

// TestCatchUpFirstOpenOfOldDataDir: a data dir written before marks
// existed gets them at its first open and replays nothing it had counted.
func TestCatchUpFirstOpenOfOldDataDir(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l1))
	// What an older vpcflow left: no marks, no version key.
	if err := s.db.Update(func(tx *boltTx) error {
		if err := tx.DeleteBucket(bSeen); err != nil {
			return err
		}
		if _, err := tx.CreateBucket(bSeen); err != nil {
			return err
		}
		return tx.Bucket(bState).Delete(kSeenVer)
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	if n := sshSamples(s); n != 2 || s.replayed != 0 {
		t.Fatalf("%v datapoints (want 2), %d replayed", n, s.replayed)
	}
	mustIngest(t, s, "vpc", evs(hour+1000, l1))
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if n := sshSamples(s); n != 3 {
		t.Fatalf("%v datapoints, want 3", n)
	}
}

// TestFailedFilterAndAlarmWritesLeaveNoTrace: PutMetricFilter,
// PutMetricAlarm and DeleteAlarms that cannot write metrics.db change
// nothing, in memory or after a reopen.
func TestFailedFilterAndAlarmWritesLeaveNoTrace(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openFailing(t, dir, f, nil)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	before := s.Alarms(AlarmFilter{})
	f["save metric data"] = true
	if err := s.PutMetricFilter(sshFilter(nil)); !errors.Is(err, errFull) {
		t.Fatalf("PutMetricFilter: %v", err)
	}
	other := sshAlarm()
	other.AlarmName = "other"
	if err := s.PutMetricAlarm(other); !errors.Is(err, errFull) {
		t.Fatalf("PutMetricAlarm: %v", err)
	}
	changed := sshAlarm()
	changed.Threshold = 99
	if err := s.PutMetricAlarm(changed); !errors.Is(err, errFull) {
		t.Fatalf("PutMetricAlarm (update): %v", err)
	}
	if err := s.DeleteAlarms("ssh-rejects"); !errors.Is(err, errFull) {
		t.Fatalf("DeleteAlarms: %v", err)
	}
	check := func(s *Service, when string) {
		if fs, _ := s.DescribeMetricFilters(DescribeFiltersInput{}); len(fs) != 0 {
			t.Errorf("%s: filters %+v", when, fs)
		}
		if got := s.Alarms(AlarmFilter{}); !reflect.DeepEqual(got, before) {
			t.Errorf("%s: alarms %+v, want %+v", when, got, before)
		}
	}
	check(s, "before reopen")
	s.Close()
	s = open(t, dir)
	defer s.Close()
	check(s, "after reopen")
}

type boltTx = bolt.Tx
