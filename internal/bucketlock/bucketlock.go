// Package bucketlock is the agreement between the two kinds of code that
// change a bucket directory (DATA_DIR/buckets/BUCKET) at the same time:
// the delivery (package deliver), which writes objects into it, and the
// S3 API (package api/s3api), which deletes buckets and the directories
// that objects leave empty.
//
// It exists because an object is written as a temporary file that is
// renamed into place when complete, which can take a whole 5-minute slot:
// a bucket deleted meanwhile would lose the object, and a directory
// pruned between the delivery's mkdir and its create would fail it. So a
// writer holds a shared lock on the bucket directory while an object is
// being written into it, and a deleter takes the exclusive lock without
// waiting: it fails while an object is on its way, and a writer that
// arrives during a deletion waits for it and then finds the bucket gone.
// The lock is flock(2) on the directory itself, so it also holds between
// processes and vanishes with a killed one.
package bucketlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// ErrNoBucket says the bucket directory does not exist (or was deleted
// while the caller waited for it).
var ErrNoBucket = errors.New("the bucket directory does not exist")

// ErrBusy says an object is being written into the bucket.
var ErrBusy = errors.New("an object is being written into the bucket")

// Lock is a held lock on a bucket directory.
type Lock struct{ f *os.File }

// attempts bounds how often Shared follows a bucket deleted and created
// again under the same name while it waited.
const attempts = 3

// Shared takes a writer's lock on the bucket directory dir, waiting while
// a deletion or a pruning holds the exclusive one. It is ErrNoBucket when
// dir does not exist, is no directory, or was deleted while it waited.
func Shared(dir string) (*Lock, error) {
	for range attempts {
		l, fi, err := open(dir)
		if err != nil {
			return nil, err
		}
		if err := flock(l.f, syscall.LOCK_SH); err != nil {
			l.f.Close()
			return nil, fmt.Errorf("bucketlock: locking %s: %w", dir, err)
		}
		// A deletion renames the directory away before it releases the
		// lock: the path then names nothing, or a new bucket to lock.
		switch same, err := stillAt(dir, fi); {
		case same:
			return l, nil
		case err != nil:
			l.f.Close()
			return nil, err
		}
		l.f.Close()
	}
	return nil, fmt.Errorf("bucketlock: %s was deleted and created again %d times while waiting: %w", dir, attempts, ErrNoBucket)
}

// TryExclusive takes a deleter's lock on the bucket directory dir without
// waiting: ErrBusy while a writer (or another deleter) holds a lock,
// ErrNoBucket when dir does not exist.
func TryExclusive(dir string) (*Lock, error) {
	for range attempts {
		l, fi, err := open(dir)
		if err != nil {
			return nil, err
		}
		if err := flock(l.f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			l.f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, ErrBusy
			}
			return nil, fmt.Errorf("bucketlock: locking %s: %w", dir, err)
		}
		switch same, err := stillAt(dir, fi); {
		case same:
			return l, nil
		case err != nil:
			l.f.Close()
			return nil, err
		}
		l.f.Close()
	}
	return nil, ErrBusy
}

// Unlock releases the lock.
func (l *Lock) Unlock() error { return l.f.Close() }

func open(dir string) (*Lock, fs.FileInfo, error) {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil, ErrNoBucket
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bucketlock: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("bucketlock: %w", err)
	}
	if !fi.IsDir() {
		f.Close()
		return nil, nil, ErrNoBucket
	}
	return &Lock{f: f}, fi, nil
}

// stillAt reports whether dir still names the directory fi describes; an
// error is ErrNoBucket when it names nothing.
func stillAt(dir string, fi fs.FileInfo) (bool, error) {
	cur, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return false, ErrNoBucket
	case err != nil:
		return false, fmt.Errorf("bucketlock: %w", err)
	}
	return os.SameFile(fi, cur), nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
