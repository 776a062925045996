package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/vpcflow/vpcflow/internal/dirsnap"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// nobody is the uid and gid the read-only test runs the binary as.
const nobody = 65534

// TestLogsReadOtherUsersDataDir: a user who may read a data dir but not
// write it (another user's) can run every command that only reads: groups,
// streams, filter, get, tail, query, metric-filter list, alarm list and
// history. They used to fail with "open DIR/LOCK: permission denied",
// since every open took the data dir's lock for writing (and identity.json
// was 0600; one left so is named with the fix, and made 0644 by the
// owner's next write). The reader's answers are the owner's, and it leaves the data
// dir as it was.
func TestLogsReadOtherUsersDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: runs the binary as uid 65534 (nobody) on a data dir root owns")
	}
	// The test's temporary dirs (and the built binary's) are 0700: this
	// one is for nobody to reach.
	base, err := os.MkdirTemp("", "vpcflow-readonly")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "vpcflow")
	b, err := os.ReadFile(vpcflowBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "data")

	run := func(uid int, stdin string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + base, "VPCFLOW_DATA_DIR=" + dir}
		cmd.Dir = base
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if uid != 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
		}
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return out.String(), errOut.String(), 0
		case errors.As(err, &ee):
			return out.String(), errOut.String(), ee.ExitCode()
		}
		t.Fatalf("run %q as uid %d: %v", args, uid, err)
		return "", "", -1
	}

	// The owner (root) stores two events, a metric filter and an alarm.
	const input = `{"timestamp": 1700000040000, "message": "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.23 10.1.2.15 51544 443 6 12 5120 1700000040 1700000098 ACCEPT OK", "logStream": "eni-0a1b2c3d4e5f60718-all"}
{"timestamp": 1700000100000, "message": "2 111122223333 eni-0a1b2c3d4e5f60718 198.51.100.99 10.1.2.15 40000 22 6 1 40 1700000100 1700000160 REJECT OK", "logStream": "eni-0a1b2c3d4e5f60718-all"}
`
	if out, errOut, code := run(0, input, "logs", "put", "--group", "/vpc/flow", "-"); code != 0 {
		t.Fatalf("put as root: code %d\n%s%s", code, out, errOut)
	}
	// An identity.json written 0600 (by an older vpcflow) is named with
	// what to do; the owner's next write makes it readable.
	identity := filepath.Join(dir, "identity.json")
	if err := os.Chmod(identity, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := run(nobody, "", "logs", "groups")
	wantErr := fmt.Sprintf("vpcflow: logsvc: data dir %s: identity.json is not readable by this user (an older vpcflow wrote it 0600): the data dir's owner makes it 0644 with any command that writes (vpcflow logs put), or with chmod 644 %s\n", dir, identity)
	if code != 1 || errOut != wantErr {
		t.Errorf("groups as nobody with identity.json 0600: code %d stderr %q\nwant 1 and %q", code, errOut, wantErr)
	}
	for _, args := range [][]string{
		{"logs", "metric-filter", "put", "--group", "/vpc/flow", "--name", "rejects", "--pattern", "REJECT", "--metric-name", "Rejects", "--metric-namespace", "VPC"},
		{"logs", "alarm", "put", "--alarm-name", "rejects", "--metric-name", "Rejects", "--namespace", "VPC", "--statistic", "Sum", "--period", "60", "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold", "--evaluation-periods", "1"},
	} {
		if out, errOut, code := run(0, input, args...); code != 0 {
			t.Fatalf("%q as root: code %d\n%s%s", args, code, out, errOut)
		}
	}
	if fi, err := os.Stat(identity); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("identity.json after the owner's writes: %v %v, want 0644", fi.Mode(), err)
	}
	before := dirsnap.Take(t, dir)

	reads := [][]string{
		{"logs", "groups"},
		{"logs", "groups", "--output", "json"},
		{"logs", "streams", "--group", "/vpc/flow"},
		{"logs", "filter", "--group", "/vpc/flow"},
		{"logs", "filter", "--group", "/vpc/flow", "--pattern", "REJECT"},
		{"logs", "get", "--group", "/vpc/flow", "--stream", "eni-0a1b2c3d4e5f60718-all"},
		{"logs", "tail", "--group", "/vpc/flow"},
		{"logs", "query", "--group", "/vpc/flow", "--start", "1700000000", "--end", "1700000200", "stats count(*)"},
		{"logs", "metric-filter", "list"},
		{"logs", "alarm", "list"},
		{"logs", "alarm", "history"},
	}
	for _, args := range reads {
		wantOut, wantErr, wantCode := run(0, "", args...)
		if wantCode != 0 {
			t.Fatalf("%q as root: code %d\n%s%s", args, wantCode, wantOut, wantErr)
		}
		out, errOut, code := run(nobody, "", args...)
		if code != 0 || out != wantOut || errOut != wantErr {
			t.Errorf("%q as nobody: code %d\nstdout:\n%s\nstderr:\n%s\nwant code 0 and root's output:\n%s%s", args, code, out, errOut, wantOut, wantErr)
		}
	}
	if out, _, _ := run(nobody, "", "logs", "filter", "--group", "/vpc/flow"); !strings.Contains(out, "198.51.100.99") {
		t.Errorf("filter as nobody does not show the stored events:\n%s", out)
	}
	if after := dirsnap.Take(t, dir); !slices.Equal(after, before) {
		t.Errorf("the reads changed the data dir:\nbefore %q\nafter  %q", before, after)
	}
}
