// Package deliver writes flow-log records where AWS would deliver them: S3
// objects (gzip text or Parquet) in AWS's key layout (under a local
// directory standing for the bucket), CloudWatch Logs streams and, for the
// CLI, a deterministic text stream.
//
// It exists so the on-disk contract that other tools depend on — key names,
// partition folders, the header line, gzip framing, atomic appearance of
// complete objects, Parquet column types — is owned by one package and
// tested against docs/aws-behaviour.md, "S3 object layout and Parquet".
package deliver

import (
	"bufio"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/bucketlock"
	"github.com/vpcflow/vpcflow/record"
)

// SlotSeconds is the S3 publication cycle: objects hold the records whose
// end falls in one 5-minute slot (docs/aws-behaviour.md, "S3 object layout
// and Parquet").
const SlotSeconds = 300

// MaxObjectBytes is the size at which AWS closes an object and starts another
// within the same slot (75 MB).
const MaxObjectBytes = 75 << 20

// S3Dir writes objects (gzip text or Parquet) in the S3 key layout under Root, which stands for
// the bucket: `Root/<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/...`.
//
// Records stream into one open object per flow log and 5-minute slot: a
// gzip stream into a temporary file beside its final place, with a running
// SHA-256 of the uncompressed content. When the slot is complete (Flush) or
// the object reaches MaxObjectBytes, the object is finished, synced and
// renamed to its final key, whose hash part comes from that SHA-256. Memory
// does not grow with the number of records.
type S3Dir struct {
	Root string
	// MaxObjectBytes overrides the 75 MB rotation size (tests).
	MaxObjectBytes int64
	// RowGroupRows is the rows per Parquet row group (default 65536). A
	// Parquet object reaches its file only a row group at a time, so it is
	// rotated at the first row group that takes it to MaxObjectBytes: it
	// may exceed that by less than a row group [Choice].
	RowGroupRows int64
	// EveryFlush finishes a flow log's open objects at every Flush (every
	// closed window) instead of when their slot is complete: records are
	// readable as soon as their window closes, and a slot's records may be
	// split over several objects, each complete and atomic.
	EveryFlush bool
	// ExistingRoot writes objects only into a Root that exists, as the
	// service writes only into existing buckets: with Root missing, Write
	// fails with an error wrapping bucketlock.ErrNoBucket and creates
	// nothing. Left false, Root is created as needed (the batch commands'
	// output directory).
	ExistingRoot bool
	// Store, when set, takes each finished object by its key (the same
	// key as under Root) instead of the rename into Root: Root is then
	// only where objects are encoded, as temporary files, and holds no
	// bucket. The object's bytes are those a rename would have put in
	// place.
	Store ObjectStore

	open map[slotKey]*object
	// last is the object of the previous Write, lastKey its key: records
	// come in runs of one flow log and slot, which then skip the map.
	last    *object
	lastKey slotKey
	written []string
	bytes   int64
	buf     []byte
	row     parquet.Row
	vals    []byte
}

type slotKey struct {
	fl   *flowlog.FlowLog
	slot int64
}

// object is an S3 object being written: gzip text, or Parquet when its flow
// log's FileFormat says so.
type object struct {
	tmp *os.File
	cw  countingWriter
	zw  *blockGzip
	pw  *parquet.Writer
	bw  *bufio.Writer // under a Parquet writer, which then writes unbuffered: cw counts what it wrote
	sum hash.Hash
	dir string // final directory
	// lock is held on Root while the object is being written, so that
	// the bucket cannot be deleted under it (see package bucketlock).
	lock *bucketlock.Lock
}

// parquetRowGroup bounds the rows a Parquet object buffers before writing
// them out as a row group, so memory stays flat however large the object
// (about 8 MB of buffers per open object).
const parquetRowGroup = 64 << 10

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// NewS3Dir returns a destination writing under root.
func NewS3Dir(root string) *S3Dir {
	return &S3Dir{Root: root, MaxObjectBytes: MaxObjectBytes, RowGroupRows: parquetRowGroup, open: map[slotKey]*object{}}
}

// Objects returns the keys of the objects written so far, relative to Root.
func (d *S3Dir) Objects() []string { return d.written }

// Bytes returns the total compressed size written.
func (d *S3Dir) Bytes() int64 { return d.bytes }

