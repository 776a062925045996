package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// filesUnder maps each file under root (not temporary ones) to its bytes,
// by slash path relative to root.
func filesUnder(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// genCapture writes a synthetic capture with `vpcflow gen pcap`.
func genCapture(t *testing.T, packets, flows string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cap.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", packets, "--flows", flows, "--out", p); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	return p
}

// s3Env is the environment of a binary reaching serve's S3 API with the
// test's key, nothing from the user's AWS files.
func s3Env(home string) []string {
	return []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret, "AWS_REGION=eu-west-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials")}
}

// `vpcflow pcap --out s3://BUCKET/PREFIX` against a `vpcflow serve` puts
// the objects `--out DIR` writes, same keys under the prefix, byte for
// byte. With the store down, the objects are spooled (exit 0, counted in
// the summary) and the next run replays them; the spool ends empty.
func TestPcapOutS3(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	capPath := genCapture(t, "40000", "12000")
	dir, state, home := t.TempDir(), t.TempDir(), t.TempDir()
	data := filepath.Join(t.TempDir(), "data")
	if _, stderr, code := runBinary(t, nil, "pcap", "--local-cidr", "10.0.1.10/32", "--out", dir, capPath); code != 0 {
		t.Fatalf("pcap --out DIR: exit %d: %s", code, stderr)
	}
	local := filesUnder(t, dir)
	if len(local) < 2 {
		t.Fatalf("--out DIR wrote %v", sortedKeys(local))
	}

	// The store is down first: a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s3args := []string{"pcap", "--local-cidr", "10.0.1.10/32", "--out", "s3://flows/site-a", "--s3-endpoint", "http://" + addr,
		"--s3-path-style", "--data-dir", state, capPath}
	_, stderr, code := execBinary(t, execOptions{Env: s3Env(home)}, s3args...)
	if code != 0 || !strings.Contains(stderr, "s3://flows/site-a: 0 objects put") ||
		!strings.Contains(stderr, len2(local)+" spooled for replay") {
		t.Fatalf("store down: exit %d, want 0 and %d objects spooled: %s", code, len(local), stderr)
	}
	spool := filepath.Join(state, "spool", "s3")
	if n := len(filesUnder(t, spool)); n != len(local) {
		t.Fatalf("%d files in the spool, want %d", n, len(local))
	}

	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", data, "--topology", "../../examples/ping.yaml", "--listen", addr)
	awsOK(t, p, nil, "s3", "mb", "s3://flows")
	_, stderr, code = execBinary(t, execOptions{Env: s3Env(home)}, s3args...)
	if code != 0 || !strings.Contains(stderr, "replayed "+len2(local)+" spooled object(s)") {
		t.Fatalf("store up: exit %d: %s", code, stderr)
	}
	remote := filesUnder(t, filepath.Join(data, "buckets", "flows", "site-a"))
	if !slices.Equal(sortedKeys(remote), sortedKeys(local)) {
		t.Fatalf("keys in the bucket %v, want %v", sortedKeys(remote), sortedKeys(local))
	}
	for k, b := range local {
		if !bytes.Equal(remote[k], b) {
			t.Errorf("%s: %d bytes in the bucket differ from the %d of --out DIR", k, len(remote[k]), len(b))
		}
	}
	if left := filesUnder(t, spool); len(left) != 0 {
		t.Errorf("spool keeps %v", sortedKeys(left))
	}
}

func len2[V any](m map[string]V) string { return grouped(uint64(len(m))) }

// Bad destinations are usage errors naming the flag and what is wanted.
func TestOutputUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pcap", "--out", "s3://Bad_Bucket/x", "x.pcap"}, "--out destination \"s3://Bad_Bucket/x\": bucket"},
		{[]string{"pcap", "--out", "gs://b/x", "x.pcap"}, "not another scheme"},
		{[]string{"pcap", "--out", "dir", "--s3-endpoint", "http://127.0.0.1:1", "x.pcap"}, "--s3-endpoint applies to --out s3://"},
		{[]string{"pcap", "--out", "s3://bucket", "--s3-endpoint", "127.0.0.1:1", "x.pcap"}, "want an http:// or https:// URL"},
		{[]string{"pcap", "--stdout", "--publish", "http://127.0.0.1:9092/t", "x.pcap"}, "--publish"},
		{[]string{"pcap", "--stdout", "--publish", "kafka://127.0.0.1:9092", "x.pcap"}, "--publish"},
		{[]string{"collect", "--from", "kafka://127.0.0.1:9092/t", "--group", "g"}, "--to are required"},
		{[]string{"collect", "--from", "127.0.0.1:9092", "--group", "g", "--to", "d"}, "--from"},
		{[]string{"collect", "--from", "kafka://127.0.0.1:9092/t", "--group", "g", "--to", "s3://a"}, "--to destination"},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--firehose", "stream"}, `--firehose "stream": want NAME=kafka://`},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--firehose", "s=kafka://h:1"}, "--firehose s="},
		{[]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(), "--firehose", "s=d1", "--firehose", "s=d2"}, "mapped twice"},
	} {
		_, stderr, code := runBinary(t, nil, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 and %q in: %s", c.args, code, c.want, stderr)
		}
	}
}
