package main

import "testing"

// TestParseLogsTime checks --start/--end syntax ([Choice]: epoch seconds,
// epoch ms above 10^10, RFC 3339); expected values computed by hand.
func TestParseLogsTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0", want: 0},
		{in: "1700000000", want: 1_700_000_000_000},
		{in: "10000000000", want: 10_000_000_000_000}, // exactly 10^10: still seconds
		{in: "10000000001", want: 10_000_000_001},     // above: milliseconds
		{in: "1700000000123", want: 1_700_000_000_123},
		{in: " 1700000000 ", want: 1_700_000_000_000},
		{in: "2023-11-14T22:13:20Z", want: 1_700_000_000_000},
		{in: "2023-11-14T22:13:20.5Z", want: 1_700_000_000_500},
		{in: "2023-11-15T00:13:20+02:00", want: 1_700_000_000_000},
		{in: "1970-01-01T00:00:00Z", want: 0},
		{in: "", bad: true},
		{in: "-5", bad: true},
		{in: "1969-12-31T23:59:59Z", bad: true},
		{in: "2023-11-14", bad: true},
		{in: "2023-11-14 22:13:20", bad: true},
		{in: "1.5", bad: true},
		{in: "99999999999999999999", bad: true},
	} {
		got, err := parseLogsTime(tc.in)
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

func TestLogsDataDir(t *testing.T) {
	t.Setenv("VPCFLOW_DATA_DIR", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := logsDataDir(""); d != "/home/u/.local/share/vpcflow" {
		t.Errorf("default %s", d)
	}
	t.Setenv("VPCFLOW_DATA_DIR", "/data")
	if d, _ := logsDataDir(""); d != "/data" {
		t.Errorf("env %s", d)
	}
	if d, _ := logsDataDir("/flag"); d != "/flag" {
		t.Errorf("flag %s", d)
	}
}

func FuzzParseLogsTime(f *testing.F) {
	for _, s := range []string{"0", "1700000000", "10000000001", "2023-11-14T22:13:20.5Z", "-1", "2023-13-45T99:99:99Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseLogsTime(s)
		if err == nil && ms < 0 {
			t.Fatalf("%q gave negative %d", s, ms)
		}
	})
}

func FuzzParsePutLine(f *testing.F) {
	for _, s := range []string{
		`{"timestamp": 1700000040000, "message": "m", "logStream": "s"}`,
		`{"timestamp": 1, "message": ""}`, `{"timestamp": "x"}`, `not json`, `[]`, `{"timestamp": 1e3, "message": "m"}`,
		`{"timestamp": 1, "message": "m", "logStream": "a:b"}`, `{"timestamp": 1, "message": "m", "logStream": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := parsePutLine(b, "")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if ev.Timestamp < 0 || len(ev.Message) == 0 || ev.Stream == "" {
			t.Fatalf("accepted a bad event %+v from %q", ev, b)
		}
	})
}
