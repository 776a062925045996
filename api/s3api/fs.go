package s3api

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// DirBuckets is the Buckets of a directory holding one directory per
// bucket, as DATA_DIR/buckets does.
type DirBuckets string

// Dir is root/bucket, or "" for a name that is not a bucket name (so no
// name can reach outside root).
func (d DirBuckets) Dir(bucket string) string {
	if !validBucketName(bucket) {
		return ""
	}
	return filepath.Join(string(d), bucket)
}

// List gives the directories of root whose names are bucket names.
func (d DirBuckets) List() []string {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && validBucketName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// validBucketName accepts the names a bucket directory can have: S3's
// characters (letters, digits, '.', '-', and '_' of legacy buckets),
// starting with a letter or a digit, without "..". It is looser than the
// rules for creating a bucket, since it only has to keep every name a
// single, visible path element: hidden and temporary directories, "..",
// separators and NUL never name a bucket.
func validBucketName(name string) bool {
	if name == "" || len(name) > 255 || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// tempPrefix starts the names of objects still being written (package
// deliver writes them beside their final place and renames them when
// complete): they are not objects yet, so they are never listed or served.
const tempPrefix = ".tmp-"

// maxKeyBytes is S3's limit on a key's length.
const maxKeyBytes = 1024

// keyPath splits a key into the path elements of its file under the
// bucket directory, or reports that no file can hold it. A key maps to a
// file only when every "/"-separated element is a plain file name: not
// empty (no leading "/", no "//"), not "." or "..", no NUL, no backslash
// (a separator elsewhere), not a temporary object's name, and valid UTF-8.
// Other keys are legal in S3, but a directory of files can never have
// listed them, so they name no object.
func keyPath(key string) ([]string, bool) {
	if key == "" || len(key) > maxKeyBytes || !utf8.ValidString(key) {
		return nil, false
	}
	elems := strings.Split(key, "/")
	for _, e := range elems {
		if !plainName(e) {
			return nil, false
		}
	}
	return elems, true
}

// plainName reports whether a directory entry's name can be part of a key.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.HasPrefix(name, tempPrefix) &&
		!strings.ContainsAny(name, "/\\\x00") && utf8.ValidString(name)
}

// errNoObject says a key names no object of the bucket.
var errNoObject = errors.New("no such object")

// openObject opens the regular file of key under the bucket directory
// dir. The path is walked one element at a time through os.Root, refusing
// symbolic links at every step: a link is not an object (S3 has none), and
// os.Root keeps even a link swapped in during the walk from leading outside
// the directory.
func openObject(dir, key string) (*os.File, fs.FileInfo, error) {
	elems, ok := keyPath(key)
	if !ok {
		return nil, nil, errNoObject
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, errNoObject
	}
	defer func() { root.Close() }()
	for _, e := range elems[:len(elems)-1] {
		fi, err := root.Lstat(e)
		if err != nil || !fi.IsDir() {
			return nil, nil, errNoObject
		}
		sub, err := root.OpenRoot(e)
		if err != nil {
			return nil, nil, errNoObject
		}
		root.Close()
		root = sub
	}
	name := elems[len(elems)-1]
	lfi, err := root.Lstat(name)
	if err != nil || !lfi.Mode().IsRegular() {
		return nil, nil, errNoObject
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, nil, errNoObject
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !os.SameFile(lfi, fi) {
		f.Close()
		return nil, nil, errNoObject
	}
	return f, fi, nil
}

// lastModified is an object's time as S3 keeps it: whole seconds, UTC.
func lastModified(fi fs.FileInfo) time.Time { return fi.ModTime().UTC().Truncate(time.Second) }

// etagCache remembers the MD5 of files already hashed. Delivered objects
// never change once renamed into place, and a file that is replaced gets
// another inode, size or mtime, so the identity below is enough to reuse a
// digest; listings then cost a stat per object instead of a read.
type etagCache struct {
	mu sync.Mutex
	m  map[fileID]string
}

type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

// maxETags bounds the cache; when full it starts again (a rare re-hash is
// cheaper than tracking recency).
const maxETags = 1 << 16

func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino), size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}

// etag returns the quoted hex MD5 of f's content, as S3 gives it for an
// object uploaded in one part.
func (c *etagCache) etag(f *os.File, fi fs.FileInfo) (string, error) {
	id, cacheable := idOf(fi)
	if cacheable {
		c.mu.Lock()
		e, ok := c.m[id]
		c.mu.Unlock()
		if ok {
			return e, nil
		}
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", err
	}
	e := `"` + hex.EncodeToString(h.Sum(nil)) + `"`
	if cacheable {
		c.mu.Lock()
		if c.m == nil || len(c.m) >= maxETags {
			c.m = map[fileID]string{}
		}
		c.m[id] = e
		c.mu.Unlock()
	}
	return e, nil
}

// child is a directory entry that can be part of a key.
type child struct {
	name string
	dir  bool
	// order is what the entry's keys sort by among its siblings: the name
	// of a file, the name and "/" of a directory, whose keys all begin so.
	order string
}

// children lists the entries of the directory root that can hold keys, in
// the order of their keys: walking them depth first yields keys in UTF-8
// binary order, as S3 lists them (a file "a-b" comes before the keys of a
// directory "a", since '-' sorts before '/'). Symbolic links, devices and
// the like are no objects and are left out.
func children(root *os.Root) ([]child, error) {
	d, err := root.Open(".")
	if err != nil {
		return nil, err
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	out := make([]child, 0, len(entries))
	for _, e := range entries {
		if !plainName(e.Name()) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			out = append(out, child{name: e.Name(), dir: true, order: e.Name() + "/"})
		case t.IsRegular():
			out = append(out, child{name: e.Name(), order: e.Name()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out, nil
}

// hasObject reports whether the directory root holds an object at any
// depth: an empty directory, or one with only temporary files, is no
// common prefix in S3, which has no directories.
func hasObject(root *os.Root) bool {
	kids, err := children(root)
	if err != nil {
		return false
	}
	for _, k := range kids {
		if !k.dir {
			if fi, err := root.Lstat(k.name); err == nil && fi.Mode().IsRegular() {
				return true
			}
			continue
		}
		if fi, err := root.Lstat(k.name); err != nil || !fi.IsDir() {
			continue
		}
		sub, err := root.OpenRoot(k.name)
		if err != nil {
			continue
		}
		found := hasObject(sub)
		sub.Close()
		if found {
			return true
		}
	}
	return false
}
