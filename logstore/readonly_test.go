package logstore

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
	"time"
)

// TestReadOnlyOpen: a read-only open of an existing store reads the same
// events and attributes as a writer, refuses every write with ErrReadOnly,
// changes nothing on disk (not even LOCK, nor a day file retention has
// expired: reads hide it, a writer purges it), and shares the dir with
// other readers but not with a writer.
func TestReadOnlyOpen(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0)}
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion, Now: c.now, Owner: "vpcflow logs put (PID 7)"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest("/old", []InputEvent{ev("a", t0-2*dayMs, "expired"), ev("a", t0, "kept")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest("/flow", []InputEvent{ev("eni-1", t0, "one"), ev("eni-2", t0+1, "two"), ev("eni-1", t0+dayMs, "three")}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup("/empty", GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Retention set by a writer that then stopped without purging: the
	// file of t0-2d is expired but still on disk.
	s, err = Open(dir, Options{Account: testAccount, Region: testRegion, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.updateGroup("/old", func(m *groupMeta) error { m.RetentionInDays = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	wantFlow := scanAll(t, s, "/flow", 0, t0+2*dayMs)
	wantStreams, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "/flow"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	before := dirsnap.Take(t, dir)

	ro := Options{Account: testAccount, Region: testRegion, Now: c.now, ReadOnly: true, Owner: "reader"}
	r, err := Open(dir, ro)
	if err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, r, "/flow", 0, t0+2*dayMs); !slices.Equal(got, wantFlow) {
		t.Errorf("read-only scan: %q, want %q", got, wantFlow)
	}
	if got := scanAll(t, r, "/old", 0, t0+2*dayMs); !slices.Equal(got, []string{fmt.Sprintf("%d a kept", t0)}) {
		t.Errorf("read-only scan of /old: %q, want the kept event only", got)
	}
	streams, _, err := r.DescribeLogStreams(DescribeStreamsInput{Group: "/flow"})
	if err != nil || jsonOf(streams) != jsonOf(wantStreams) {
		t.Errorf("read-only streams: %s %v, want %s", jsonOf(streams), err, jsonOf(wantStreams))
	}
	if got := r.GroupNames(); len(got) != 3 {
		t.Errorf("groups: %q, want 3", got)
	}
	fe, err := r.FilterLogEvents(FilterInput{Group: "/flow"})
	if err != nil || len(fe.Events) != 3 {
		t.Errorf("FilterLogEvents: %d events, %v; want 3", len(fe.Events), err)
	}

	// A second reader at once is fine; a writer is refused and told why.
	r2, err := Open(dir, ro)
	if err != nil {
		t.Fatalf("second read-only open: %v", err)
	}
	r2.Close()
	_, err = Open(dir, Options{Account: testAccount, Region: testRegion})
	want := fmt.Sprintf("data dir %s is in use by a process reading it (a read-only open): wait for it to finish", dir)
	var iu *InUseError
	if !errors.As(err, &iu) || err.Error() != want {
		t.Errorf("writer while a reader holds the dir: %v\nwant %s", err, want)
	}

	writes := map[string]error{
		"Ingest":     func() error { _, err := r.Ingest("/flow", []InputEvent{ev("eni-1", t0, "x")}); return err }(),
		"IngestOnce": func() error { _, err := r.IngestOnce("/flow", "fl-1", []InputEvent{ev("eni-1", t0, "x")}); return err }(),
		"PutLogEvents": func() error {
			_, err := r.PutLogEvents("/flow", "eni-1", []PutEvent{{Timestamp: t0, Message: "x"}})
			return err
		}(),
		"CreateLogGroup":        r.CreateLogGroup("/new", GroupOptions{}),
		"DeleteLogGroup":        r.DeleteLogGroup("/flow"),
		"CreateLogStream":       r.CreateLogStream("/flow", "s"),
		"DeleteLogStream":       r.DeleteLogStream("/flow", "eni-1"),
		"PutRetentionPolicy":    r.PutRetentionPolicy("/flow", 1),
		"DeleteRetentionPolicy": r.DeleteRetentionPolicy("/old"),
		"TagLogGroup":           r.TagLogGroup("/flow", map[string]string{"k": "v"}),
		"UntagLogGroup":         r.UntagLogGroup("/flow", []string{"k"}),
		"Purge":                 r.Purge(),
		"SetOwner":              r.SetOwner("x", ""),
	}
	for name, err := range writes {
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "the data dir "+dir+" is open read-only") {
			t.Errorf("%s on a read-only store: %v, want ErrReadOnly naming the dir", name, err)
		}
	}
	if got := scanAll(t, r, "/flow", 0, t0+2*dayMs); !slices.Equal(got, wantFlow) {
		t.Errorf("after the refused writes: %q, want %q", got, wantFlow)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := dirsnap.Take(t, dir); !slices.Equal(after, before) {
		t.Errorf("a read-only open changed the data dir:\nbefore %q\nafter  %q", before, after)
	}

	// A writer holding the dir: the reader is told who.
	w, err := Open(dir, Options{Account: testAccount, Region: testRegion, Now: c.now, Owner: "vpcflow serve (PID 9)"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, ro)
	want = fmt.Sprintf("data dir %s is in use by vpcflow serve (PID 9): wait for it to finish or stop it", dir)
	if !errors.As(err, &iu) || err.Error() != want {
		t.Errorf("reader while a writer holds the dir: %v\nwant %s", err, want)
	}
	w.Close()
}

// TestReadOnlyOpenMissingStore: a read-only open creates nothing; a dir
// without a store, or no dir at all, is a clear error.
func TestReadOnlyOpenMissingStore(t *testing.T) {
	empty := t.TempDir()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, dir := range []string{empty, missing} {
		_, err := Open(dir, Options{Account: testAccount, Region: testRegion, ReadOnly: true})
		want := fmt.Sprintf("logstore: open data dir %s read-only: no log store there (want %s)", dir, filepath.Join(dir, "meta.db"))
		if err == nil || err.Error() != want {
			t.Errorf("read-only open of %s: %v\nwant %s", dir, err, want)
		}
	}
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Errorf("read-only open left %d entries in an empty dir", len(ents))
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open made the missing dir: %v", err)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
