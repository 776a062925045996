package deliver

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

// TestObjectKeyExamples builds the keys of the example in docs/aws-behaviour.md,
// "S3 object layout and Parquet" (flow log fl-0a1b2c3d4e5f67890, prefix prod)
// with the default, Hive-and-hourly and hourly layouts.
func TestObjectKeyExamples(t *testing.T) {
	fl := &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f67890", OwnerID: "111122223333", Region: "eu-west-1", Prefix: "prod"}
	slot := time.Date(2024, 3, 9, 7, 35, 0, 0, time.UTC)
	got := ObjectKey(fl, slot, "3f9a1c2e", ".log.gz")
	want := "prod/AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/09/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20240309T0735Z_3f9a1c2e.log.gz"
	if got != want {
		t.Errorf("default:\n got %s\nwant %s", got, want)
	}
	fl.HiveCompatiblePartitions, fl.PerHourPartition = true, true
	got = ObjectKey(fl, slot, "7c04be19", ".log.parquet")
	want = "prod/AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=03/day=09/hour=07/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20240309T0735Z_7c04be19.log.parquet"
	if got != want {
		t.Errorf("hive+hour:\n got %s\nwant %s", got, want)
	}
	fl.HiveCompatiblePartitions, fl.Prefix = false, ""
	got = ObjectKey(fl, slot, "00000000", ".log.gz")
	want = "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/09/07/111122223333_vpcflowlogs_eu-west-1_fl-0a1b2c3d4e5f67890_20240309T0735Z_00000000.log.gz"
	if got != want {
		t.Errorf("per-hour:\n got %s\nwant %s", got, want)
	}
}

func rec(eni string, start, end int64, pkts int64) record.Record {
	var r record.Record
	r.Reset()
	r.Version, r.AccountID, r.InterfaceID = 2, "111122223333", eni
	r.Start, r.End, r.LogStatus, r.Packets = start, end, record.StatusOK, pkts
	return r
}

