package deliver

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/flowlog"
)

// memStore keeps what it is given, as an S3 store would.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
	fail error
}

func (m *memStore) Put(_ context.Context, key string, body io.ReaderAt, size int64) error {
	if m.fail != nil {
		return m.fail
	}
	b := make([]byte, size)
	if _, err := body.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs == nil {
		m.objs = map[string][]byte{}
	}
	m.objs[key] = b
	return nil
}

// lineSink keeps the lines a router publishes.
type lineSink struct{ lines []string }

func (l *lineSink) Record(fl *flowlog.FlowLog, eni string, line []byte) error {
	l.lines = append(l.lines, fl.ID+" "+eni+" "+string(line))
	return nil
}

// TestStoreMatchesDir: the same records through a store and into a
// directory give the same keys and the same bytes, gzip text and Parquet,
// over several slots; the staging directory is left empty; every record
// is published once, as its text line.
func TestStoreMatchesDir(t *testing.T) {
	for _, format := range []string{flowlog.FileFormatPlainText, flowlog.FileFormatParquet} {
		t.Run(format, func(t *testing.T) {
			dir, staging := t.TempDir(), t.TempDir()
			fl := s3FlowLog("flows")
			fl.Prefix, fl.FileFormat = "site-a", format
			local := &Router{BucketRoot: func(string) string { return dir }}
			store := &memStore{}
			pub := &lineSink{}
			remote := &Router{BucketStore: func(string) ObjectStore { return store }, StagingDir: staging, Records: pub}
			// 1709969700 = 2024-03-09T07:35:00Z: three slots of records.
			n := 0
			for i := range 900 {
				r := rec(fmt.Sprintf("eni-%d", i%7), 1709969700+int64(i), 1709969700+int64(i)+60, int64(i+1))
				for _, rt := range []*Router{local, remote} {
					if err := rt.Write(fl, &r); err != nil {
						t.Fatal(err)
					}
				}
				n++
			}
			for _, rt := range []*Router{local, remote} {
				if err := rt.Flush(fl, 1709969700+600); err != nil {
					t.Fatal(err)
				}
				if err := rt.Close(); err != nil {
					t.Fatal(err)
				}
			}
			onDisk := map[string][]byte{}
			filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
				if err == nil && !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
					rel, _ := filepath.Rel(dir, p)
					onDisk[filepath.ToSlash(rel)], _ = os.ReadFile(p)
				}
				return nil
			})
			if len(onDisk) != 4 { // slots 07:35, 07:40, 07:45, and 07:50 (ends past 07:50)
				t.Fatalf("%d objects on disk, want 4: %v", len(onDisk), keysOf(onDisk))
			}
			if len(store.objs) != len(onDisk) {
				t.Fatalf("store has %v, directory %v", keysOf(store.objs), keysOf(onDisk))
			}
			for k, b := range onDisk {
				if !strings.HasPrefix(k, "site-a/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/09/") {
					t.Errorf("key %s", k)
				}
				if string(store.objs[k]) != string(b) {
					t.Errorf("%s: the store's %d bytes differ from the directory's %d", k, len(store.objs[k]), len(b))
				}
			}
			if got := remote.Stats().Objects; len(got) != 4 {
				t.Errorf("router stats list %v", got)
			}
			if left, _ := os.ReadDir(staging); len(left) != 0 {
				t.Errorf("staging directory keeps %d files", len(left))
			}
			if len(pub.lines) != n {
				t.Fatalf("%d lines published, want %d", len(pub.lines), n)
			}
			want := "fl-0a1b2c3d4e5f67890 eni-0 2 111122223333 eni-0 - - - - - 1 - 1709969700 1709969760 - OK"
			if pub.lines[0] != want {
				t.Errorf("first line published %q, want %q", pub.lines[0], want)
			}
			// Each line is its own record's, through slots and objects.
			for i, line := range pub.lines {
				want := fmt.Sprintf("fl-0a1b2c3d4e5f67890 eni-%d 2 111122223333 eni-%d - - - - - %d - %d %d - OK",
					i%7, i%7, i+1, 1709969700+i, 1709969760+i)
				if line != want {
					t.Fatalf("line %d published %q, want %q", i, line, want)
				}
			}
		})
	}
}

// TestStoreRefuses: a store's refusal is the delivery's error, and the
// temporary file does not stay behind.
func TestStoreRefuses(t *testing.T) {
	staging := t.TempDir()
	store := &memStore{fail: fmt.Errorf("store down")}
	r := &Router{BucketStore: func(string) ObjectStore { return store }, StagingDir: staging}
	rc := rec("eni-a", 1709969700, 1709969760, 3)
	if err := r.Write(s3FlowLog("flows"), &rc); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("close: %v, want the store's error", err)
	}
	if left, _ := os.ReadDir(staging); len(left) != 0 {
		t.Errorf("staging directory keeps %d files", len(left))
	}
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
