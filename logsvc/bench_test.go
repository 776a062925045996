package logsvc

import (
	"fmt"
	"testing"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// benchEvents makes batches of flow-log lines over 16 interfaces; one line
// in 8 is a rejected SSH attempt, one in 4 is rejected.
func benchEvents(n, benchBatch int) [][]logstore.InputEvent {
	var out [][]logstore.InputEvent
	t0 := hour
	for b := 0; b*benchBatch < n; b++ {
		batch := make([]logstore.InputEvent, benchBatch)
		for i := range batch {
			k := b*benchBatch + i
			eni := fmt.Sprintf("eni-%017x", k%16)
			port, action := 443, "ACCEPT"
			switch k % 8 {
			case 0:
				port, action = 22, "REJECT"
			case 1:
				port, action = 3389, "REJECT"
			}
			msg := fmt.Sprintf("2 111122223333 %s 198.51.100.%d 10.1.2.15 %d %d 6 %d %d %d %d %s OK",
				eni, k%250, 40000+k%20000, port, 1+k%30, 40+k%9000, t0/1000+int64(k/100), t0/1000+int64(k/100)+60, action)
			batch[i] = logstore.InputEvent{Stream: eni + "-all", Timestamp: t0 + int64(k)*10, Message: []byte(msg)}
		}
		out = append(out, batch)
	}
	return out
}

var benchFilters = []metricfilter.Definition{
	{FilterName: "ssh", FilterPattern: sshPat,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "SSHRejects", MetricNamespace: "VPC", MetricValue: "1"}}},
	{FilterName: "rejects", FilterPattern: "REJECT",
		MetricTransformations: []metricfilter.Transformation{{MetricName: "Rejects", MetricNamespace: "VPC", MetricValue: "1", DefaultValue: ptr(0)}}},
	{FilterName: "bytes", FilterPattern: `[version, account, eni, source, destination, srcport, destport, protocol, packets, bytes, windowstart, windowend, action=ACCEPT, flowlogstatus]`,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "AcceptedBytes", MetricNamespace: "VPC", MetricValue: "$bytes",
			Dimensions: map[string]string{"Eni": "$eni"}, Unit: "Bytes"}}},
}

// BenchmarkIngest measures the internal ingestion path in events/s: plain
// logstore.Ingest (the baseline), the service with no filters, and the
// service with the three filters above plus an alarm, with batches of 1,000
// (flow-log delivery of a small window) and 10,000 events (`logs put`).
// Every batch is fsync'd in all three, so the ratios show what the filters
// and their second fsync'd transaction cost.
func BenchmarkIngest(b *testing.B) {
	for _, bs := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("batch=%d", bs), func(b *testing.B) { benchIngest(b, bs) })
	}
}

func benchIngest(b *testing.B, benchBatch int) {
	batches := benchEvents(200_000, benchBatch)
	type ingester interface {
		Ingest(string, []logstore.InputEvent) (logstore.IngestResult, error)
	}
	run := func(b *testing.B, open func(dir string) (ingester, func())) {
		ing, done := open(b.TempDir())
		defer done()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := ing.Ingest("vpc", batches[i%len(batches)]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("baseline-logstore", func(b *testing.B) {
		run(b, func(dir string) (ingester, func()) {
			s, err := logstore.Open(dir, logstore.Options{Account: testID.Account, Region: testID.Region})
			if err != nil {
				b.Fatal(err)
			}
			return s, func() { s.Close() }
		})
	})
	b.Run("logsvc-no-filters", func(b *testing.B) {
		run(b, func(dir string) (ingester, func()) {
			s, err := Open(dir, Options{Identity: testID})
			if err != nil {
				b.Fatal(err)
			}
			return s, func() { s.Close() }
		})
	})
	withFilters := func(dir string) *Service {
		s, err := Open(dir, Options{Identity: testID})
		if err != nil {
			b.Fatal(err)
		}
		s.Store().CreateLogGroup("vpc", logstore.GroupOptions{})
		for _, d := range benchFilters {
			d.LogGroupName = "vpc"
			if err := s.PutMetricFilter(d); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.PutMetricAlarm(sshAlarm()); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("logsvc-3-filters", func(b *testing.B) {
		run(b, func(dir string) (ingester, func()) {
			s := withFilters(dir)
			return s, func() { s.Close() }
		})
	})
	// Flow-log delivery's path: IngestOnce, each batch new (later rounds
	// over the batches move on in time, or they would be delivered again).
	b.Run("logsvc-3-filters-once", func(b *testing.B) {
		run(b, func(dir string) (ingester, func()) {
			s := withFilters(dir)
			return &onceIngester{s: s, batches: len(batches)}, func() { s.Close() }
		})
	})
}

// onceIngester delivers through IngestOnce as flow-log delivery does; from
// the second round over the benchmark's batches on, it moves them later by
// the span of the data set so they stay new.
type onceIngester struct {
	s       *Service
	batches int
	calls   int
}

func (o *onceIngester) Ingest(group string, evs []logstore.InputEvent) (logstore.IngestResult, error) {
	if round := o.calls / o.batches; round > 0 {
		evs = append([]logstore.InputEvent(nil), evs...)
		for i := range evs {
			evs[i].Timestamp += int64(round) * 200_000 * 10
		}
	}
	o.calls++
	return o.s.IngestOnce(group, "fl-1", evs)
}
