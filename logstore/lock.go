package logstore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// lockDir takes the data dir's exclusive lock. flock is released by the
// kernel when the process dies, so a crash never leaves a stale lock; the PID
// written into the file is only there to name the owner in the error.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logstore: lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if err == syscall.EWOULDBLOCK {
			pid := string(bytes.TrimSpace(b))
			if pid == "" {
				pid = "unknown"
			}
			return nil, &InUseError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("logstore: lock data dir %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// InUseError says another process (or another Open in this one) owns the
// data dir.
type InUseError struct {
	Dir string
	PID string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("data dir %s in use by PID %s (use `vpcflow serve` and its API for concurrent access)", e.Dir, e.PID)
}