func readObjects(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left: %s", rel)
		}
		f, _ := os.Open(p)
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		zr.Multistream(false)
		b, _ := io.ReadAll(zr)
		if err := zr.Reset(f); err != io.EOF {
			t.Errorf("%s: more than one gzip member", rel)
		}
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func TestS3DirSlotsOrderAndHash(t *testing.T) {
	root := t.TempDir()
	fl := &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f67890", OwnerID: "111122223333", Region: "eu-west-1", Format: record.DefaultFormat}
	d := NewS3Dir(root)
	// 1709969700 = 2024-03-09T07:35:00Z. Records ending in 07:35:00-07:39:59
	// belong to the 0735 object, 07:40:00 to the 0740 one. Objects keep the
	// order records are written in (the fan-out's: window, interface, ...).
	for _, r := range []record.Record{
		rec("eni-a", 1709969700, 1709969790, 3),
		rec("eni-a", 1709969760, 1709969790, 2),
		rec("eni-b", 1709969700, 1709969999, 1),
		rec("eni-a", 1709969700, 1709970000, 4),
	} {
		if err := d.Write(fl, &r); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is complete before the end of the 0735 slot.
	if err := d.Flush(fl, 1709969999); err != nil || len(d.Objects()) != 0 {
		t.Fatalf("flushed early: %v %v", err, d.Objects())
	}
	if err := d.Flush(fl, 1709970000); err != nil || len(d.Objects()) != 1 {
		t.Fatalf("flush at slot end: %v %v", err, d.Objects())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	objs := readObjects(t, root)
	if len(objs) != 2 {
		t.Fatalf("objects %v", objs)
	}
	header := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	want0735 := header +
		"2 111122223333 eni-a - - - - - 3 - 1709969700 1709969790 - OK\n" +
		"2 111122223333 eni-a - - - - - 2 - 1709969760 1709969790 - OK\n" +
		"2 111122223333 eni-b - - - - - 1 - 1709969700 1709969999 - OK\n"
	want0740 := header + "2 111122223333 eni-a - - - - - 4 - 1709969700 1709970000 - OK\n"
	for key, content := range objs {
		sum := sha256.Sum256([]byte(content))
		if !strings.HasSuffix(key, "_"+hex.EncodeToString(sum[:])[:8]+".log.gz") {
			t.Errorf("%s: hash is not the SHA-256 prefix of the content", key)
		}
		switch {
		case strings.Contains(key, "_20240309T0735Z_"):
			if content != want0735 {
				t.Errorf("0735:\n%s", content)
			}
		case strings.Contains(key, "_20240309T0740Z_"):
			if content != want0740 {
				t.Errorf("0740:\n%s", content)
			}
		default:
			t.Errorf("unexpected object %s", key)
		}
		if !strings.HasPrefix(key, "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/09/") {
			t.Errorf("folder of %s", key)
		}
	}
}

func TestS3DirRotation(t *testing.T) {
	root := t.TempDir()
	fl := &flowlog.FlowLog{ID: "fl-1", OwnerID: "1", Region: "r", Format: record.DefaultFormat}
	d := NewS3Dir(root)
	d.MaxObjectBytes = 1 // every record starts a new object once one is written
	for _, r := range []record.Record{rec("eni-a", 0, 10, 1), rec("eni-a", 0, 11, 2), rec("eni-a", 0, 12, 3)} {
		if err := d.Write(fl, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	objs := readObjects(t, root)
	if len(objs) != 3 {
		t.Fatalf("want 3 objects, got %d", len(objs))
	}
	for _, c := range objs {
		if !strings.HasPrefix(c, "version ") || strings.Count(c, "\n") != 2 {
			t.Errorf("object %q: want header and one record", c)
		}
	}
}

// parquetRows reads the rows of every Parquet object under root, by key.
func parquetRows(t *testing.T, root string) map[string][]parquet.Row {
	t.Helper()
	out := map[string][]parquet.Row{}
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !strings.HasSuffix(p, ".log.parquet") {
			t.Errorf("object %s is not .log.parquet", rel)
			return nil
		}
		f, _ := os.Open(p)
		defer f.Close()
		pf, err := parquet.OpenFile(f, info.Size())
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		rows := make([]parquet.Row, pf.NumRows())
		r := parquet.NewReader(pf)
		n, _ := r.ReadRows(rows)
		out[filepath.ToSlash(rel)] = rows[:n]
		return nil
	})
	return out
}

// TestS3DirParquet: a parquet flow log gets .log.parquet objects in the same
// slots and key layout as text ones, with the records in write order, and
// rotates as text objects do.
func TestS3DirParquet(t *testing.T) {
	root := t.TempDir()
	fl := &flowlog.FlowLog{ID: "fl-1", OwnerID: "1", Region: "r", Format: record.DefaultFormat, FileFormat: flowlog.FileFormatParquet}
	d := NewS3Dir(root)
	// Slots [0, 300) and [300, 600): ends 10, 20 and 310.
	for _, r := range []record.Record{rec("eni-a", 0, 10, 1), rec("eni-b", 0, 20, 2), rec("eni-a", 300, 310, 3)} {
		if err := d.Write(fl, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	objs := parquetRows(t, root)
	if len(objs) != 2 || len(d.Objects()) != 2 {
		t.Fatalf("objects %v", d.Objects())
	}
	// Objects come out in slot order; packets (column 8 of the default
	// format) tell the records apart.
	var packets [][]int64
	for _, key := range d.Objects() {
		if !strings.Contains(key, "AWSLogs/1/vpcflowlogs/r/1970/01/01/1_vpcflowlogs_r_fl-1_19700101T00") {
			t.Errorf("key %s", key)
		}
		var p []int64
		for _, row := range objs[key] {
			p = append(p, row[8].Int64())
		}
		packets = append(packets, p)
	}
	if fmt.Sprint(packets) != "[[1 2] [3]]" {
		t.Errorf("packets per object %v, want [[1 2] [3]]", packets)
	}

	root = t.TempDir()
	d = NewS3Dir(root)
	// A row group reaches the file when the next row does not fit in it:
	// the second record takes the object past 1 byte, the third starts the
	// next one.
	d.MaxObjectBytes, d.RowGroupRows = 1, 1
	for _, r := range []record.Record{rec("eni-a", 0, 10, 1), rec("eni-a", 0, 11, 2), rec("eni-a", 0, 12, 3)} {
		if err := d.Write(fl, &r); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if objs := parquetRows(t, root); len(objs) != 2 {
		t.Errorf("rotation: %d objects, want 2", len(objs))
	}
}

// BenchmarkS3DirWrite: records/s into objects, Parquet against gzip text
// (the baseline) in the same run.
func BenchmarkS3DirWrite(b *testing.B) {
	for _, ff := range []string{flowlog.FileFormatPlainText, flowlog.FileFormatParquet} {
		b.Run(ff, func(b *testing.B) {
			fl := &flowlog.FlowLog{ID: "fl-1", OwnerID: "1", Region: "r", Format: record.DefaultFormat, FileFormat: ff}
			recs := make([]record.Record, 4096)
			for i := range recs {
				r := rec(fmt.Sprintf("eni-%d", i%16), 1700000000, 1700000059, int64(1+i%50))
				r.SrcAddr = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
				r.DstAddr = netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})
				r.SrcPort, r.DstPort, r.Protocol, r.Bytes, r.Action = int64(1024+i), 443, 6, int64(100*i), record.ActionAccept
				recs[i] = r
			}
			d := NewS3Dir(b.TempDir())
			n := 0
			for b.Loop() {
				for i := range recs {
					if err := d.Write(fl, &recs[i]); err != nil {
						b.Fatal(err)
					}
				}
				n += len(recs)
			}
			if err := d.Close(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// TestRemoveStale: temporary objects of writers that died are removed,
// those of a live writer (this process) are kept.
func TestRemoveStale(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "AWSLogs", "1", "vpcflowlogs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mine := fmt.Sprintf(".tmp-%d-123", os.Getpid())
	names := []string{fmt.Sprintf(".tmp-%d-456", dead.Process.Pid), ".tmp-789", mine, "kept.log.gz"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := NewS3Dir(root).RemoveStale()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 {
		t.Errorf("removed %q, want the dead writer's and the unnamed one", removed)
	}
	left, _ := os.ReadDir(dir)
	var got []string
	for _, e := range left {
		got = append(got, e.Name())
	}
	if want := []string{mine, "kept.log.gz"}; !slices.Equal(got, want) {
		t.Errorf("left %q, want %q", got, want)
	}
}
