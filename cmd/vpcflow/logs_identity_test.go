package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogsReadMissingDataDir: a command that only reads never creates a
// data dir; a mistyped path is reported, not silently made.
func TestLogsReadMissingDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nowhere")
	for _, args := range [][]string{
		{"logs", "groups"},
		{"logs", "streams", "--group", "g"},
		{"logs", "get", "--group", "g", "--stream", "s"},
		{"logs", "filter", "--group", "g"},
		{"logs", "tail", "--group", "g"},
		{"logs", "tail", "--group", "g", "--follow"},
		{"logs", "query", "--group", "g", "limit 1"},
		{"logs", "metric-filter", "list"},
		{"logs", "metric-filter", "datapoints", "--metric-namespace", "N", "--metric-name", "M"},
		{"logs", "alarm", "list"},
		{"logs", "alarm", "history"},
		{"logs", "alarms"},
	} {
		_, errOut, code := runBinary(t, nil, append(args, "--data-dir", dir)...)
		want := "vpcflow: data dir " + dir + " does not exist: nothing has been stored there\n"
		if code != 1 || errOut != want {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", args, code, errOut, want)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%v created the data dir", args)
		}
	}
}

// TestLogsIdentityFromDataDir: the account and region of ARNs and messages
// are the data dir's, not constants: a data dir recorded for another
// account keeps answering for it, and a new one gets the CLI's defaults.
func TestLogsIdentityFromDataDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "identity.json"), []byte(`{"account": "111122223333", "region": "eu-west-1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dd := []string{"--data-dir", dir}
	alarmRun(t, 0, append([]string{"logs", "put", "--group", "g", alarmEvents(t, t.TempDir(), "e.ndjson", int64(0), mfL1)}, dd...)...)
	out := alarmRun(t, 0, append([]string{"logs", "groups", "--output", "json"}, dd...)...)
	for _, want := range []string{`"arn": "arn:aws:logs:eu-west-1:111122223333:log-group:g:*"`, `"logGroupArn": "arn:aws:logs:eu-west-1:111122223333:log-group:g"`} {
		if !strings.Contains(out, want) {
			t.Errorf("groups lacks %s:\n%s", want, out)
		}
	}
	out = alarmRun(t, 0, append([]string{"logs", "streams", "--group", "g", "--output", "json"}, dd...)...)
	if !strings.Contains(out, `"arn": "arn:aws:logs:eu-west-1:111122223333:log-group:g:log-stream:eni-0d5d75b41f9befe9e-all"`) {
		t.Errorf("streams:\n%s", out)
	}
	alarmRun(t, 0, append([]string{"logs", "alarm", "put", "--alarm-name", "a", "--namespace", "N", "--metric-name", "M", "--statistic", "Sum",
		"--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold"}, dd...)...)
	out = alarmRun(t, 0, append([]string{"logs", "alarm", "list", "--output", "json"}, dd...)...)
	if !strings.Contains(out, `"AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a"`) {
		t.Errorf("alarm list:\n%s", out)
	}
	out = alarmRun(t, 0, append([]string{"logs", "query", "--group", "g", "--output", "json", "fields @log | limit 1"}, dd...)...)
	if !strings.Contains(out, `"value": "111122223333:g"`) {
		t.Errorf("@log:\n%s", out)
	}
	_, errOut, code := runBinary(t, nil, append([]string{"logs", "query", "--group", "nope", "limit 1"}, dd...)...)
	if want := "vpcflow: ResourceNotFoundException: Log group 'nope' does not exist for account ID '111122223333'\n"; code != 1 || errOut != want {
		t.Errorf("missing group: exit %d %q, want %q", code, errOut, want)
	}

	// A new data dir records the CLI's defaults.
	fresh := filepath.Join(t.TempDir(), "new")
	alarmRun(t, 0, "logs", "put", "--group", "g", "--data-dir", fresh, alarmEvents(t, t.TempDir(), "e.ndjson", int64(0), mfL1))
	b, err := os.ReadFile(filepath.Join(fresh, "identity.json"))
	if err != nil || !strings.Contains(string(b), `"account": "123456789012"`) || !strings.Contains(string(b), `"region": "us-east-1"`) {
		t.Errorf("identity.json of a new data dir: %s %v", b, err)
	}
}

// TestCommandFromArgs: openLogService, which has no *cobra.Command, names
// the command of the process in the lock from its arguments.
func TestCommandFromArgs(t *testing.T) {
	saved := os.Args
	defer func() { os.Args = saved }()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"vpcflow", "pcap", "--topology", "x.yaml", "--out", "dir", "a.pcap"}, "vpcflow pcap"},
		{[]string{"vpcflow", "logs", "alarm", "put", "--alarm-name", "a"}, "vpcflow logs alarm put"},
		{[]string{"vpcflow"}, "vpcflow"},
	} {
		os.Args = tc.args
		if got := commandFromArgs(); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
}
