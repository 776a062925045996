package logstore

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The LOCK file names its holder so that another process can say who to
// ask or stop: three lines, the PID, the owner's description and the
// endpoint of its API ("" when it serves none). Older vpcflow versions
// wrote the PID alone, which readLockInfo still understands.

// lockDir takes the data dir's exclusive lock and records the holder. flock
// is released by the kernel when the process dies, so a crash never leaves a
// stale lock; what the file holds is only there for the error message.
func lockDir(dir, owner, endpoint string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logstore: lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if err == syscall.EWOULDBLOCK {
			if heldByReaders(path) {
				// Read-only opens record nothing: what the file
				// holds is the last writer, not the holder.
				return nil, &InUseError{Dir: dir, Readers: true}
			}
			e := readLockInfo(b)
			e.Dir = dir
			return nil, e
		}
		return nil, fmt.Errorf("logstore: lock data dir %s: %w", dir, err)
	}
	// Best effort: a holder that cannot describe itself still holds the lock.
	_ = writeLockInfo(f, owner, endpoint)
	return f, nil
}

// lockDirShared takes the data dir's lock shared, for a read-only open: any
// number of readers at once, no writer (it holds the lock exclusively). The
// file is opened read-only and nothing is written to it, so a reader needs
// no write permission anywhere in the data dir. A writer holding the lock
// gives an *InUseError naming it, as for a writer.
func lockDirShared(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("logstore: lock data dir %s read-only: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if err == syscall.EWOULDBLOCK {
			e := readLockInfo(b)
			e.Dir = dir
			return nil, e
		}
		return nil, fmt.Errorf("logstore: lock data dir %s read-only: %w", dir, err)
	}
	return f, nil
}

// heldByReaders reports whether the lock on path is held shared only (by
// read-only opens): a shared lock can then still be taken.
func heldByReaders(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil
}

// writeLockInfo replaces the holder's description in the LOCK file. The
// file is rewritten in place (never renamed), since the flock belongs to
// this open file.
func writeLockInfo(f *os.File, owner, endpoint string) error {
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	b := fmt.Appendf(nil, "%d\n%s\n%s\n", os.Getpid(), oneLine.Replace(owner), oneLine.Replace(endpoint))
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt(b, 0)
	return err
}

// readLockInfo parses what writeLockInfo wrote (or an older PID-only file).
func readLockInfo(b []byte) *InUseError {
	e := &InUseError{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for i := 0; i < 3 && sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		switch i {
		case 0:
			if _, err := strconv.Atoi(line); err == nil {
				e.PID = line
			}
		case 1:
			e.Owner = line
		case 2:
			e.Endpoint = line
		}
	}
	return e
}

// SetOwner records who holds the data dir, for the error another opener
// gets: a server opens the data dir before it knows its listen address,
// then names itself and its endpoint (for example "vpcflow serve (PID 1234,
// listening on 127.0.0.1:4566)" and "http://127.0.0.1:4566").
func (s *Store) SetOwner(owner, endpoint string) error {
	if err := s.readOnly("record the owner"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return fmt.Errorf("logstore: data dir %s is closed", s.dir)
	}
	if err := writeLockInfo(s.lock, owner, endpoint); err != nil {
		return fmt.Errorf("logstore: record the owner of data dir %s: %w", s.dir, err)
	}
	return nil
}

// InUseError says another process (or another Open in this one) owns the
// data dir. Owner and Endpoint are what the holder recorded; either may be
// empty (an older vpcflow recorded only its PID).
type InUseError struct {
	Dir      string
	PID      string
	Owner    string
	Endpoint string
	// Readers: the dir is held by read-only opens (which record nothing).
	Readers bool
}

func (e *InUseError) Error() string {
	if e.Readers {
		return fmt.Sprintf("data dir %s is in use by a process reading it (a read-only open): wait for it to finish", e.Dir)
	}
	who := e.Owner
	switch {
	case who != "":
	case e.PID != "":
		who = "PID " + e.PID
	default:
		who = "another process"
	}
	if e.Endpoint != "" {
		return fmt.Sprintf("data dir %s is in use by %s: use its API (--endpoint-url %s) or stop it", e.Dir, who, e.Endpoint)
	}
	return fmt.Sprintf("data dir %s is in use by %s: wait for it to finish or stop it", e.Dir, who)
}
