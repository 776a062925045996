package logsvc

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

func countKeys(t *testing.T, dir string, bucket []byte) int {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "metrics.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucket).Stats().KeyN
		return nil
	})
	return n
}

// TestBucketsNotPoints: metrics.db keeps one entry per metric bucket
// (metricfilter.BucketMs), not per datapoint, and a restart gives back the same per-minute statistics,
// sums bit for bit (values chosen so that float addition order matters).
func TestBucketsNotPoints(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
	f := metricfilter.Definition{LogGroupName: "vpc", FilterName: "bytes", FilterPattern: `[v, a, eni, src, dst, sp, dp, proto, packets, bytes, start, end, action, status]`,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "Bytes", MetricNamespace: "VPC", MetricValue: "$bytes"}}}
	if err := s.PutMetricFilter(f); err != nil {
		t.Fatal(err)
	}
	// 600 events over 3 minutes, in 6 batches; byte values with fractions.
	for batch := range 6 {
		var e []logstore.InputEvent
		for i := range 100 {
			n := batch*100 + i
			msg := fmt.Sprintf("2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 %d.%d 1 2 ACCEPT OK", n*7919%1000, n%10)
			e = append(e, logstore.InputEvent{Stream: stream, Timestamp: hour + int64(n)*300, Message: []byte(msg)})
		}
		mustIngest(t, s, "vpc", e)
	}
	want := s.MetricStats("VPC", "Bytes", nil)
	if len(want) != 3 {
		t.Fatalf("%d minutes, want 3", len(want))
	}
	s.Close()
	// 600 datapoints 300 ms apart span 180 s: one entry per bucket.
	if n, want := countKeys(t, dir, bBuckets), int(180_000/metricfilter.BucketMs); n != want {
		t.Errorf("metrics.db holds %d bucket entries for 600 datapoints in 180 s, want %d", n, want)
	}
	if n := countKeys(t, dir, bPoints); n != 0 {
		t.Errorf("metrics.db holds %d datapoint batches, want 0", n)
	}
	s = open(t, dir)
	defer s.Close()
	if got := s.MetricStats("VPC", "Bytes", nil); !reflect.DeepEqual(got, want) {
		t.Errorf("after restart:\n got %+v\nwant %+v", got, want)
	}
}

// TestLegacyPointsFolded: a metrics.db written when datapoints were saved
// one by one opens with the same statistics, and is folded into bucket
// statistics at that open.
func TestLegacyPointsFolded(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Close()
	dps := []metricfilter.Datapoint{
		{Namespace: "VPC", MetricName: "Bytes", Unit: "Bytes", Timestamp: hour + 1000, Value: 0.1},
		{Namespace: "VPC", MetricName: "Bytes", Unit: "Bytes", Timestamp: hour + 2000, Value: 0.2},
		{Namespace: "VPC", MetricName: "Bytes", Unit: "Bytes", Timestamp: hour + 61000, Value: 5},
		{Namespace: "VPC", MetricName: "Bytes", Dimensions: []metricfilter.Dimension{{Name: "Eni", Value: "eni-1"}}, Timestamp: hour, Value: 7},
	}
	db, err := bolt.Open(filepath.Join(dir, "metrics.db"), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bPoints).Put(u64(1), encodePoints(dps[:2])); err != nil {
			return err
		}
		return tx.Bucket(bPoints).Put(u64(2), encodePoints(dps[2:]))
	})
	db.Close()
	check := func(s *Service) {
		t.Helper()
		got := s.MetricStats("VPC", "Bytes", nil)
		a, b := 0.1, 0.2 // added at run time: 0.30000000000000004, as the engine adds them
		want := []metricfilter.MinuteStat{
			{Minute: hour, Stats: metricfilter.Stats{SampleCount: 2, Sum: a + b, Minimum: 0.1, Maximum: 0.2}},
			{Minute: hour + 60000, Stats: metricfilter.Stats{SampleCount: 1, Sum: 5, Minimum: 5, Maximum: 5}},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
		if got := s.MetricStats("VPC", "Bytes", []metricfilter.Dimension{{Name: "Eni", Value: "eni-1"}}); len(got) != 1 || got[0].Sum != 7 {
			t.Errorf("with dimension: %+v", got)
		}
	}
	s = open(t, dir)
	check(s)
	s.Close()
	if n, m := countKeys(t, dir, bPoints), countKeys(t, dir, bBuckets); n != 0 || m != 3 {
		t.Errorf("after the first open: %d datapoint batches, %d bucket entries; want 0 and 3", n, m)
	}
	s = open(t, dir)
	defer s.Close()
	check(s)
}
