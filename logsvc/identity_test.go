package logsvc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/logstore"
)

// TestIdentityRecorded: the first open records the identity; later opens
// without one use it; an open asking for another one is refused, naming
// both and the data dir; a default applies only to a new data dir.
func TestIdentityRecorded(t *testing.T) {
	dir := t.TempDir()
	eu := Identity{Account: "111122223333", Region: "eu-west-1"}
	s, err := Open(dir, Options{Identity: eu})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLogGroup("vpc", logstore.GroupOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := os.ReadFile(filepath.Join(dir, "identity.json"))
	if want := "{\n  \"account\": \"111122223333\",\n  \"region\": \"eu-west-1\"\n}\n"; err != nil || string(b) != want {
		t.Fatalf("identity.json = %q, %v; want %q", b, err, want)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "identity.json.tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	// No identity given, and a default that must not win over the record.
	s, err = Open(dir, Options{DefaultIdentity: testID})
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity() != eu {
		t.Errorf("Identity() = %+v, want %+v", s.Identity(), eu)
	}
	gs, _, err := s.DescribeLogGroups(logstore.DescribeGroupsInput{})
	if err != nil || len(gs) != 1 || gs[0].Arn != "arn:aws:logs:eu-west-1:111122223333:log-group:vpc:*" ||
		gs[0].LogGroupArn != "arn:aws:logs:eu-west-1:111122223333:log-group:vpc" {
		t.Errorf("groups = %+v, %v", gs, err)
	}
	if got := s.AlarmArn("a"); got != "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a" {
		t.Errorf("AlarmArn = %s", got)
	}
	s.Close()

	_, err = Open(dir, Options{Identity: testID})
	var mm *IdentityMismatchError
	want := fmt.Sprintf("data dir %s belongs to account 111122223333 in region eu-west-1, not account 123456789012 in region us-east-1: use another data dir, or the recorded account and region", dir)
	if !errors.As(err, &mm) || err.Error() != want {
		t.Fatalf("conflicting identity: %v\nwant %s", err, want)
	}
	// The same identity, given explicitly, is fine.
	s, err = Open(dir, Options{Identity: eu})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestIdentityRequired: a new data dir needs an identity from the caller;
// the package has no default, and makes nothing before it knows one.
func TestIdentityRequired(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	_, err := Open(dir, Options{})
	if want := "logsvc: data dir " + dir + " has no account and region yet: give them in Options.Identity"; err == nil || err.Error() != want {
		t.Fatalf("no identity: %v\nwant %s", err, want)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data dir was created: %v", err)
	}
	s, err := Open(dir, Options{DefaultIdentity: Identity{Account: "444455556666", Region: "ap-southeast-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity() != (Identity{Account: "444455556666", Region: "ap-southeast-2"}) {
		t.Errorf("Identity() = %+v", s.Identity())
	}
	s.Close()

	for _, id := range []Identity{{Account: "12345", Region: "us-east-1"}, {Account: "123456789012", Region: "US East"}, {Account: "123456789012"}} {
		if _, err := Open(t.TempDir(), Options{Identity: id}); err == nil {
			t.Errorf("%+v accepted", id)
		}
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "identity.json"), []byte("{"), 0o644)
	if _, err := Open(bad, Options{Identity: testID}); err == nil || !strings.Contains(err.Error(), "identity.json") {
		t.Errorf("corrupt identity.json: %v", err)
	}
}

// TestReadOnlyOpenOfMissingDir: MustExist refuses a data dir that does not
// exist, and creates nothing.
func TestReadOnlyOpenOfMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := Open(dir, Options{Identity: testID, MustExist: true})
	var nd *NoDataDirError
	if !errors.As(err, &nd) || err.Error() != "data dir "+dir+" does not exist: nothing has been stored there" {
		t.Fatalf("open: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the data dir was created: %v", err)
	}
	// An existing data dir opens for reading.
	s := open(t, dir)
	s.Close()
	s, err = Open(dir, Options{MustExist: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestLockNamesOwner: two opens of one data dir in this process; the
// second is told who holds it, first as given at Open, then as a server
// names itself once it listens.
func TestLockNamesOwner(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	s, err := Open(dir, Options{Identity: testID, Owner: fmt.Sprintf("vpcflow logs put (PID %d)", pid)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(dir, Options{MustExist: true})
	var iu *logstore.InUseError
	want := fmt.Sprintf("data dir %s is in use by vpcflow logs put (PID %d): wait for it to finish or stop it", dir, pid)
	if !errors.As(err, &iu) || err.Error() != want {
		t.Fatalf("second open: %v\nwant %s", err, want)
	}
	if err := s.SetOwner(fmt.Sprintf("vpcflow serve (PID %d, listening on 127.0.0.1:4566)", pid), "http://127.0.0.1:4566"); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, Options{})
	want = fmt.Sprintf("data dir %s is in use by vpcflow serve (PID %d, listening on 127.0.0.1:4566): use its API (--endpoint-url http://127.0.0.1:4566) or stop it", dir, pid)
	if err == nil || err.Error() != want {
		t.Fatalf("after SetOwner: %v\nwant %s", err, want)
	}
}
