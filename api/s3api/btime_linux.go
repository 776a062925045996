package s3api

import (
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// createdAt is when a bucket directory was created: its birth time where
// the file system records one (statx), else its modification time. A
// bucket's CreationDate must not move when objects are delivered, which
// the directory's mtime would.
func createdAt(path string, fi fs.FileInfo) time.Time {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_BTIME, &st); err == nil && st.Mask&unix.STATX_BTIME != 0 {
		return time.Unix(st.Btime.Sec, int64(st.Btime.Nsec)).UTC()
	}
	return fi.ModTime().UTC()
}
