package deliver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/bucketlock"
	"github.com/vpcflow/vpcflow/record"
)

// s3FlowLog delivers to bucket in the default format.
func s3FlowLog(bucket string) *flowlog.FlowLog {
	return &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f67890", OwnerID: "111122223333", Region: "eu-west-1",
		Format: record.DefaultFormat, DestinationType: flowlog.DestS3, Bucket: bucket}
}

// TestRouterExistingBuckets: the service's router writes into a bucket
// only once its directory exists; before, a record is refused with AWS's
// "Access error" and nothing is created.
func TestRouterExistingBuckets(t *testing.T) {
	buckets := t.TempDir()
	r := &Router{BucketRoot: func(b string) string { return filepath.Join(buckets, b) }, ExistingBuckets: true}
	fl := s3FlowLog("flows")
	// 1709969700 = 2024-03-09T07:35:00Z, the start of a slot.
	r1 := rec("eni-a", 1709969700, 1709969760, 3)
	err := r.Write(fl, &r1)
	var de *flowlog.DeliveryError
	if !errors.As(err, &de) || de.Message != "Access error" || !errors.Is(err, bucketlock.ErrNoBucket) {
		t.Fatalf("record for a missing bucket: %v, want a DeliveryError with Access error", err)
	}
	if _, err := os.Stat(filepath.Join(buckets, "flows")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the bucket directory was made: %v", err)
	}
	// The bucket is created (aws s3 mb): the next record goes in.
	if err := os.Mkdir(filepath.Join(buckets, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(fl, &r1); err != nil {
		t.Fatalf("after the bucket was created: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	objs := readObjects(t, filepath.Join(buckets, "flows"))
	want := "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n" +
		"2 111122223333 eni-a - - - - - 3 - 1709969700 1709969760 - OK\n"
	if len(objs) != 1 {
		t.Fatalf("objects: %v", objs)
	}
	for _, content := range objs {
		if content != want {
			t.Errorf("object:\n%s\nwant\n%s", content, want)
		}
	}
}

// TestRouterCreatesBuckets: the batch commands' router makes the
// directory it is given.
func TestRouterCreatesBuckets(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out", "flowlogs")
	r := &Router{BucketRoot: func(string) string { return out }}
	r1 := rec("eni-a", 1709969700, 1709969760, 3)
	if err := r.Write(s3FlowLog("local"), &r1); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if objs := readObjects(t, out); len(objs) != 1 {
		t.Errorf("objects under a created directory: %v", objs)
	}
}

// TestObjectHoldsBucket: while an object is being written (its slot not
// complete), the bucket cannot be deleted; once it is finished, it can.
func TestObjectHoldsBucket(t *testing.T) {
	root := filepath.Join(t.TempDir(), "flows")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	d := NewS3Dir(root)
	d.ExistingRoot = true
	fl := s3FlowLog("flows")
	r1 := rec("eni-a", 1709969700, 1709969760, 3)
	if err := d.Write(fl, &r1); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(fl, 1709969760); err != nil || len(d.Objects()) != 0 {
		t.Fatalf("flush inside the slot: %v %v", err, d.Objects())
	}
	if _, err := bucketlock.TryExclusive(root); !errors.Is(err, bucketlock.ErrBusy) {
		t.Fatalf("deleting under an open object: %v, want ErrBusy", err)
	}
	if err := d.Flush(fl, 1709970000); err != nil || len(d.Objects()) != 1 {
		t.Fatalf("flush at the slot's end: %v %v", err, d.Objects())
	}
	l, err := bucketlock.TryExclusive(root)
	if err != nil {
		t.Fatalf("deleting once the object is finished: %v", err)
	}
	l.Unlock()
}

// TestRouterRecordsOnly: an agent's router hands every flow log's records
// to its RecordSink, whatever their destination, and needs none of them:
// no bucket directory, no log store, no delivery stream.
func TestRouterRecordsOnly(t *testing.T) {
	sink := &lineSink{}
	r := &Router{Records: sink, RecordsOnly: true}
	s3 := s3FlowLog("flows")
	cw := &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f60002", OwnerID: "111122223333", Region: "eu-west-1",
		Format: record.DefaultFormat, DestinationType: flowlog.DestCloudWatch, LogGroupName: "g"}
	fh := &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f60003", OwnerID: "111122223333", Region: "eu-west-1",
		Format: record.DefaultFormat, DestinationType: flowlog.DestFirehose, DeliveryStream: "s"}
	for _, fl := range []*flowlog.FlowLog{s3, cw, fh} {
		if err := r.Check(fl); err != nil {
			t.Fatalf("Check %s: %v", fl.DestinationType, err)
		}
		r1 := rec("eni-a", 1709969700, 1709969760, 3)
		if err := r.Write(fl, &r1); err != nil {
			t.Fatalf("Write %s: %v", fl.DestinationType, err)
		}
		if err := r.Flush(fl, 1709970000); err != nil {
			t.Fatalf("Flush %s: %v", fl.DestinationType, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	line := " eni-a 2 111122223333 eni-a - - - - - 3 - 1709969700 1709969760 - OK"
	want := []string{s3.ID + line, cw.ID + line, fh.ID + line}
	if len(sink.lines) != len(want) {
		t.Fatalf("records: %q, want %q", sink.lines, want)
	}
	for i := range want {
		if sink.lines[i] != want[i] {
			t.Errorf("record %d: %q, want %q", i, sink.lines[i], want[i])
		}
	}
	if st := r.Stats(); len(st.Objects) != 0 || len(st.FirehoseObjects) != 0 {
		t.Errorf("objects written: %+v", st)
	}
	// Without a sink the record is an error, not a panic or a silent loss.
	r1 := rec("eni-a", 1709969700, 1709969760, 3)
	if err := (&Router{RecordsOnly: true}).Write(s3, &r1); err == nil {
		t.Error("RecordsOnly without Records: no error")
	}
}
