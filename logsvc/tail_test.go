package logsvc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logstore"
)

// t2026 is 2026-01-01T00:00:00Z in ms: after 2024, so the newest events
// are read backwards.
const t2026 = int64(1767225600000)

func tailEvent(ts int64, msg string) []logstore.InputEvent {
	return []logstore.InputEvent{{Stream: "s", Timestamp: ts, Message: []byte(msg)}}
}

func messages(evs []logstore.FilteredEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Message)
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTail(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	mustIngest(t, s, "g", tailEvent(t2026+2000, "third"))
	mustIngest(t, s, "g", tailEvent(t2026, "first"))
	mustIngest(t, s, "g", tailEvent(t2026+1000, "second ERROR"))
	for _, tc := range []struct {
		in   TailInput
		want []string
	}{
		{TailInput{LogGroupName: "g", Lines: 2}, []string{"second ERROR", "third"}},
		{TailInput{LogGroupName: "g"}, []string{"first", "second ERROR", "third"}},
		{TailInput{LogGroupName: "g", FilterPattern: "ERROR"}, []string{"second ERROR"}},
		{TailInput{LogGroupName: "g", StartTime: i64(t2026 + 1000)}, []string{"second ERROR", "third"}},
	} {
		evs, err := s.Tail(tc.in)
		if got := messages(evs); err != nil || !sameStrings(got, tc.want) {
			t.Errorf("Tail(%+v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	// Events before 2024 cannot be read backwards from a start time (an
	// AWS rule); Tail reads them forwards instead.
	mustIngest(t, s, "old", evs(hour, l1, l2, l3))
	got, err := s.Tail(TailInput{LogGroupName: "old", Lines: 2, StartTime: i64(hour)})
	if m := messages(got); err != nil || !sameStrings(m, []string{l2, l3}) {
		t.Errorf("before 2024: %q, %v", m, err)
	}
	if _, err := s.Tail(TailInput{LogGroupName: "nope"}); err != logstore.ErrGroupNotFound {
		t.Errorf("missing group: %v", err)
	}
	var pe *filterpattern.Error
	if _, err := s.Tail(TailInput{LogGroupName: "g", FilterPattern: "[a"}); !errors.As(err, &pe) {
		t.Errorf("bad pattern: %v", err)
	}
}

// collect runs a follow in the background and hands over what it delivers.
func collect(t *testing.T, follow func(context.Context, func(logstore.FilteredEvent) error) error) (<-chan string, context.CancelFunc, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	got := make(chan string, 16)
	done := make(chan error, 1)
	go func() {
		done <- follow(ctx, func(e logstore.FilteredEvent) error {
			got <- e.Message
			return nil
		})
	}()
	return got, cancel, done
}

// next waits (at most 10 s) for the next delivered message.
func next(t *testing.T, got <-chan string) string {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("nothing delivered within 10 s")
		return ""
	}
}

// TestFollow: Follow delivers the newest events, then events stored after
// it started, until its context is done. An event stored later with an
// older timestamp than one already delivered is not delivered.
func TestFollow(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	mustIngest(t, s, "g", tailEvent(t2026, "first"))
	got, cancel, done := collect(t, func(ctx context.Context, fn func(logstore.FilteredEvent) error) error {
		return s.Follow(ctx, TailInput{LogGroupName: "g", Interval: 10 * time.Millisecond}, fn)
	})
	if m := next(t, got); m != "first" {
		t.Fatalf("first delivery %q", m)
	}
	mustIngest(t, s, "g", tailEvent(t2026-1, "late"))
	mustIngest(t, s, "g", tailEvent(t2026+1000, "second"))
	if m := next(t, got); m != "second" {
		t.Fatalf("second delivery %q, want second", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow returned %v", err)
	}
	select {
	case m := <-got:
		t.Errorf("also delivered %q", m)
	default:
	}
}

// TestFollowDir: FollowDir holds the data dir only while it looks, so a
// writer in between gets in (retrying while a look holds it), and what it
// writes is delivered.
func TestFollowDir(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	mustIngest(t, s, "g", tailEvent(t2026, "first"))
	s.Close()
	got, cancel, done := collect(t, func(ctx context.Context, fn func(logstore.FilteredEvent) error) error {
		return FollowDir(ctx, dir, Options{}, TailInput{LogGroupName: "g", Interval: 10 * time.Millisecond}, fn)
	})
	if m := next(t, got); m != "first" {
		t.Fatalf("first delivery %q", m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, err := Open(dir, Options{})
		var inUse *logstore.InUseError
		if errors.As(err, &inUse) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		mustIngest(t, w, "g", tailEvent(t2026+1000, "second"))
		w.Close()
		break
	}
	if m := next(t, got); m != "second" {
		t.Fatalf("second delivery %q, want second", m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("FollowDir returned %v", err)
	}
	// The first look is not retried: a missing data dir is an error.
	err := FollowDir(context.Background(), dir+"/missing", Options{}, TailInput{LogGroupName: "g"}, func(logstore.FilteredEvent) error { return nil })
	var nd *NoDataDirError
	if !errors.As(err, &nd) {
		t.Errorf("missing data dir: %v", err)
	}
}

// TestParseTime checks the commands' time syntax (epoch seconds, epoch ms
// above 10^10, RFC 3339); expected values computed by hand.
func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1700000000", want: 1_700_000_000_000},
		{in: "10000000000", want: 10_000_000_000_000}, // exactly 10^10: still seconds
		{in: "10000000001", want: 10_000_000_001},     // above: milliseconds
		{in: " 1700000000 ", want: 1_700_000_000_000},
		{in: "2023-11-14T22:13:20.5Z", want: 1_700_000_000_500},
		{in: "2023-11-15T00:13:20+02:00", want: 1_700_000_000_000},
		{in: "", bad: true},
		{in: "-5", bad: true},
		{in: "1969-12-31T23:59:59Z", bad: true},
		{in: "2023-11-14", bad: true},
	} {
		got, err := ParseTime(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: got %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"10m", 1_700_000_000_000 - 600_000},
		{"1h30m", 1_700_000_000_000 - 5_400_000},
		{"1699999999", 1_699_999_999_000},
	} {
		if got, err := ParseSince(tc.in, now); err != nil || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseSince("-1m", now); err == nil {
		t.Error("negative duration accepted")
	}
}
