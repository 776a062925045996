package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// logsStoreRun runs the binary with env additions and stdin; it returns
// stdout, stderr and the exit status.
func logsStoreRun(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return execBinary(t, execOptions{Env: env, Stdin: []byte(stdin)}, args...)
}

// The example event of docs/aws-behaviour.md, "CloudWatch Logs delivery", and
// more of our own.
const logsStoreInput = `{"timestamp": 1700000040000, "message": "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.23 10.1.2.15 51544 443 6 12 5120 1700000040 1700000098 ACCEPT OK", "logStream": "eni-0a1b2c3d4e5f60718-all", "ignored": {"x": 1}}
{"timestamp": 1700000100000, "message": "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.99 10.1.2.15 40000 22 6 1 40 1700000100 1700000160 REJECT OK", "logStream": "eni-0a1b2c3d4e5f60718-all"}
{"timestamp": "1700000000000", "message": "m"}
{"timestamp": 1700000000000, "message": "2 111122223333 eni-0bbb 10.1.2.16 10.1.2.15 1 2 17 1 40 1700000000 1700000060 ACCEPT OK", "logStream": "eni-0bbb-all"}
not json

{"timestamp": 1, "message": "no stream"}
`

func TestLogsStoreCLI(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VPCFLOW_DATA_DIR=" + dir}
	out, errOut, code := logsStoreRun(t, env, logsStoreInput, "logs", "put", "--group", "/vpc/flow", "-")
	if code != 1 || out != "stored 3 events in /vpc/flow (7 lines read, 3 bad lines skipped)\n" {
		t.Fatalf("put: code %d out %q err %q", code, out, errOut)
	}
	wantErr := `<stdin>:3: field timestamp: want integer epoch milliseconds, got "1700000000000"
<stdin>:5: column 2: invalid JSON: invalid character 'o' in literal null (expecting 'u')
<stdin>:7: field logStream: missing (or give --stream)
vpcflow: 3 bad lines skipped
`
	if errOut != wantErr {
		t.Fatalf("put stderr:\n%s\nwant\n%s", errOut, wantErr)
	}

	// groups, JSON in the aws cli shape.
	out, _, code = logsStoreRun(t, env, "", "logs", "groups", "--output", "json")
	var groups struct {
		LogGroups []map[string]any `json:"logGroups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &groups) != nil || len(groups.LogGroups) != 1 {
		t.Fatalf("groups: %d %s", code, out)
	}
	g := groups.LogGroups[0]
	// storedBytes: the three messages are 113 + 109 + 85 bytes long.
	if g["logGroupName"] != "/vpc/flow" || g["storedBytes"] != float64(113+109+85) ||
		g["arn"] != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flow:*" || g["retentionInDays"] != nil {
		t.Fatalf("group %v", g)
	}

	out, _, _ = logsStoreRun(t, env, "", "logs", "streams", "--group", "/vpc/flow")
	wantStreams := `NAME                       EVENTS  FIRST EVENT               LAST EVENT                LAST INGESTION
eni-0a1b2c3d4e5f60718-all  2       2023-11-14T22:14:00.000Z  2023-11-14T22:15:00.000Z  `
	if !strings.HasPrefix(out, wantStreams) || !strings.Contains(out, "\neni-0bbb-all               1       2023-11-14T22:13:20.000Z") {
		t.Fatalf("streams:\n%s", out)
	}

	// get: the example event, its JSON shape, then the end of the stream.
	out, _, code = logsStoreRun(t, env, "", "logs", "get", "--group", "/vpc/flow", "--stream", "eni-0a1b2c3d4e5f60718-all",
		"--start-from-head", "--limit", "1", "--output", "json")
	var page struct {
		Events []struct {
			Timestamp     int64  `json:"timestamp"`
			Message       string `json:"message"`
			IngestionTime int64  `json:"ingestionTime"`
		} `json:"events"`
		NextForwardToken, NextBackwardToken string
	}
	if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Events) != 1 ||
		page.Events[0].Timestamp != 1700000040000 ||
		page.Events[0].Message != "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.23 10.1.2.15 51544 443 6 12 5120 1700000040 1700000098 ACCEPT OK" ||
		!strings.HasPrefix(page.NextForwardToken, "f/") || len(page.NextForwardToken) != 58 {
		t.Fatalf("get: %d %s", code, out)
	}
	tok := page.NextForwardToken
	out, _, _ = logsStoreRun(t, env, "", "logs", "get", "--group", "/vpc/flow", "--stream", "eni-0a1b2c3d4e5f60718-all",
		"--next-token", tok, "--output", "json")
	if !strings.Contains(out, "REJECT OK") {
		t.Fatalf("second page: %s", out)
	}
	json.Unmarshal([]byte(out), &page)
	out, _, _ = logsStoreRun(t, env, "", "logs", "get", "--group", "/vpc/flow", "--stream", "eni-0a1b2c3d4e5f60718-all",
		"--next-token", page.NextForwardToken, "--output", "json")
	if !strings.Contains(out, `"nextForwardToken": "`+page.NextForwardToken+`"`) || !strings.Contains(out, `"events": []`) {
		t.Fatalf("end of stream: %s", out)
	}

	// filter with a pattern and times in all three syntaxes.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pattern", "REJECT"}, "2023-11-14T22:15:00.000Z  eni-0a1b2c3d4e5f60718-all  2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.99 10.1.2.15 40000 22 6 1 40 1700000100 1700000160 REJECT OK\n"},
		{[]string{"--pattern", "[v, acct, eni, src, dst, sport, dport=443, ...]"}, "2023-11-14T22:14:00.000Z  eni-0a1b2c3d4e5f60718-all  2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.23 10.1.2.15 51544 443 6 12 5120 1700000040 1700000098 ACCEPT OK\n"},
		{[]string{"--start", "1700000000", "--end", "1700000000000"}, "eni-0bbb-all"},
		{[]string{"--start", "2023-11-14T22:14:00Z", "--end", "2023-11-14T22:14:00.000Z"}, "51544"},
	} {
		out, errOut, code := logsStoreRun(t, env, "", append([]string{"logs", "filter", "--group", "/vpc/flow"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || len(lines) != 2 || !strings.Contains(lines[1]+"\n", tc.want) {
			t.Errorf("filter %q: code %d\n%s%s", tc.args, code, out, errOut)
		}
	}

	// tail: the newest two, oldest first.
	out, _, _ = logsStoreRun(t, env, "", "logs", "tail", "--group", "/vpc/flow", "-n", "2")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "51544") || !strings.Contains(lines[1], "REJECT") {
		t.Fatalf("tail:\n%s", out)
	}
}

func TestLogsStoreCLIErrors(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VPCFLOW_DATA_DIR=" + dir}
	// a store to read: reads never make one (TestLogsReadMakesNoStore)
	if _, errOut, code := logsStoreRun(t, env, "", "logs", "put", "--group", "other", "/dev/null"); code != 0 {
		t.Fatal(errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"logs", "filter"}, 2, "--group is required"},
		{[]string{"logs", "filter", "--group", "g", "--pattern", "[a"}, 2, "--pattern: An error occurred (InvalidParameterException) when calling the FilterLogEvents operation: Invalid filter pattern"},
		{[]string{"logs", "filter", "--group", "g", "--start", "yesterday"}, 2, `--start: time "yesterday": want epoch seconds`},
		{[]string{"logs", "filter", "--group", "g", "--start", "20", "--end", "10"}, 2, "--end 10 is before --start 20"},
		{[]string{"logs", "filter", "--group", "nope"}, 1, "ResourceNotFoundException: The specified log group does not exist."},
		{[]string{"logs", "groups", "--output", "yaml"}, 2, `--output "yaml": want table or json`},
		{[]string{"logs", "put", "--group", "bad group", "-"}, 2, "Member must satisfy regular expression pattern"},
		{[]string{"logs", "put", "--group", "g", "/nonexistent/file"}, 1, "no such file"},
		{[]string{"logs", "get", "--group", "g"}, 2, "--group and --stream are required"},
	} {
		_, errOut, code := logsStoreRun(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%q: code %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

// TestLogsStoreCLIDataDirInUse holds the lock with one process (a put
// reading a stdin that stays open) and checks the error another one gets.
func TestLogsStoreCLIDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(vpcflowBinary(t), "logs", "put", "--group", "g", "-")
	cmd.Env = append(os.Environ(), "VPCFLOW_DATA_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	// Wait until the holder has the lock and described itself (its PID on
	// the first line); probing with another command earlier could take
	// the lock from under it.
	pid := strconv.Itoa(cmd.Process.Pid)
	for i := 0; ; i++ {
		b, _ := os.ReadFile(filepath.Join(dir, "LOCK"))
		if first, _, _ := strings.Cut(string(b), "\n"); first == pid && strings.Contains(string(b), "vpcflow logs put") {
			break
		}
		if i == 200 {
			t.Fatalf("holder never took the lock")
		}
		time.Sleep(25 * time.Millisecond)
	}
	_, errOut, code := logsStoreRun(t, []string{"VPCFLOW_DATA_DIR=" + dir}, "", "logs", "groups")
	// The error names the command holding the data dir and its PID.
	want := "vpcflow: data dir " + dir + " is in use by vpcflow logs put (PID " + pid + "): wait for it to finish or stop it\n"
	if code != 1 || errOut != want {
		t.Fatalf("code %d stderr %q, want 1 and %q", code, errOut, want)
	}
}

// TestLogsStoreTailFollow starts tail --follow, adds an event with another
// process and sees it printed.
func TestLogsStoreTailFollow(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VPCFLOW_DATA_DIR=" + dir}
	if _, e, code := logsStoreRun(t, env, `{"timestamp": 1767225600000, "message": "first", "logStream": "s"}`, "logs", "put", "--group", "g", "-"); code != 0 {
		t.Fatal(e)
	}
	cmd := exec.Command(vpcflowBinary(t), "logs", "tail", "--group", "g", "--follow", "--interval", "50ms")
	cmd.Env = append(os.Environ(), env...)
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// tail's first read does not retry a busy data dir, so let it print
	// before another process competes for the lock.
	for i := 0; !strings.Contains(out.String(), "first"); i++ {
		if i == 100 {
			t.Fatalf("tail printed:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The tail holds the lock only briefly; retry the put until it gets in.
	for i := 0; ; i++ {
		_, _, code := logsStoreRun(t, env, `{"timestamp": 1767225601000, "message": "second", "logStream": "s"}`, "logs", "put", "--group", "g", "-")
		if code == 0 {
			break
		}
		if i == 50 {
			t.Fatal("put never got the data dir")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; !strings.Contains(out.String(), "second"); i++ {
		if i == 100 {
			t.Fatalf("tail --follow printed:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := "2026-01-01T00:00:00.000Z s first\n2026-01-01T00:00:01.000Z s second\n"
	if out.String() != want {
		t.Fatalf("tail --follow printed:\n%s\nwant\n%s", out.String(), want)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLogsPutInvalidUTF8: a message with invalid UTF-8 is stored with
// U+FFFD for each bad byte, as CloudWatch Logs stores it, and the summary
// counts it (it used to change silently).
func TestLogsPutInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	env := []string{"VPCFLOW_DATA_DIR=" + dir}
	in := "{\"timestamp\": 1700000000000, \"message\": \"fine \\ufffd\", \"logStream\": \"s\"}\n" +
		"{\"timestamp\": 1700000000001, \"message\": \"bad \xff\xfe\", \"logStream\": \"s\"}\n" +
		"{\"timestamp\": 1700000000002, \"message\": \"lone \\ud800\", \"logStream\": \"s\"}\n"
	out, errOut, code := logsStoreRun(t, env, in, "logs", "put", "--group", "/u", "-")
	want := "stored 3 events in /u (3 lines read, 0 bad lines skipped; 2 message(s) had invalid UTF-8, stored with U+FFFD in its place as CloudWatch Logs does, first at <stdin>:2)\n"
	if code != 0 || out != want {
		t.Fatalf("put: code %d out %q err %q", code, out, errOut)
	}
	out, _, code = logsStoreRun(t, env, "", "logs", "get", "--group", "/u", "--stream", "s", "--start-from-head", "--output", "json")
	var got struct {
		Events []struct{ Message string } `json:"events"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Events) != 3 ||
		got.Events[0].Message != "fine \uFFFD" || got.Events[1].Message != "bad \uFFFD\uFFFD" || got.Events[2].Message != "lone \uFFFD" {
		t.Fatalf("get: %d %s", code, out)
	}
	out, _, code = logsStoreRun(t, env, in, "logs", "put", "--group", "/u", "--output", "json", "-")
	var sum map[string]int
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum["replacedMessages"] != 2 || sum["storedEvents"] != 3 {
		t.Fatalf("put --output json: %d %s", code, out)
	}
}

