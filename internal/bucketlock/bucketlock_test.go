package bucketlock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMissingBucket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "nope"), file, filepath.Join(file, "below")} {
		if _, err := Shared(path); !errors.Is(err, ErrNoBucket) {
			t.Errorf("Shared(%s): %v, want ErrNoBucket", path, err)
		}
		if _, err := TryExclusive(path); !errors.Is(err, ErrNoBucket) {
			t.Errorf("TryExclusive(%s): %v, want ErrNoBucket", path, err)
		}
	}
}

// TestWriterBlocksDeleter: while a writer holds its lock, or two writers
// do, a deleter is refused at once; once they are done it gets the lock.
func TestWriterBlocksDeleter(t *testing.T) {
	dir := t.TempDir()
	w1, err := Shared(dir)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := Shared(dir)
	if err != nil {
		t.Fatalf("a second writer: %v", err)
	}
	if _, err := TryExclusive(dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("deleter beside writers: %v, want ErrBusy", err)
	}
	w1.Unlock()
	if _, err := TryExclusive(dir); !errors.Is(err, ErrBusy) {
		t.Fatalf("deleter beside one writer: %v, want ErrBusy", err)
	}
	w2.Unlock()
	d, err := TryExclusive(dir)
	if err != nil {
		t.Fatalf("deleter alone: %v", err)
	}
	if _, err := TryExclusive(dir); !errors.Is(err, ErrBusy) {
		t.Errorf("a second deleter: %v, want ErrBusy", err)
	}
	d.Unlock()
}

// TestWriterWaitsForDeletion: a writer arriving during a deletion waits
// for it, then finds the bucket gone, or the new bucket created under the
// same name meanwhile.
func TestWriterWaitsForDeletion(t *testing.T) {
	for _, recreate := range []bool{false, true} {
		root := t.TempDir()
		dir := filepath.Join(root, "bucket")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		d, err := TryExclusive(dir)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			l   *Lock
			err error
		}
		got := make(chan result, 1)
		go func() {
			l, err := Shared(dir)
			got <- result{l, err}
		}()
		select {
		case r := <-got:
			t.Fatalf("the writer did not wait for the deletion: %v", r.err)
		case <-time.After(100 * time.Millisecond):
		}
		if err := os.Rename(dir, filepath.Join(root, ".deleted")); err != nil {
			t.Fatal(err)
		}
		if recreate {
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		d.Unlock()
		r := <-got
		if !recreate {
			if !errors.Is(r.err, ErrNoBucket) {
				t.Errorf("after the deletion: %v, want ErrNoBucket", r.err)
			}
			continue
		}
		if r.err != nil {
			t.Fatalf("after the bucket was created again: %v", r.err)
		}
		// The lock is on the new bucket: a deleter of it is refused.
		if _, err := TryExclusive(dir); !errors.Is(err, ErrBusy) {
			t.Errorf("deleter of the new bucket beside its writer: %v, want ErrBusy", err)
		}
		r.l.Unlock()
	}
}
