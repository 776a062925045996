package objsink

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/vpcflow/vpcflow/internal/bucketlock"
)

// Sink stores finished objects by key.
type Sink interface {
	// Put stores size bytes of body under key, whole or not at all; an
	// object already there is replaced. body is read from offset 0 and
	// may be read again (a retry).
	Put(ctx context.Context, key string, body io.ReaderAt, size int64) error
	// String names the sink in messages and metrics.
	String() string
}

// Dir stores objects as files under a directory standing for a bucket,
// as package deliver lays them out: each written to a temporary file
// ".tmp-PID-*" beside its final place, synced, then renamed, under the
// directory's shared bucket lock (so `DeleteBucket` on `vpcflow serve`
// does not remove it midway). The directory is created as needed.
type Dir string

func (d Dir) String() string { return string(d) }

// Put writes the object atomically.
func (d Dir) Put(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	elems, err := keyElems(key)
	if err != nil {
		return err
	}
	root := string(d)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	lock, err := bucketlock.Shared(root)
	if err != nil {
		return fmt.Errorf("%s: %w", root, err)
	}
	defer lock.Unlock()
	path := filepath.Join(append([]string{root}, elems...)...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".tmp-%d-%s", os.Getpid(), hex.EncodeToString(rnd[:])))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, io.NewSectionReader(body, 0, size))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// keyElems splits a key into file names, refusing what would leave the
// directory or name a temporary file.
func keyElems(key string) ([]string, error) {
	if key == "" || len(key) > 1024 {
		return nil, fmt.Errorf("key %q: want 1 to 1024 bytes", key)
	}
	elems := strings.Split(key, "/")
	for _, e := range elems {
		if e == "" || e == "." || e == ".." || strings.HasPrefix(e, ".tmp-") || strings.ContainsAny(e, "\x00\\") {
			return nil, fmt.Errorf("key %q: element %q: want a file name (not empty, '.', '..' or .tmp-*, no NUL or backslash)", key, e)
		}
	}
	return elems, nil
}
