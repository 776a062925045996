package kafkasink_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vpcflow/vpcflow/kafkasink"
)

const benchTotal = 200000

func benchLines() ([][]byte, []string) {
	lines := make([][]byte, benchTotal)
	enis := make([]string, benchTotal)
	for i := range lines {
		enis[i] = fmt.Sprintf("eni-0a%015x", i%64)
		lines[i] = fmt.Appendf(nil, "2 111122223333 %s 10.0.%d.%d 198.51.100.7 %d 443 6 %d %d 1714564800 1714564860 ACCEPT OK",
			enis[i], i/256%256, i%256, 32768+i%28000, 1+i%40, 60+i%9000)
	}
	return lines, enis
}

// BenchmarkPublish publishes the same 200,000 records of 64 interfaces
// into an in-process broker (kfake, 8 partitions), in the same run:
// through a bare franz-go producer with the records made beforehand (what
// the client and the broker can take: the bound of any publisher), and
// through kafkasink.Producer (a record made per message, the header, the
// counting). Records/s of each, then consumed back by a bare consumer
// (what the broker serves), and the ratios; caller-ns/rec is the time
// spent in Publish a message (with the broker taking all it can, the
// wait for room), cpu-ns/rec the CPU of this process (client and broker)
// a message.
func BenchmarkPublish(b *testing.B) {
	lines, enis := benchLines()
	var tRaw, tSink, tCalls, tFetch, cpuRaw, cpuSink time.Duration
	for i := 0; i < b.N; i++ {
		kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "raw", "sink"))
		if err != nil {
			b.Fatal(err)
		}
		recs := make([]kgo.Record, benchTotal)
		for j := range recs {
			recs[j] = kgo.Record{Topic: "raw", Key: []byte(enis[j]), Value: lines[j],
				Headers: []kgo.RecordHeader{{Key: kafkasink.HeaderFlowLogID, Value: []byte("fl-1")}}}
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
			kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(100000))
		if err != nil {
			b.Fatal(err)
		}
		start, cpu := time.Now(), selfCPU()
		for j := range recs {
			cl.Produce(ctx, &recs[j], nil)
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		tRaw += time.Since(start)
		cpuRaw += selfCPU() - cpu
		cl.Close()

		p, err := kafkasink.New(kafkasink.Configuration{Brokers: kc.ListenAddrs(), Topic: "sink"}, kafkasink.Dependencies{})
		if err != nil {
			b.Fatal(err)
		}
		p.Start(ctx)
		start, cpu = time.Now(), selfCPU()
		for j := range lines {
			p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: enis[j], Value: lines[j]})
		}
		tCalls += time.Since(start)
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		tSink += time.Since(start)
		cpuSink += selfCPU() - cpu
		if st := p.Stats(); st.Produced != benchTotal {
			b.Fatalf("stats %+v", st)
		}
		p.Stop()

		start = time.Now()
		cons, err := kgo.NewClient(kgo.SeedBrokers(kc.ListenAddrs()...), kgo.ConsumeTopics("sink"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < benchTotal; {
			n += cons.PollFetches(ctx).NumRecords()
		}
		tFetch += time.Since(start)
		cons.Close()
		kc.Close()
	}
	n := float64(b.N * benchTotal)
	b.ReportMetric(n/tRaw.Seconds(), "raw-produce-rec/s")
	b.ReportMetric(n/tSink.Seconds(), "publish-rec/s")
	b.ReportMetric(n/tFetch.Seconds(), "fetch-rec/s")
	b.ReportMetric(tRaw.Seconds()/tSink.Seconds(), "publish/raw")
	// What the caller waits in Publish, a message, and the CPU of a
	// message (client and broker both: this process).
	b.ReportMetric(float64(tCalls.Nanoseconds())/n, "caller-ns/rec")
	b.ReportMetric(float64(cpuRaw.Nanoseconds())/n, "raw-cpu-ns/rec")
	b.ReportMetric(float64(cpuSink.Nanoseconds())/n, "publish-cpu-ns/rec")
}

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
