// Package deliver writes flow-log records where AWS would deliver them: S3
// objects in AWS's key layout (under a local directory standing for the
// bucket) and, for the CLI, a deterministic text stream.
//
// It exists so the on-disk contract that other tools depend on — key names,
// partition folders, the header line, gzip framing, atomic appearance of
// complete objects — is owned by one package and tested against the spec.
package deliver

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

// SlotSeconds is the S3 publication cycle: objects hold the records whose
// end falls in one 5-minute slot (spec §4.1).
const SlotSeconds = 300

// MaxObjectBytes is the size at which AWS closes an object and starts another
// within the same slot (75 MB).
const MaxObjectBytes = 75 << 20

// S3Dir writes text objects in the S3 key layout under Root, which stands for
// the bucket: `Root/<prefix>/AWSLogs/<account>/vpcflowlogs/<region>/...`.
type S3Dir struct {
	Root string
	// MaxObjectBytes overrides the 75 MB rotation size (tests).
	MaxObjectBytes int64

	pending map[*flowlog.FlowLog]map[int64][]Line // by slot start
	written []string
	bytes   int64
}

// NewS3Dir returns a destination writing under root.
func NewS3Dir(root string) *S3Dir {
	return &S3Dir{Root: root, MaxObjectBytes: MaxObjectBytes, pending: map[*flowlog.FlowLog]map[int64][]Line{}}
}

// Objects returns the paths of the objects written so far, relative to Root.
func (d *S3Dir) Objects() []string { return d.written }

// Bytes returns the total compressed size written.
func (d *S3Dir) Bytes() int64 { return d.bytes }

// Records renders records and buffers the lines by the 5-minute slot of
// their end.
func (d *S3Dir) Records(fl *flowlog.FlowLog, recs []record.Record) error {
	slots := d.pending[fl]
	if slots == nil {
		slots = map[int64][]Line{}
		d.pending[fl] = slots
	}
	var buf []byte
	for i := range recs {
		var l Line
		l, buf = NewLine(fl.Format, &recs[i], buf)
		s := floorSlot(l.End)
		slots[s] = append(slots[s], l)
	}
	return nil
}

func floorSlot(t int64) int64 {
	s := t - t%SlotSeconds
	if t < 0 && t%SlotSeconds != 0 {
		s -= SlotSeconds
	}
	return s
}

// Flush writes every complete slot: those that end at or before `before`.
func (d *S3Dir) Flush(fl *flowlog.FlowLog, before int64) error {
	if before < 0 {
		return nil
	}
	return d.writeSlots(fl, func(slot int64) bool { return slot+SlotSeconds <= before })
}

// Close writes every remaining slot.
func (d *S3Dir) Close() error {
	for fl := range d.pending {
		if err := d.writeSlots(fl, func(int64) bool { return true }); err != nil {
			return err
		}
	}
	return nil
}

func (d *S3Dir) writeSlots(fl *flowlog.FlowLog, ready func(int64) bool) error {
	slots := d.pending[fl]
	var keys []int64
	for s := range slots {
		if ready(s) {
			keys = append(keys, s)
		}
	}
	slices.Sort(keys)
	for _, s := range keys {
		if err := d.writeSlot(fl, s, slots[s]); err != nil {
			return err
		}
		delete(slots, s)
	}
	return nil
}

// writeSlot writes the records of one slot as one or more objects (75 MB
// rotation), ordered by interface-id, start, end, then text.
func (d *S3Dir) writeSlot(fl *flowlog.FlowLog, slot int64, lines []Line) error {
	SortLines(lines)
	header := fl.Format.Header() + "\n"
	for len(lines) > 0 {
		var raw bytes.Buffer
		raw.WriteString(header)
		var gz bytes.Buffer
		// BestSpeed: objects are written on the hot path of a run, and level 1
		// costs a third of the CPU of the default for objects ~25% larger
		// (457 758 vs 367 436 bytes on 3.3 MB of synthetic records).
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		io.WriteString(zw, header)
		n := 0
		for n < len(lines) && (n == 0 || int64(gz.Len()) < d.MaxObjectBytes) {
			raw.WriteString(lines[n].Text)
			io.WriteString(zw, lines[n].Text)
			n++
		}
		if err := zw.Close(); err != nil {
			return err
		}
		lines = lines[n:]
		sum := sha256.Sum256(raw.Bytes())
		key := ObjectKey(fl, time.Unix(slot, 0).UTC(), hex.EncodeToString(sum[:])[:8], ".log.gz")
		if err := writeAtomic(filepath.Join(d.Root, filepath.FromSlash(key)), gz.Bytes()); err != nil {
			return err
		}
		d.written = append(d.written, key)
		d.bytes += int64(gz.Len())
	}
	return nil
}

// Line is a rendered record (with its LF) and what objects sort it by.
type Line struct {
	Interface  string
	Start, End int64
	Text       string
}

// NewLine renders r in format f; buf is scratch space, returned for reuse.
func NewLine(f *record.Format, r *record.Record, buf []byte) (Line, []byte) {
	buf = record.AppendText(buf[:0], f, r)
	buf = append(buf, '\n')
	return Line{Interface: r.InterfaceID, Start: r.Start, End: r.End, Text: string(buf)}, buf
}

// SortLines orders lines as objects hold them: interface-id, start, end,
// then the line bytewise.
func SortLines(lines []Line) {
	slices.SortFunc(lines, func(a, b Line) int {
		if c := strings.Compare(a.Interface, b.Interface); c != 0 {
			return c
		}
		if a.Start != b.Start {
			return cmpInt(a.Start, b.Start)
		}
		if a.End != b.End {
			return cmpInt(a.End, b.End)
		}
		return strings.Compare(a.Text, b.Text)
	})
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

// ObjectKey is the S3 key of an object of flow log fl for the slot starting
// at slot (spec §4.1), with the given hash and suffix (".log.gz").
func ObjectKey(fl *flowlog.FlowLog, slot time.Time, hash, suffix string) string {
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
	name := fmt.Sprintf("%s_vpcflowlogs_%s_%s_%s_%s%s", acct, region, fl.ID, slot.Format("20060102T1504Z"), hash, suffix)
	return dir + name
}

// writeAtomic writes data to a temporary file beside path, syncs it and
// renames it into place, so readers never see a partial object.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