// Write appends a record to the object of its flow log and the 5-minute slot
// of its end.
func (d *S3Dir) Write(fl *flowlog.FlowLog, r *record.Record) error {
	k := slotKey{fl, floorSlot(r.End)}
	o := d.last
	if o == nil || k != d.lastKey {
		if o = d.open[k]; o == nil {
			var err error
			if o, err = d.newObject(fl, k.slot); err != nil {
				return err
			}
			d.open[k] = o
		}
		d.last, d.lastKey = o, k
	}
	d.buf = record.AppendText(d.buf[:0], fl.Format, r)
	d.buf = append(d.buf, '\n')
	size := o.cw.n
	if o.pw != nil {
		o.sum.Write(d.buf) // the name's hash is of the text, whatever the file format
		d.row = record.AppendParquetRow(d.row[:0], &d.vals, fl.Format, r)
		if _, err := o.pw.WriteRows([]parquet.Row{d.row}); err != nil {
			return err
		}
		size = o.cw.n
	} else {
		o.zw.Write(d.buf) // hashed in order by the compressor (blockGzip)
		size = o.zw.Settled()
	}
	if size >= d.MaxObjectBytes {
		delete(d.open, k)
		d.last = nil
		return d.finish(fl, k.slot, o)
	}
	return nil
}

// lastLine is the text line (without LF) of the record Write took last;
// it is valid until the next Write.
func (d *S3Dir) lastLine() []byte { return d.buf[:len(d.buf)-1] }

func floorSlot(t int64) int64 {
	s := t - t%SlotSeconds
	if t < 0 && t%SlotSeconds != 0 {
		s -= SlotSeconds
	}
	return s
}

// newObject starts an object: a temporary file with the header line,
// under the lock on Root that the object holds until it is finished.
func (d *S3Dir) newObject(fl *flowlog.FlowLog, slot int64) (*object, error) {
	lock, err := d.lockRoot()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(d.Root, filepath.FromSlash(ObjectDir(fl, time.Unix(slot, 0).UTC())))
	if d.Store != nil {
		// Encoded beside nothing: the store names the object by its key.
		dir = d.Root
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		unlock(lock)
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, tempPrefix())
	if err != nil {
		unlock(lock)
		return nil, err
	}
	o := &object{tmp: tmp, sum: sha256.New(), dir: dir, lock: lock}
	o.cw.w = tmp
	if fl.FileFormat == flowlog.FileFormatParquet {
		// No header row: the column names are in the schema.
		o.bw = bufio.NewWriterSize(tmp, 256<<10)
		o.cw.w = o.bw
		o.pw = parquet.NewWriter(&o.cw, record.ParquetSchema(fl.Format), parquet.Compression(&parquet.Gzip),
			parquet.MaxRowsPerRowGroup(d.RowGroupRows), parquet.WriteBufferSize(0), parquet.CreatedBy("vpcflow", "", ""))
		return o, nil
	}
	// Level 1: objects are written on the hot path of a run, and level 1
	// costs a third of the CPU of the default for objects ~25% larger
	// (457 758 vs 367 436 bytes on 3.3 MB of synthetic records, with
	// compress/flate); the blocks are compressed on other cores, by a
	// faster deflater still (blockGzip).
	if o.zw, err = newBlockGzip(&o.cw, o.sum); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		unlock(lock)
		return nil, err
	}
	header := fl.Format.Header() + "\n"
	io.WriteString(o.zw, header)
	return o, nil
}

// lockRoot takes the writer's lock on Root, creating Root first unless
// ExistingRoot says it must exist.
func (d *S3Dir) lockRoot() (*bucketlock.Lock, error) {
	if d.Store != nil {
		// A staging directory, not a bucket: nothing deletes it under us.
		return nil, os.MkdirAll(d.Root, 0o755)
	}
	if d.ExistingRoot {
		l, err := bucketlock.Shared(d.Root)
		if err != nil {
			return nil, fmt.Errorf("deliver: %s: %w", d.Root, err)
		}
		return l, nil
	}
	// A bucket deleted between the mkdir and the lock is made again.
	var err error
	for range 3 {
		if err = os.MkdirAll(d.Root, 0o755); err != nil {
			return nil, err
		}
		var l *bucketlock.Lock
		if l, err = bucketlock.Shared(d.Root); !errors.Is(err, bucketlock.ErrNoBucket) {
			return l, err
		}
	}
	return nil, fmt.Errorf("deliver: %s: deleted as soon as created: %w", d.Root, err)
}

// finish closes the gzip stream, syncs the file and renames it into place,
// so readers never see a partial object.
func (d *S3Dir) finish(fl *flowlog.FlowLog, slot int64, o *object) error {
	var err error
	suffix := ".log.gz"
	if o.pw != nil {
		err, suffix = o.pw.Close(), ".log.parquet"
		if err == nil {
			err = o.bw.Flush()
		}
	} else {
		err = o.zw.Close()
	}
	name := ObjectName(fl, time.Unix(slot, 0).UTC(), hex.EncodeToString(o.sum.Sum(nil))[:8], suffix)
	if d.Store != nil {
		err = d.put(o, ObjectDir(fl, time.Unix(slot, 0).UTC())+name, err)
	} else {
		if err == nil {
			err = o.tmp.Sync()
		}
		if cerr := o.tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(o.tmp.Name(), filepath.Join(o.dir, name))
		}
	}
	unlock(o.lock)
	if err != nil {
		os.Remove(o.tmp.Name())
		return err
	}
	d.written = append(d.written, ObjectDir(fl, time.Unix(slot, 0).UTC())+name)
	d.bytes += o.cw.n
	return nil
}

