package logsvc

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vpcflow/vpcflow/internal/dirsnap"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/logstore"
)

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readView is what the read-only tests compare between a writer's open and
// a reader's: groups (with their filter counts), events, filters, alarms
// and metric data.
func readView(t *testing.T, s *Service) string {
	t.Helper()
	gs, _, err := s.DescribeLogGroups(logstore.DescribeGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	fe, err := s.FilterLogEvents(FilterLogEventsInput{LogGroupName: "vpc"})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := s.DescribeMetricFilters(DescribeFiltersInput{})
	if err != nil {
		t.Fatal(err)
	}
	al, err := s.DescribeAlarms(DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	return asJSON(t, []any{gs, fe.Events, fs, al, s.MetricStats("VPC", "SSHRejects", nil), s.Identity()})
}

// TestReadOnlyService: a read-only open of a data dir reads what a writer
// reads (events, filters, alarms, metric data), refuses writes with
// logstore.ErrReadOnly, and changes nothing in the data dir; the identity
// file a writer records can be read by anyone (0644).
func TestReadOnlyService(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.CreateLogGroup("vpc", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricFilter(sshFilter(nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMetricAlarm(sshAlarm()); err != nil {
		t.Fatal(err)
	}
	mustIngest(t, s, "vpc", evs(hour, l1, l2, l3, l4))
	want := readView(t, s)
	s.Close()
	if fi, err := os.Stat(filepath.Join(dir, identityFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("identity.json: %v %v, want mode 0644", fi.Mode(), err)
	}
	before := dirsnap.Take(t, dir)

	r, err := Open(dir, Options{ReadOnly: true, Owner: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	if got := readView(t, r); got != want {
		t.Errorf("read-only open reads\n%s\nwant\n%s", got, want)
	}
	writes := map[string]error{
		"Ingest": func() error { _, err := r.Ingest("vpc", evs(hour, l1)); return err }(),
		"PutLogEvents": func() error {
			_, err := r.PutLogEvents("vpc", stream, []logstore.PutEvent{{Timestamp: hour, Message: l1}})
			return err
		}(),
		"CreateLogGroup":     r.CreateLogGroup("/other", logstore.GroupOptions{}),
		"DeleteLogGroup":     r.DeleteLogGroup("vpc"),
		"PutRetentionPolicy": r.PutRetentionPolicy("vpc", 1),
		"PutMetricFilter":    r.PutMetricFilter(sshFilter(ptr(0))),
		"DeleteMetricFilter": r.DeleteMetricFilter("vpc", sshFilter(nil).FilterName),
		"PutMetricAlarm":     r.PutMetricAlarm(sshAlarm()),
		"DeleteAlarms":       r.DeleteAlarms("ssh-rejects"),
		"SetAlarmState":      r.SetAlarmState("ssh-rejects", "ALARM", "test", ""),
		"SetAlarmActions":    r.SetAlarmActions([]string{"ssh-rejects"}, false),
		"Advance":            func() error { _, err := r.Advance(hour + 7_200_000); return err }(),
		"SetOwner":           r.SetOwner("x", ""),
	}
	for name, err := range writes {
		if !errors.Is(err, logstore.ErrReadOnly) || !strings.Contains(err.Error(), "the data dir "+dir+" is open read-only") {
			t.Errorf("%s on a read-only service: %v, want ErrReadOnly naming the dir", name, err)
		}
	}
	if got := readView(t, r); got != want {
		t.Errorf("after the refused writes\n%s\nwant\n%s", got, want)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirsnap.Take(t, dir); !slices.Equal(after, before) {
		t.Errorf("a read-only open changed the data dir:\nbefore %q\nafter  %q", before, after)
	}
}

// TestReadOnlyServiceMissing: a read-only open never makes a data dir, a
// store in an empty dir, identity.json or metrics.db; a store that has
// neither file yet (written by the store alone) is read with the default
// identity.
func TestReadOnlyServiceMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Open(missing, Options{ReadOnly: true, DefaultIdentity: testID})
	var nd *NoDataDirError
	if !errors.As(err, &nd) {
		t.Errorf("missing data dir: %v, want *NoDataDirError", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open made the data dir: %v", err)
	}
	empty := t.TempDir()
	_, err = Open(empty, Options{ReadOnly: true, DefaultIdentity: testID})
	if want := fmt.Sprintf("logstore: open data dir %s read-only: no log store there (want %s)", empty, filepath.Join(empty, "meta.db")); err == nil || err.Error() != want {
		t.Errorf("empty data dir: %v\nwant %s", err, want)
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("read-only open left %d entries in an empty dir", len(ents))
	}

	bare := t.TempDir()
	st, err := logstore.Open(bare, logstore.Options{Account: testID.Account, Region: testID.Region})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Ingest("vpc", evs(hour, l1, l2)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	before := dirsnap.Take(t, bare)
	r, err := Open(bare, Options{ReadOnly: true, DefaultIdentity: testID})
	if err != nil {
		t.Fatal(err)
	}
	fe, err := r.FilterLogEvents(FilterLogEventsInput{LogGroupName: "vpc"})
	if err != nil || len(fe.Events) != 2 {
		t.Errorf("events: %d, %v; want 2", len(fe.Events), err)
	}
	if fs, err := r.DescribeMetricFilters(DescribeFiltersInput{}); err != nil || len(fs) != 0 {
		t.Errorf("filters: %v %v, want none", fs, err)
	}
	if err := r.PutMetricFilter(sshFilter(nil)); !errors.Is(err, logstore.ErrReadOnly) {
		t.Errorf("PutMetricFilter: %v, want ErrReadOnly", err)
	}
	r.Close()
	if after := dirsnap.Take(t, bare); !slices.Equal(after, before) {
		t.Errorf("a read-only open changed the data dir:\nbefore %q\nafter  %q", before, after)
	}
}

// TestIdentityMadeReadable: an identity.json an older vpcflow wrote 0600
// becomes 0644 at the next open for writing (not at a read-only one).
func TestIdentityMadeReadable(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	path := filepath.Join(dir, identityFile)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("after a read-only open: %v %v, want 0600 untouched", fi.Mode(), err)
	}
	open(t, dir).Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("after an open for writing: %v %v, want 0644", fi.Mode(), err)
	}
}
