package logstore

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// t0 is 2026-01-01T00:00:00Z in ms.
const t0 = int64(1767225600000)

// The account and region the tests' ARNs are built from.
const (
	testAccount = "123456789012"
	testRegion  = "us-east-1"
)

func openTest(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// reopen closes s cleanly and opens its data dir again.
func reopen(t *testing.T, s *Store, dir string, c *clock) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openTest(t, dir, c)
}

func ev(stream string, ts int64, msg string) InputEvent {
	return InputEvent{Stream: stream, Timestamp: ts, Message: []byte(msg)}
}

func scanAll(t *testing.T, s *Store, g string, lo, hi int64) []string {
	t.Helper()
	var got []string
	err := s.Scan(g, lo, hi, func(e Event) error {
		got = append(got, fmt.Sprintf("%d %s %s", e.Timestamp, e.Stream, e.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestIngestScanReopen(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 5*dayMs)}
	s := openTest(t, dir, c)
	// Out of order, across two days, two streams, one equal timestamp pair.
	res, err := s.Ingest("/vpc/flow", []InputEvent{
		ev("eni-b-all", t0+dayMs+5, "b2"),
		ev("eni-a-all", t0+10, "a1"),
		ev("eni-b-all", t0+10, "b1"),
		ev("eni-a-all", t0+dayMs, "a2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 4 || res.IngestionTime != t0+5*dayMs {
		t.Fatalf("result %+v", res)
	}
	want := []string{
		fmt.Sprintf("%d eni-a-all a1", t0+10),
		fmt.Sprintf("%d eni-b-all b1", t0+10), // same timestamp: request order
		fmt.Sprintf("%d eni-a-all a2", t0+dayMs),
		fmt.Sprintf("%d eni-b-all b2", t0+dayMs+5),
	}
	check := func(s *Store) {
		t.Helper()
		got := scanAll(t, s, "/vpc/flow", 0, 1<<62)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("scan:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Inclusive bounds on both ends.
		got = scanAll(t, s, "/vpc/flow", t0+10, t0+dayMs)
		if len(got) != 3 {
			t.Fatalf("bounded scan: %q", got)
		}
	}
	check(s)
	s = reopen(t, s, dir, c)
	defer s.Close()
	check(s)
	// Sequence numbers continue after a reopen: a new event at an existing
	// timestamp sorts after the old ones.
	if _, err := s.Ingest("/vpc/flow", []InputEvent{ev("eni-a-all", t0+10, "a3")}); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, s, "/vpc/flow", t0+10, t0+10)
	if len(got) != 3 || !strings.HasSuffix(got[2], "a3") {
		t.Fatalf("after reopen: %q", got)
	}
	streams, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "/vpc/flow"})
	if err != nil {
		t.Fatal(err)
	}
	if len(streams) != 2 || streams[0].LogStreamName != "eni-a-all" || *streams[0].FirstEventTimestamp != t0+10 ||
		*streams[0].LastEventTimestamp != t0+dayMs || streams[0].StoredEvents != 3 || streams[0].StoredBytes != 0 {
		t.Fatalf("streams %+v", streams)
	}
	if streams[0].Arn != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow:log-stream:eni-a-all" {
		t.Fatalf("arn %s", streams[0].Arn)
	}
	gs, _, err := s.DescribeLogGroups(DescribeGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	// a1 a2 a3 b1 b2: 10 bytes of messages (storedBytes counts message bytes).
	if len(gs) != 1 || gs[0].StoredBytes != 10 || gs[0].RetentionInDays != 0 ||
		gs[0].Arn != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow:*" ||
		gs[0].LogGroupArn != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow" || gs[0].LogGroupClass != "STANDARD" {
		t.Fatalf("groups %+v", gs)
	}
}

func TestIngestSkipsBadEvents(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	res, err := s.Ingest("g", []InputEvent{
		ev("", t0, "empty stream name"),
		ev("a:b", t0, "colon in stream name"),
		ev("s", -1, "negative"),
		ev("s", t0, ""),
		{Stream: "s", Timestamp: t0, Message: make([]byte, MaxMessageBytes+1)},
		{Stream: "s", Timestamp: t0, Message: make([]byte, MaxMessageBytes)},
		ev("s", t0, "ok"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2 || res.Invalid != 5 || s.Counters().RejectedInvalid != 5 || s.Counters().Ingested != 2 {
		t.Fatalf("%+v %+v", res, s.Counters())
	}
	if _, err := s.Ingest("bad name", nil); err == nil || !strings.Contains(err.Error(), `Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`) {
		t.Fatalf("bad group name: %v", err)
	}
}

func TestLock(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, dir, c)
	// A holder that gave no description is named by its PID.
	_, err := Open(dir, Options{Account: testAccount, Region: testRegion})
	var iu *InUseError
	want := fmt.Sprintf("data dir %s is in use by PID %d: wait for it to finish or stop it", dir, os.Getpid())
	if !errors.As(err, &iu) || err.Error() != want {
		t.Fatalf("second open: %v\nwant %s", err, want)
	}
	s.Close()
	s = openTest(t, dir, c) // released by Close
	s.Close()
}

// TestLockNamesOwner: the second opener's error names what the holder
// recorded, first at Open, then after SetOwner (a server that learned its
// listen address).
func TestLockNamesOwner(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion, Owner: fmt.Sprintf("vpcflow logs put (PID %d)", pid)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, Options{Account: testAccount, Region: testRegion, Owner: "second"})
	want := fmt.Sprintf("data dir %s is in use by vpcflow logs put (PID %d): wait for it to finish or stop it", dir, pid)
	if err == nil || err.Error() != want {
		t.Fatalf("second open: %v\nwant %s", err, want)
	}
	if err := s.SetOwner(fmt.Sprintf("vpcflow serve (PID %d, listening on 127.0.0.1:4566)", pid), "http://127.0.0.1:4566"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{Account: testAccount, Region: testRegion})
	want = fmt.Sprintf("data dir %s is in use by vpcflow serve (PID %d, listening on 127.0.0.1:4566): use its API (--endpoint-url http://127.0.0.1:4566) or stop it", dir, pid)
	var iu *InUseError
	if !errors.As(err, &iu) || err.Error() != want || iu.PID != strconv.Itoa(pid) {
		t.Fatalf("open after SetOwner: %v (%+v)\nwant %s", err, iu, want)
	}
}

// TestLockFileOfOlderVersion: a LOCK written by an older vpcflow holds only
// the PID; the error still names it.
func TestLockFileOfOlderVersion(t *testing.T) {
	e := readLockInfo([]byte("4242\n"))
	e.Dir = "/x"
	if got, want := e.Error(), "data dir /x is in use by PID 4242: wait for it to finish or stop it"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestOpenNeedsIdentity(t *testing.T) {
	for _, o := range []Options{{}, {Account: testAccount}, {Region: testRegion}} {
		if _, err := Open(t.TempDir(), o); err == nil || !strings.Contains(err.Error(), "Options.Account and Options.Region are required") {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

func TestGroupAndStreamAPI(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	cases := []struct {
		name string
		err  error
		f    func() error
	}{
		{"create", nil, func() error { return s.CreateLogGroup("app", GroupOptions{}) }},
		{"duplicate", ErrGroupExists, func() error { return s.CreateLogGroup("app", GroupOptions{}) }},
		{"aws/ reserved", ErrReservedGroupName, func() error { return s.CreateLogGroup("aws/x", GroupOptions{}) }},
		{"stream in missing group", ErrGroupNotFound, func() error { return s.CreateLogStream("nope", "s") }},
		{"stream", nil, func() error { return s.CreateLogStream("app", "s") }},
		{"stream duplicate", ErrStreamExists, func() error { return s.CreateLogStream("app", "s") }},
		{"retention 2 invalid", ErrInvalidRetention, func() error { return s.PutRetentionPolicy("app", 2) }},
		{"retention 3653", nil, func() error { return s.PutRetentionPolicy("app", 3653) }},
		{"delete stream", nil, func() error { return s.DeleteLogStream("app", "s") }},
		{"delete missing stream", ErrStreamNotFound, func() error { return s.DeleteLogStream("app", "s") }},
		{"protected", nil, func() error { return s.CreateLogGroup("prot", GroupOptions{DeletionProtection: true}) }},
		{"delete protected", ErrDeletionProtected, func() error { return s.DeleteLogGroup("prot") }},
		{"delete", nil, func() error { return s.DeleteLogGroup("app") }},
		{"delete again", ErrGroupNotFound, func() error { return s.DeleteLogGroup("app") }},
	}
	for _, tc := range cases {
		if err := tc.f(); err != tc.err {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	if err := s.Scan("app", 0, 1, func(Event) error { return nil }); err != ErrGroupNotFound {
		t.Errorf("scan deleted group: %v", err)
	}
}

func TestDeleteStreamRemovesEvents(t *testing.T) {
	c := &clock{time.UnixMilli(t0)}
	s := openTest(t, t.TempDir(), c)
	defer s.Close()
	if _, err := s.Ingest("g", []InputEvent{ev("a", t0, "x"), ev("b", t0, "y"), ev("a", t0+dayMs, "z")}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLogStream("g", "a"); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, s, "g", 0, 1<<62)
	if len(got) != 1 || !strings.HasSuffix(got[0], " b y") {
		t.Fatalf("%q", got)
	}
	// A new stream of the same name starts empty.
	if _, err := s.Ingest("g", []InputEvent{ev("a", t0, "new")}); err != nil {
		t.Fatal(err)
	}
	if got := scanAll(t, s, "g", 0, 1<<62); len(got) != 2 {
		t.Fatalf("%q", got)
	}
}

func TestGroupName(t *testing.T) {
	s := openTest(t, t.TempDir(), &clock{time.UnixMilli(t0)})
	defer s.Close()
	for _, tc := range []struct{ in, want string }{
		{"/vpc/flow", "/vpc/flow"},
		{"arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow:*", "/vpc/flow"},
		{"arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow", "/vpc/flow"},
		{"arn:aws:logs:eu-west-1:123456789012:log-group:/vpc/flow", ""},
		{"arn:aws:logs:us-east-1:999999999999:log-group:/vpc/flow", ""},
	} {
		got, err := s.GroupName(tc.in)
		if got != tc.want || (tc.want == "") != (err == ErrGroupNotFound) {
			t.Errorf("%s: %q %v", tc.in, got, err)
		}
	}
}

// TestCountEvents: the count is exact over everything, never below what a
// bounded scan gives, 0 outside the data, and survives a reopen.
func TestCountEvents(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 5*dayMs)}
	s := openTest(t, dir, c)
	var in []InputEvent
	for i := range 30 {
		in = append(in, ev(fmt.Sprintf("s%d", i%3), t0+int64(i)*dayMs/10, "m"))
	}
	if _, err := s.Ingest("g", in); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		if n := s.CountEvents("g", 0, 1<<62); n != 30 {
			t.Errorf("all: %d, want 30", n)
		}
		for _, r := range [][2]int64{{t0, t0}, {t0 + dayMs/2, t0 + dayMs + 7}, {t0 + 2*dayMs, t0 + 3*dayMs}} {
			if n, scanned := s.CountEvents("g", r[0], r[1]), len(scanAll(t, s, "g", r[0], r[1])); n < int64(scanned) {
				t.Errorf("%v: count %d below the %d scanned", r, n, scanned)
			}
		}
		if n := s.CountEvents("g", t0+4*dayMs, 1<<62); n != 0 {
			t.Errorf("after the data: %d", n)
		}
		if n := s.CountEvents("missing", 0, 1<<62); n != 0 {
			t.Errorf("missing group: %d", n)
		}
	}
	check(s)
	s = reopen(t, s, dir, c)
	defer s.Close()
	check(s)
}

// TestSplitRange: the ranges tile the asked range in order, their scans
// concatenate to the one scan, and evenly spread events split evenly.
func TestSplitRange(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.UnixMilli(t0 + 5*dayMs)}
	s := openTest(t, dir, c)
	defer s.Close()
	var in []InputEvent
	for i := range 4000 { // two days, four streams, one event every 43.2 s
		in = append(in, ev(fmt.Sprintf("s%d", i%4), t0+int64(i)*dayMs/2000, fmt.Sprint(i)))
	}
	if _, err := s.Ingest("g", in); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{0, 1 << 62}, {t0 + dayMs/3, t0 + dayMs + 5}, {t0, t0}, {t0 + 9*dayMs, t0 + 10*dayMs}} {
		whole := scanAll(t, s, "g", r[0], r[1])
		for _, n := range []int{1, 2, 3, 8, 64} {
			parts := s.SplitRange("g", r[0], r[1], n)
			if len(parts) < 1 || len(parts) > n || parts[0][0] != r[0] || parts[len(parts)-1][1] != r[1] {
				t.Fatalf("%v into %d: %v", r, n, parts)
			}
			var joined []string
			for i, p := range parts {
				if p[0] > p[1] || i > 0 && p[0] != parts[i-1][1]+1 {
					t.Fatalf("%v into %d: part %d is %v in %v", r, n, i, p, parts)
				}
				got := scanAll(t, s, "g", p[0], p[1])
				if len(whole) >= 1000 && n <= 8 {
					if share := float64(len(got)) * float64(n) / float64(len(whole)); share < 0.9 || share > 1.1 {
						t.Errorf("%v into %d: part %d has %d of %d events", r, n, i, len(got), len(whole))
					}
				}
				joined = append(joined, got...)
			}
			if strings.Join(joined, "\n") != strings.Join(whole, "\n") {
				t.Fatalf("%v into %d: the parts' scans differ from the whole scan", r, n)
			}
		}
	}
	if got := s.SplitRange("missing", 5, 9, 4); len(got) != 1 || got[0] != [2]int64{5, 9} {
		t.Errorf("missing group: %v", got)
	}
}