// put hands the encoded object to the store and removes its temporary
// file, which the store has copied (or spooled) once Put returns.
func (d *S3Dir) put(o *object, key string, err error) error {
	var st os.FileInfo
	if err == nil {
		st, err = o.tmp.Stat()
	}
	if err == nil {
		err = d.Store.Put(context.Background(), key, o.tmp, st.Size())
	}
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	os.Remove(o.tmp.Name())
	return err
}

// Flush finishes the objects of fl whose slot ends at or before `before`.
func (d *S3Dir) Flush(fl *flowlog.FlowLog, before int64) error {
	if d.EveryFlush {
		return d.finishWhere(func(k slotKey) bool { return k.fl == fl })
	}
	if before < 0 {
		return nil
	}
	return d.finishWhere(func(k slotKey) bool { return k.fl == fl && k.slot+SlotSeconds <= before })
}

// Close finishes every open object.
func (d *S3Dir) Close() error {
	return d.finishWhere(func(slotKey) bool { return true })
}

// finishWhere finishes the matching objects in slot order, so object names
// come out in a deterministic order.
func (d *S3Dir) finishWhere(match func(slotKey) bool) error {
	var keys []slotKey
	for k := range d.open {
		if match(k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b slotKey) int {
		if c := strings.Compare(a.fl.ID, b.fl.ID); c != 0 {
			return c
		}
		return cmp.Compare(a.slot, b.slot)
	})
	for _, k := range keys {
		o := d.open[k]
		delete(d.open, k)
		if o == d.last {
			d.last = nil
		}
		if err := d.finish(k.fl, k.slot, o); err != nil {
			return err
		}
	}
	return nil
}

// ObjectKey is the S3 key of an object of flow log fl for the slot starting
// at slot (docs/aws-behaviour.md, "S3 object layout and Parquet"), with the
// given hash and suffix (".log.gz").
func ObjectKey(fl *flowlog.FlowLog, slot time.Time, hash, suffix string) string {
	return ObjectDir(fl, slot) + ObjectName(fl, slot, hash, suffix)
}

// ObjectDir is the folder part of an object key, ending in "/".
func ObjectDir(fl *flowlog.FlowLog, slot time.Time) string {
	acct, region := fl.OwnerID, fl.Region
	var dir string
	if fl.HiveCompatiblePartitions {
		dir = fmt.Sprintf("AWSLogs/aws-account-id=%s/aws-service=vpcflowlogs/aws-region=%s/year=%04d/month=%02d/day=%02d/",
			acct, region, slot.Year(), slot.Month(), slot.Day())
		if fl.PerHourPartition {
			dir += fmt.Sprintf("hour=%02d/", slot.Hour())
		}
	} else {
		dir = fmt.Sprintf("AWSLogs/%s/vpcflowlogs/%s/%04d/%02d/%02d/", acct, region, slot.Year(), slot.Month(), slot.Day())
		if fl.PerHourPartition {
			dir += fmt.Sprintf("%02d/", slot.Hour())
		}
	}
	if fl.Prefix != "" {
		dir = fl.Prefix + "/" + dir
	}
	return dir
}

// ObjectName is the file name of an object: account, service, region, flow
// log id, slot time, hash.
func ObjectName(fl *flowlog.FlowLog, slot time.Time, hash, suffix string) string {
	return fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%s%s", fl.OwnerID, fl.Region, fl.ID, slot.Format("20060102T1504Z"), hash, suffix)
}

// Temporary objects are named .tmp-PID-RANDOM, so that a later writer can
// tell the files of a writer that died (killed before it renamed them)
// from those of one still running.
func tempPrefix() string { return fmt.Sprintf(".tmp-%d-*", os.Getpid()) }

// RemoveStale deletes the temporary objects under Root left by writers
// that are no longer running, never those of a live process, and returns
// their paths. No reader ever saw them: objects appear only by rename.
func (d *S3Dir) RemoveStale() ([]string, error) {
	var removed []string
	err := filepath.WalkDir(d.Root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), ".tmp-") || writerAlive(e.Name()) {
			return nil
		}
		if err := os.Remove(path); err != nil {
			return err
		}
		removed = append(removed, path)
		return nil
	})
	return removed, err
}

// writerAlive reports whether the process that named a temporary object
// still runs. Names without a PID come from versions that did not record
// one, whose writers are taken to be gone.
func writerAlive(name string) bool {
	pidText, _, ok := strings.Cut(strings.TrimPrefix(name, ".tmp-"), "-")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	return syscall.Kill(pid, 0) != syscall.ESRCH
}

// unlock releases a bucket lock; a store's staging directory has none.
func unlock(l *bucketlock.Lock) {
	if l != nil {
		l.Unlock()
	}
}
