package logsvc

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// copyTree copies dir to a new directory while its Service is open: the
// data dir as a process killed at that moment leaves it (every
// acknowledged write is on disk).
func copyTree(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// TestHoldSurvivesKill: a delivery stores minute 0's REJECT of a 60 s
// window, then later minutes, while minute 0's 600 s window (another
// REJECT) is still open, so it holds the alarms at minute 0; the metric
// data of the later minutes is not saved when the process is killed. The
// next open catches the filters up with those minutes: without the hold it
// judged minute 0 on its one REJECT (OK), and the rerun's second REJECT
// came too late. With the hold kept in metrics.db, minute 0 waits, and the
// rerun ends as the delivery that was not killed does (ALARM on minute 0's
// Sum of 2).
func TestHoldSurvivesKill(t *testing.T) {
	dir := t.TempDir()
	f := failing{}
	s := openWatching(t, dir, f)
	a := replayAlarm()
	a.Threshold = 2
	if err := s.PutMetricAlarm(a); err != nil {
		t.Fatal(err)
	}
	complete := func(s *Service, t0 int64) {
		t.Helper()
		if _, err := s.Complete(t0); err != nil {
			t.Fatal(err)
		}
	}
	complete(s, math.MinInt64) // the delivery starts
	mustIngest(t, s, "vpc", evs(hour+1000, l1))
	complete(s, hour) // the 600 s window of minute 0 is still open
	f["save metric data"] = true
	if _, err := s.Ingest("vpc", evs(hour+5*60_000, l3)); err == nil {
		t.Fatal("the metric data was saved")
	}
	f["save metric data"] = false
	killed := copyTree(t, dir)

	// What the delivery gives when it is not killed.
	rest := func(s *Service) {
		t.Helper()
		mustIngest(t, s, "vpc", evs(hour+2000, l2)) // the 600 s window
		complete(s, hour+600_000)
	}
	rest(s)
	want := s.Alarms(AlarmFilter{})
	s.Close()

	r, err := Open(killed, Options{Identity: testID})
	if err != nil {
		t.Fatal(err)
	}
	if w := r.Warnings(); len(w) != 1 || !strings.Contains(w[0], "alarms judge no new period: a flow-log delivery into this data dir was interrupted") {
		t.Errorf("warnings %q", w)
	}
	if got := r.Alarms(AlarmFilter{}); len(got) != 1 || len(got[0].History) != 0 {
		t.Fatalf("minute 0 judged before its 600 s window: %+v", got)
	}
	complete(r, math.MinInt64) // the rerun starts
	rest(r)
	got := r.Alarms(AlarmFilter{})
	r.Close()
	if len(want) != 1 || len(want[0].History) == 0 || !strings.Contains(want[0].History[0].Reason, "[2 (14/07/19 12:00:00)]") {
		t.Fatalf("not killed, minute 0 is not judged on its two REJECTs: %+v", want)
	}
	if len(got) != 1 {
		t.Fatalf("after the rerun: %+v", got)
	}
	got[0].ConfigUpdated = want[0].ConfigUpdated
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after the kill and a rerun\n%+v\nnot killed\n%+v", got, want)
	}

	// A clean end lifts the hold: the next open has none.
	r2 := open(t, killed)
	r2.Close()
}
