package s3api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/api/s3api"
)

// awscliPath is Debian's awscli 2.9 (.ci/run installs it); the tests that
// run it skip without it.
const awscliPath = "/usr/bin/aws"

// awscli runs awscli against the rig's server with a HOME and
// configuration of its own, in UTC (aws s3 ls prints local times), and
// returns its standard output and error.
func (g *rig) awscli(args ...string) ([]byte, string, error) {
	home, err := os.MkdirTemp("", "awscli-home-")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(home)
	cmd := exec.Command(awscliPath, append([]string{"--endpoint-url", g.srv.URL}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TZ=UTC",
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return stdout.Bytes(), stderr.String(), err
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		return stdout.Bytes(), stderr.String(), fmt.Errorf("aws %v did not finish in 3 minutes", args)
	}
}

// awscliRun is one awscli command started in the background: awscli
// takes seconds to start, so a test starts all of its commands at once.
type awscliRun struct {
	args   []string
	stdout []byte
	stderr string
	err    error
	done   chan struct{}
}

func (g *rig) start(t *testing.T, args ...string) *awscliRun {
	t.Helper()
	if testing.Short() {
		t.Skip("runs awscli")
	}
	if _, err := os.Stat(awscliPath); err != nil {
		t.Skipf("awscli is not installed at %s (apt-get install awscli): %v", awscliPath, err)
	}
	r := &awscliRun{args: args, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.stdout, r.stderr, r.err = g.awscli(args...)
	}()
	return r
}

// ok waits for the command and returns its output; it must succeed.
func (r *awscliRun) ok(t *testing.T) []byte {
	t.Helper()
	<-r.done
	if r.err != nil {
		t.Fatalf("aws %s: %v\n%s%s", strings.Join(r.args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails waits for the command, which must fail saying each of want.
func (r *awscliRun) fails(t *testing.T, want ...string) {
	t.Helper()
	<-r.done
	for _, w := range want {
		if r.err == nil || !strings.Contains(r.stderr, w) {
			t.Errorf("aws %s: %v\n%s%s\nwant a failure saying %q", strings.Join(r.args, " "), r.err, r.stdout, r.stderr, w)
		}
	}
}

// The commands a user downloads flow logs with, run by the real awscli
// against the handler. Expected outputs are written by hand from the
// fixture: awscli prints times in the local zone (UTC here) and sizes
// right-aligned in 10 columns.
func TestAwscli(t *testing.T) {
	g := newRig(t, "us-east-1")
	syncDir := filepath.Join(t.TempDir(), "flowlogs")

	ls := g.start(t, "s3", "ls")
	lsBucket := g.start(t, "s3", "ls", "s3://flowlogs-bucket")
	lsRecursive := g.start(t, "s3", "ls", "--recursive", "s3://flowlogs-bucket")
	cp := g.start(t, "s3", "cp", "s3://flowlogs-bucket/"+s3api.FixKey1, "-")
	sync := g.start(t, "s3", "sync", "s3://flowlogs-bucket", syncDir)
	prefixes := g.start(t, "s3api", "list-objects-v2", "--bucket", "flowlogs-bucket", "--prefix", "AWSLogs/", "--delimiter", "/")
	special := g.start(t, "s3api", "list-objects-v2", "--bucket", "flowlogs-bucket", "--prefix", "special/")
	missing := g.start(t, "s3", "cp", "s3://flowlogs-bucket/AWSLogs/nope.log.gz", "-")

	// The buckets, each with its creation time (now: the fixture made them).
	lines := strings.Split(strings.TrimSuffix(string(ls.ok(t)), "\n"), "\n")
	if len(lines) != 2 || !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d archive\.example-bucket$`).MatchString(lines[0]) ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d flowlogs-bucket$`).MatchString(lines[1]) {
		t.Errorf("aws s3 ls:\n%s", strings.Join(lines, "\n"))
	}

	// The top level: the folders holding objects, then the lone object.
	want := "" +
		"                           PRE AWSLogs/\n" +
		"                           PRE prod/\n" +
		"                           PRE special/\n" +
		"2024-05-01 12:10:07          6 AWSLogs-index.txt\n"
	if got := string(lsBucket.ok(t)); got != want {
		t.Errorf("aws s3 ls s3://flowlogs-bucket:\n%s\nwant\n%s", got, want)
	}

	// Every object, in key order, without the temporary files and links.
	size := func(key string) string { return fmt.Sprintf("%10d", len(g.fix.Content[key])) }
	want = "" +
		"2024-05-01 12:10:07          6 AWSLogs-index.txt\n" +
		"2024-05-01 12:10:07 " + size(s3api.FixKey1) + " " + s3api.FixKey1 + "\n" +
		"2024-05-01 12:10:07 " + size(s3api.FixKey2) + " " + s3api.FixKey2 + "\n" +
		"2024-05-02 00:05:31 " + size(s3api.FixKey3) + " " + s3api.FixKey3 + "\n" +
		"2024-05-01 12:10:07 " + size(s3api.FixKeyProd) + " " + s3api.FixKeyProd + "\n" +
		"2024-05-01 12:10:07          1 special/a b+c(1).txt\n"
	if got := string(lsRecursive.ok(t)); got != want {
		t.Errorf("aws s3 ls --recursive:\n%s\nwant\n%s", got, want)
	}

	// One object to standard output: the gzip bytes as delivered.
	if got := cp.ok(t); !bytes.Equal(got, g.fix.Content[s3api.FixKey1]) {
		t.Errorf("aws s3 cp - wrote %d bytes, want the %d of the object", len(got), len(g.fix.Content[s3api.FixKey1]))
	}

	// The whole bucket to a directory: every object, with its time.
	sync.ok(t)
	var synced []string
	ok(t, filepath.WalkDir(syncDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(syncDir, path)
		key := filepath.ToSlash(rel)
		synced = append(synced, key)
		data, err := os.ReadFile(path)
		ok(t, err)
		fi, err := d.Info()
		ok(t, err)
		mod := s3api.FixTime
		if key == s3api.FixKey3 {
			mod = s3api.FixTime2
		}
		if !bytes.Equal(data, g.fix.Content[key]) || !fi.ModTime().Equal(mod) {
			t.Errorf("synced %s: %d bytes modified %v", key, len(data), fi.ModTime())
		}
		return nil
	}))
	slices.Sort(synced)
	if wantKeys := slices.Sorted(slices.Values(s3api.FixKeys)); !slices.Equal(synced, wantKeys) {
		t.Errorf("aws s3 sync wrote %v, want %v", synced, wantKeys)
	}

	// The folders under AWSLogs/.
	var v2 struct {
		Contents []struct {
			Key, ETag, StorageClass string
			Size                    int64
		}
		CommonPrefixes []struct{ Prefix string }
	}
	ok(t, json.Unmarshal(prefixes.ok(t), &v2))
	if len(v2.Contents) != 0 || len(v2.CommonPrefixes) != 1 || v2.CommonPrefixes[0].Prefix != "AWSLogs/111122223333/" {
		t.Errorf("list-objects-v2 --prefix AWSLogs/ --delimiter /: %+v", v2)
	}
	// awscli asks for url-encoded keys and decodes them: a key with a
	// space, a '+' and parentheses comes back whole.
	v2.CommonPrefixes = nil
	ok(t, json.Unmarshal(special.ok(t), &v2))
	if len(v2.Contents) != 1 || v2.Contents[0].Key != "special/a b+c(1).txt" || v2.Contents[0].Size != 1 ||
		v2.Contents[0].ETag != `"9dd4e461268c8034f5c8564e155c67a6"` || v2.Contents[0].StorageClass != "STANDARD" {
		t.Errorf("list-objects-v2 --prefix special/: %+v", v2)
	}

	// What a user meets: a key that is not there.
	// (awscli adds the retries it made before the message.)
	missing.fails(t, "An error occurred (404) when calling the HeadObject operation", "): Not Found")
}

// The commands a user makes, empties and removes buckets with, run by the
// real awscli. Its output lines ("make_bucket: NAME", "delete: s3://...",
// "remove_bucket: NAME") and error lines ("An error occurred (CODE) when
// calling the OPERATION operation (reached max retries: 0): MESSAGE") are
// awscli's own formats.
func TestAwscliBuckets(t *testing.T) {
	g := newRig(t, "us-east-1")
	eu := newRig(t, "eu-west-1")
	file := filepath.Join(t.TempDir(), "object.log.gz")

	mb := g.start(t, "s3", "mb", "s3://made-by-cli")
	mbBad := g.start(t, "s3", "mb", "s3://Bad_Name")
	rbFull := g.start(t, "s3", "rb", "s3://flowlogs-bucket")
	cp := g.start(t, "s3", "cp", "s3://flowlogs-bucket/"+s3api.FixKey1, file)
	// Outside us-east-1, awscli's mb sends the region as the location
	// constraint; the API call without it is refused.
	mbEU := eu.start(t, "s3", "mb", "s3://eu-made", "--region", "eu-west-1")
	createEU := eu.start(t, "s3api", "create-bucket", "--bucket", "eu-bare", "--region", "eu-west-1")
	deleteObjects := g.start(t, "s3api", "delete-objects", "--bucket", s3api.FixDotted,
		"--delete", `{"Objects":[{"Key":"README"},{"Key":"nope"}]}`)

	if got := string(mb.ok(t)); got != "make_bucket: made-by-cli\n" {
		t.Errorf("aws s3 mb: %q", got)
	}
	mbBad.fails(t, "An error occurred (InvalidBucketName) when calling the CreateBucket operation", "): The specified bucket is not valid.")
	rbFull.fails(t, "An error occurred (BucketNotEmpty) when calling the DeleteBucket operation", "): The bucket you tried to delete is not empty")
	if got := string(mbEU.ok(t)); got != "make_bucket: eu-made\n" {
		t.Errorf("aws s3 mb --region eu-west-1: %q", got)
	}
	createEU.fails(t, "An error occurred (IllegalLocationConstraintException) when calling the CreateBucket operation",
		"): The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	if !exists(eu.bucketPath("eu-made")) || exists(eu.bucketPath("eu-bare")) {
		t.Errorf("eu-west-1 buckets: eu-made %v, eu-bare %v", exists(eu.bucketPath("eu-made")), exists(eu.bucketPath("eu-bare")))
	}
	// One object to a file: the bytes as delivered.
	cp.ok(t)
	if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, g.fix.Content[s3api.FixKey1]) {
		t.Errorf("aws s3 cp to a file: %d bytes, %v; want the %d of the object", len(got), err, len(g.fix.Content[s3api.FixKey1]))
	}
	var res struct {
		Deleted []struct{ Key string }
		Errors  []struct{ Key, Code string }
	}
	ok(t, json.Unmarshal(deleteObjects.ok(t), &res))
	if len(res.Deleted) != 2 || res.Deleted[0].Key != "README" || res.Deleted[1].Key != "nope" || len(res.Errors) != 0 {
		t.Errorf("aws s3api delete-objects: %+v", res)
	}

	// Empty the bucket, then remove both.
	rm := g.start(t, "s3", "rm", "--recursive", "s3://flowlogs-bucket")
	var deleted []string
	for _, l := range strings.Split(strings.TrimSuffix(string(rm.ok(t)), "\n"), "\n") {
		deleted = append(deleted, l)
	}
	slices.Sort(deleted) // awscli deletes in parallel
	var want []string
	for _, k := range s3api.FixKeys {
		want = append(want, "delete: s3://flowlogs-bucket/"+k)
	}
	slices.Sort(want)
	if !slices.Equal(deleted, want) {
		t.Errorf("aws s3 rm --recursive:\n%s\nwant\n%s", strings.Join(deleted, "\n"), strings.Join(want, "\n"))
	}
	rb := g.start(t, "s3", "rb", "s3://flowlogs-bucket")
	rbMade := g.start(t, "s3", "rb", "s3://made-by-cli")
	rbDotted := g.start(t, "s3", "rb", "s3://"+s3api.FixDotted)
	if got := string(rb.ok(t)); got != "remove_bucket: flowlogs-bucket\n" {
		t.Errorf("aws s3 rb: %q", got)
	}
	rbMade.ok(t)
	rbDotted.ok(t)
	ls := g.start(t, "s3", "ls")
	rbGone := g.start(t, "s3", "rb", "s3://flowlogs-bucket")
	if got := string(ls.ok(t)); got != "" {
		t.Errorf("aws s3 ls after removing every bucket: %q", got)
	}
	rbGone.fails(t, "An error occurred (NoSuchBucket) when calling the DeleteBucket operation", "): The specified bucket does not exist")
	// What was no object went with its bucket; what lies outside stayed.
	if b, err := os.ReadFile(g.fix.Secret); err != nil || string(b) != s3api.FixSecret {
		t.Errorf("the file outside the buckets: %q %v", b, err)
	}
}