// TestLogsPutCreatesTheGroup: a put that stores nothing (empty input) still
// leaves the group it names, as create-log-group then put-log-events
// would; it said "stored 0 events in g1" and no g1 existed.
func TestLogsPutCreatesTheGroup(t *testing.T) {
	env := []string{"VPCFLOW_DATA_DIR=" + t.TempDir()}
	out, errOut, code := logsStoreRun(t, env, "", "logs", "put", "--group", "g1", "/dev/null")
	if code != 0 || out != "stored 0 events in g1 (0 lines read, 0 bad lines skipped)\n" {
		t.Fatalf("put: exit %d, %q %q", code, out, errOut)
	}
	out, _, code = logsStoreRun(t, env, "", "logs", "groups", "--output", "json")
	var groups struct {
		LogGroups []struct{ LogGroupName string } `json:"logGroups"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &groups) != nil || len(groups.LogGroups) != 1 || groups.LogGroups[0].LogGroupName != "g1" {
		t.Fatalf("groups: exit %d, %s", code, out)
	}
	// a second put into the existing group is no error
	if out, errOut, code := logsStoreRun(t, env, "", "logs", "put", "--group", "g1", "/dev/null"); code != 0 {
		t.Fatalf("second put: exit %d, %q %q", code, out, errOut)
	}
}

// TestLogsGroupIsAFlag: a group name given as an argument is answered with
// where it goes (it was `unknown command "g1"`).
func TestLogsGroupIsAFlag(t *testing.T) {
	env := []string{"VPCFLOW_DATA_DIR=" + t.TempDir()}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", "filter", "g1"}, `vpcflow: unexpected argument "g1": the log group goes in --group (vpcflow logs filter --group g1)` + "\n"},
		{[]string{"logs", "streams", "g1"}, `vpcflow: unexpected argument "g1": the log group goes in --group (vpcflow logs streams --group g1)` + "\n"},
		{[]string{"logs", "tail", "g1"}, `vpcflow: unexpected argument "g1": the log group goes in --group (vpcflow logs tail --group g1)` + "\n"},
		{[]string{"logs", "metric-filter", "list", "g1"}, `vpcflow: unexpected argument "g1": the log group goes in --group (vpcflow logs metric-filter list --group g1)` + "\n"},
		{[]string{"logs", "filter", "--group", "g1", "REJECT"}, `vpcflow: unexpected argument "REJECT": vpcflow logs filter takes flags only (see --help)` + "\n"},
	} {
		_, errOut, code := logsStoreRun(t, env, "", c.args...)
		if code != 2 || errOut != c.want {
			t.Errorf("%v: exit %d, %q, want %q", c.args, code, errOut, c.want)
		}
	}
}

// TestLogsReadMakesNoStore: a command that only reads, pointed at an
// existing directory that holds no log store, says so and leaves the
// directory as it was (it made a store there and listed nothing).
func TestLogsReadMakesNoStore(t *testing.T) {
	dir := t.TempDir()
	want := "vpcflow: data dir " + dir + " has no log store (no meta.db in it): nothing has been stored there\n"
	for _, args := range [][]string{
		{"logs", "groups", "--data-dir", dir},
		{"logs", "filter", "--data-dir", dir, "--group", "g1"},
		{"logs", "query", "--data-dir", dir, "--group", "g1", "fields @message"},
		{"logs", "metric-filter", "list", "--data-dir", dir},
		{"logs", "alarms", "--data-dir", dir},
	} {
		_, errOut, code := logsStoreRun(t, nil, "", args...)
		if code != 1 || errOut != want {
			t.Errorf("%v: exit %d, %q", args[:2], code, errOut)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the directory got %d entries", len(entries))
	}
}
