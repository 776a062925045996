//go:build !linux

package s3api

import (
	"io/fs"
	"time"
)

// createdAt is a bucket directory's modification time where no birth time
// can be read.
func createdAt(_ string, fi fs.FileInfo) time.Time { return fi.ModTime().UTC() }
