package collect_test

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vpcflow/vpcflow/collect"
	"github.com/vpcflow/vpcflow/kafkasink"
	"github.com/vpcflow/vpcflow/objsink"
)

// benchTotal records, about the length of a default-format flow-log
// line.
const benchTotal = 400000

func benchLine(i int) []byte {
	return fmt.Appendf(nil, "2 111122223333 eni-0a%015x 10.0.%d.%d 198.51.100.7 %d 443 6 %d %d 1714564800 1714564860 ACCEPT OK",
		i%64, i/256%256, i%256, 32768+i%28000, 1+i%40, 60+i%9000)
}

// filledBroker is an in-process broker whose topic "flowlogs" of that
// many partitions holds benchTotal records of that many interfaces,
// published through kafkasink.
func filledBroker(b *testing.B, partitions int32, enis int) *kfake.Cluster {
	b.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "flowlogs"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(kc.Close)
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: kc.ListenAddrs(), Topic: "flowlogs"}, kafkasink.Dependencies{})
	if err != nil {
		b.Fatal(err)
	}
	p.Start(ctx)
	for i := range benchTotal {
		p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: fmt.Sprintf("eni-0a%015x", i%enis), Value: benchLine(i)})
	}
	if err := p.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	p.Stop()
	return kc
}

// discard is a sink that keeps nothing: the collector without the disk.
type discard struct{ bytes atomic.Int64 }

func (d *discard) Put(_ context.Context, _ string, _ io.ReaderAt, size int64) error {
	d.bytes.Add(size)
	return nil
}

// BenchmarkCollect drains a filled topic, in the same run: with a plain
// franz-go consumer that only counts records (what the broker serves:
// the bound of any consumer of it), with the collector writing to a sink
// that discards (fetch, gzip, commit), and with the collector writing to
// a directory (and the fsyncs). The collectors are timed from their
// first committed object to the last full one (10,000 records): the
// group's join before and the partial objects after, which wait for
// MaxWait, are not throughput. Records/s of each, and ratios to the plain
// consumer.
func BenchmarkCollect(b *testing.B) {
	b.Run("partitions=8", func(b *testing.B) { benchCollect(b, filledBroker(b, 8, 64)) })
	// One interface: one partition, as the capture of one interface.
	b.Run("partitions=1", func(b *testing.B) { benchCollect(b, filledBroker(b, 1, 1)) })
}

func benchCollect(b *testing.B, kc *kfake.Cluster) {
	var tFetch, tDiscard, tDir, cpuFetch, cpuDiscard, cpuDir time.Duration
	var nDiscard, nDir int64
	const perObject = 10000
	for i := 0; i < b.N; i++ {
		// The plain consumer: no group, no commit.
		start, cpu := time.Now(), selfCPU()
		cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("flowlogs"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Fatal(err)
		}
		perPartition := map[int32]int64{}
		n := 0
		for n < benchTotal {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) { perPartition[r.Partition]++ })
			n += fs.NumRecords()
		}
		cl.Close()
		tFetch += time.Since(start)
		cpuFetch += selfCPU() - cpu
		// The records of full objects.
		var full int64
		for _, n := range perPartition {
			full += n - n%perObject
		}

		run := func(sink collect.Putter, group string) (time.Duration, time.Duration, int64) {
			c, err := collect.New(collect.Configuration{Brokers: kc.ListenAddrs(), Topics: []string{"flowlogs"}, Group: group,
				MaxRecords: perObject, MaxWait: time.Second}, collect.Dependencies{Sink: sink})
			if err != nil {
				b.Fatal(err)
			}
			start, cpu := time.Now(), selfCPU()
			c.Start(ctx)
			deadline := time.Now().Add(2 * time.Minute)
			for {
				st := c.Stats()
				if st.Records >= full {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("collected %+v in 2 minutes", st)
				}
				time.Sleep(time.Millisecond)
			}
			el, elCPU := time.Since(start), selfCPU()-cpu
			if err := c.Stop(); err != nil {
				b.Fatal(err)
			}
			return el, elCPU, full
		}
		el, elCPU, n1 := run(&discard{}, fmt.Sprintf("discard-%d", i))
		tDiscard += el
		cpuDiscard += elCPU
		nDiscard += n1
		el, elCPU, n1 = run(objsink.Dir(filepath.Join(b.TempDir(), "bucket")), fmt.Sprintf("dir-%d", i))
		tDir += el
		cpuDir += elCPU
		nDir += n1
	}
	fetch := float64(b.N*benchTotal) / tFetch.Seconds()
	discard := float64(nDiscard) / tDiscard.Seconds()
	dir := float64(nDir) / tDir.Seconds()
	b.ReportMetric(fetch, "fetch-rec/s")
	b.ReportMetric(discard, "collect-discard-rec/s")
	b.ReportMetric(dir, "collect-dir-rec/s")
	b.ReportMetric(discard/fetch, "discard/fetch")
	b.ReportMetric(dir/fetch, "dir/fetch")
	// CPU of this process (broker and consumer) a record.
	b.ReportMetric(float64(cpuFetch.Nanoseconds())/float64(b.N*benchTotal), "fetch-cpu-ns/rec")
	b.ReportMetric(float64(cpuDiscard.Nanoseconds())/float64(nDiscard), "discard-cpu-ns/rec")
	b.ReportMetric(float64(cpuDir.Nanoseconds())/float64(nDir), "dir-cpu-ns/rec")
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
