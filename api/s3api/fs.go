package s3api

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/vpcflow/vpcflow/internal/bucketlock"
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

// Create makes the bucket's directory (and root, the first time).
func (d DirBuckets) Create(bucket string) error {
	dir := d.Dir(bucket)
	if dir == "" {
		return fmt.Errorf("s3api: %q is no bucket name", bucket)
	}
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return err
	}
	err := os.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrExist) {
		return ErrBucketExists
	}
	return err
}

// Delete removes the bucket's directory when it holds no object and none
// is being written into it (the delivery holds the bucket's lock while it
// writes one, see package bucketlock). What is left, none of it an object
// (empty directories, temporary files of a killed writer, links), goes
// with it. The directory is first renamed to a hidden name, so the bucket
// disappears at once and a bucket of the same name can be created while
// the old tree is removed.
func (d DirBuckets) Delete(bucket string) error {
	dir := d.Dir(bucket)
	if dir == "" {
		return ErrNoSuchBucket
	}
	lock, err := bucketlock.TryExclusive(dir)
	switch {
	case errors.Is(err, bucketlock.ErrNoBucket):
		return ErrNoSuchBucket
	case errors.Is(err, bucketlock.ErrBusy):
		return ErrBucketNotEmpty
	case err != nil:
		return err
	}
	defer lock.Unlock()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	full := hasObject(root)
	root.Close()
	if full {
		return ErrBucketNotEmpty
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	gone := filepath.Join(string(d), ".deleted-"+bucket+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Rename(dir, gone); err != nil {
		return err
	}
	// The bucket is gone; a failure here only leaves a hidden directory,
	// which no name reaches.
	os.RemoveAll(gone)
	return nil
}

// Errors of Buckets' Create and Delete.
var (
	ErrBucketExists   = errors.New("s3api: the bucket exists")
	ErrNoSuchBucket   = errors.New("s3api: the bucket does not exist")
	ErrBucketNotEmpty = errors.New("s3api: the bucket is not empty")
)

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
	root, name, err := openParent(dir, key)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
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

// openParent opens the directory that holds key's file under the bucket
// directory dir, walking it as openObject does, and returns it with the
// file's name in it; errNoObject when key names no file.
func openParent(dir, key string) (*os.Root, string, error) {
	elems, ok := keyPath(key)
	if !ok {
		return nil, "", errNoObject
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, "", errNoObject
	}
	for _, e := range elems[:len(elems)-1] {
		fi, err := root.Lstat(e)
		if err != nil || !fi.IsDir() {
			root.Close()
			return nil, "", errNoObject
		}
		sub, err := root.OpenRoot(e)
		root.Close()
		if err != nil {
			return nil, "", errNoObject
		}
		root = sub
	}
	return root, elems[len(elems)-1], nil
}

// removeObject deletes the file of key under the bucket directory dir. A
// key that names no object (nothing there, a directory, a link, a
// temporary file) is no error: S3 answers a delete of a missing key with
// success.
func removeObject(dir, key string) error {
	root, name, err := openParent(dir, key)
	if err != nil {
		return nil
	}
	defer root.Close()
	fi, err := root.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// pruneDirs removes the directories that deleting keys left empty, from
// the deepest up to (not including) the bucket directory dir. It works
// under the bucket's exclusive lock and gives up while an object is being
// written into the bucket, whose delivery may be about to use them:
// they then stay, harmless, since an empty directory is never listed.
func pruneDirs(dir string, keys []string) {
	seen := map[string]bool{}
	var dirs []string
	for _, k := range keys {
		elems, ok := keyPath(k)
		if !ok {
			continue
		}
		for i := len(elems) - 1; i >= 1; i-- {
			d := strings.Join(elems[:i], "/")
			if seen[d] {
				break // its parents are in too
			}
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return
	}
	lock, err := bucketlock.TryExclusive(dir)
	if err != nil {
		return
	}
	defer lock.Unlock()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return
	}
	defer root.Close()
	// Deepest first: a directory empties when its children go.
	sort.Slice(dirs, func(i, j int) bool {
		if a, b := strings.Count(dirs[i], "/"), strings.Count(dirs[j], "/"); a != b {
			return a > b
		}
		return dirs[i] < dirs[j]
	})
	for _, d := range dirs {
		name := filepath.FromSlash(d)
		if fi, err := root.Lstat(name); err == nil && fi.IsDir() {
			root.Remove(name) // fails, as wanted, when not empty
		}
	}
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
	e, ok := storedETag(f)
	if !ok {
		h := md5.New()
		if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
			return "", err
		}
		e = `"` + hex.EncodeToString(h.Sum(nil)) + `"`
	}
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

// storedETag is the ETag kept with an object completed from parts
// (writeObject), when it is one: a quoted hex MD5 and "-N".
func storedETag(f *os.File) (string, bool) {
	var buf [64]byte
	n, err := unix.Fgetxattr(int(f.Fd()), etagXattr, buf[:])
	if err != nil || n < 36 {
		return "", false
	}
	e := string(buf[:n])
	sum, parts, ok := strings.Cut(strings.Trim(e, `"`), "-")
	if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 32 || e[0] != '"' || e[n-1] != '"' {
		return "", false
	}
	if k, err := strconv.Atoi(parts); err != nil || k < 1 || k > maxParts {
		return "", false
	}
	return e, true
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
