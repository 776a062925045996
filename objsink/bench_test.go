package objsink_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/vpcflow/vpcflow/kafkasink"
	"github.com/vpcflow/vpcflow/objsink"
)

// benchRecords and benchPerObject shape the workload: flow-log records
// in gzip objects as the delivery writes them (10,000 records an object).
const (
	benchRecords   = 100000
	benchPerObject = 10000
)

func benchLines() [][]byte {
	out := make([][]byte, benchRecords)
	for i := range out {
		out[i] = fmt.Appendf(nil, "2 111122223333 eni-0a%015x 10.0.%d.%d 198.51.100.7 %d 443 6 %d %d 1714564800 1714564860 ACCEPT OK\n",
			i%64, i/256%256, i%256, 32768+i%28000, 1+i%40, 60+i%9000)
	}
	return out
}

func benchObjects(b *testing.B, lines [][]byte) []object {
	var out []object
	for i := 0; i < len(lines); i += benchPerObject {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"))
		for _, l := range lines[i:min(i+benchPerObject, len(lines))] {
			zw.Write(l)
		}
		zw.Close()
		out = append(out, object{fmt.Sprintf("AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/05/01/obj_%06d.log.gz", i/benchPerObject), buf.Bytes()})
	}
	return out
}

// BenchmarkSinks moves the same 100,000 records (10 gzip objects) into
// the local-directory sink (the baseline), into `vpcflow serve`'s S3 API
// through the S3 sink, and (one message per record) into an in-process
// kfake broker, each iteration; it reports records per second of each
// and their ratios to the local sink measured in the same run.
func BenchmarkSinks(b *testing.B) {
	credentialsFromEnv(b)
	s := startServer(b)
	lines := benchLines()
	objs := benchObjects(b, lines)
	dir := objsink.Dir(filepath.Join(b.TempDir(), "bucket"))
	s3sink := newS3Sink(b, s, "", nil)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "flowlogs"))
	if err != nil {
		b.Fatal(err)
	}
	defer kc.Close()
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: kc.ListenAddrs(), Topic: "flowlogs"}, kafkasink.Dependencies{})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer p.Stop()
	var tDir, tS3, tKafka time.Duration
	put := func(sink objsink.Sink) time.Duration {
		start := time.Now()
		for _, o := range objs {
			if err := sink.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data))); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	for b.Loop() {
		tDir += put(dir)
		tS3 += put(s3sink)
		start := time.Now()
		for i, l := range lines {
			p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-0a1b2c3d4e5f60001", InterfaceID: "eni-" + strconv.Itoa(i%64), Value: l[:len(l)-1]})
		}
		if err := p.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		tKafka += time.Since(start)
	}
	n := float64(b.N * benchRecords)
	b.ReportMetric(n/tDir.Seconds(), "dir-rec/s")
	b.ReportMetric(n/tS3.Seconds(), "s3-rec/s")
	b.ReportMetric(n/tKafka.Seconds(), "kafka-rec/s")
	b.ReportMetric(tDir.Seconds()/tS3.Seconds(), "s3/dir")
	b.ReportMetric(tDir.Seconds()/tKafka.Seconds(), "kafka/dir")
}
