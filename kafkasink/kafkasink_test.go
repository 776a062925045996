package kafkasink_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/vpcflow/vpcflow/kafkasink"
)

var ctx = context.Background()

// freePort is a port nothing listens on now, to restart a broker on.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func cluster(t *testing.T, port int, dir string, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.Ports(port), kfake.DataDir(dir), kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// line is a flow-log record's text with a sequence number per interface
// in its packets field, so the consumer can tell order and duplicates.
func line(eni string, seq int) string {
	return fmt.Sprintf("2 111122223333 %s 10.0.1.10 198.51.100.7 443 49152 6 %d 8400 1714564800 1714564860 ACCEPT OK", eni, seq)
}

// consume reads n messages of topic from the start, bounded in time.
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for len(out) < n && deadline.Err() == nil {
		fs := cl.PollFetches(deadline)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	// Anything more would be a duplicate: one more short poll.
	short, cancel2 := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel2()
	cl.PollFetches(short).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	return out
}

// checkOrder checks that every interface's records came once each, in
// the order published (sequence 0, 1, 2...), keyed by the interface, with
// the flow log's id in the header.
func checkOrder(t *testing.T, recs []*kgo.Record, perENI map[string]int, flowLog string) {
	t.Helper()
	next := map[string]int{}
	for _, r := range recs {
		eni := string(r.Key)
		f := strings.Fields(string(r.Value))
		if len(f) != 14 || f[2] != eni {
			t.Fatalf("message %q keyed %q", r.Value, eni)
		}
		seq, _ := strconv.Atoi(f[8])
		if seq != next[eni] {
			t.Fatalf("%s: sequence %d after %d (a duplicate, a gap or out of order)", eni, seq, next[eni]-1)
		}
		next[eni]++
		if len(r.Headers) != 1 || r.Headers[0].Key != kafkasink.HeaderFlowLogID || string(r.Headers[0].Value) != flowLog {
			t.Fatalf("headers %v", r.Headers)
		}
	}
	for eni, n := range perENI {
		if next[eni] != n {
			t.Errorf("%s: %d records consumed, %d published", eni, next[eni], n)
		}
	}
}

// Every record is produced once, in order per interface, though the
// broker is closed while records are produced and started again on the
// same port and data: Publish waits meanwhile (back-pressure, counted),
// and the idempotent producer's retries write nothing twice. kfake's
// Close is a clean shutdown (state saved); a broker killed without one
// is not what this tests.
func TestBrokerRestart(t *testing.T) {
	port, dir := freePort(t), t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c1 := cluster(t, port, dir, kfake.SeedTopics(4, "flowlogs"))
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: []string{addr}, Topic: "flowlogs", MaxBuffered: 500},
		kafkasink.Dependencies{Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const total, enis = 20000, 16
	perENI := map[string]int{}
	var restarted sync.WaitGroup
	var c2 *kfake.Cluster
	for i := range total {
		eni := fmt.Sprintf("eni-0a%015x", i%enis)
		if err := p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-0a1b2c3d4e5f60001", InterfaceID: eni, Value: []byte(line(eni, perENI[eni]))}); err != nil {
			t.Fatal(err)
		}
		perENI[eni]++
		if i == total/4 {
			c1.Close()
			restarted.Add(1)
			go func() {
				defer restarted.Done()
				time.Sleep(500 * time.Millisecond)
				c2 = cluster(t, port, dir)
			}()
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := p.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	restarted.Wait()
	defer c2.Close()
	st := p.Stats()
	if st.Published != total || st.Produced != total || st.Failed != 0 || st.Backpressure == 0 {
		t.Errorf("stats %+v; want %d published and produced, none failed, some back-pressure while the broker was down", st, total)
	}
	p.Stop()
	recs := consume(t, addr, "flowlogs", total)
	if len(recs) != total {
		t.Errorf("consumed %d records, published %d", len(recs), total)
	}
	checkOrder(t, recs, perENI, "fl-0a1b2c3d4e5f60001")
}

// A topic per flow log: each flow log's records in its own topic.
func TestTopicPerFlowLog(t *testing.T) {
	c := cluster(t, 0, t.TempDir(), kfake.SeedTopics(2, "vpcflow.fl-1", "vpcflow.fl-2"))
	defer c.Close()
	addr := c.ListenAddrs()[0]
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: []string{addr}, Topic: "vpcflow.", TopicPerFlowLog: true}, kafkasink.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		fl := "fl-" + strconv.Itoa(1+i%2)
		p.Publish(ctx, kafkasink.Message{FlowLogID: fl, InterfaceID: "eni-1", Value: []byte(line("eni-1", i/2))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	for _, fl := range []string{"fl-1", "fl-2"} {
		recs := consume(t, addr, "vpcflow."+fl, 50)
		checkOrder(t, recs, map[string]int{"eni-1": 50}, fl)
	}
}

// A record the broker refuses for good (larger than a batch may be) is
// counted as failed and Flush returns why; the others are produced.
func TestRefusedCounted(t *testing.T) {
	c := cluster(t, 0, t.TempDir(), kfake.SeedTopics(1, "flowlogs"))
	defer c.Close()
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: c.ListenAddrs(), Topic: "flowlogs", BatchMaxBytes: 1000}, kafkasink.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: "eni-1", Value: []byte(line("eni-1", 0))})
	p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: "eni-1", Value: []byte(strings.Repeat("x", 5000))})
	err = p.Flush(ctx)
	if err == nil || !strings.Contains(err.Error(), "MESSAGE_TOO_LARGE") {
		t.Errorf("Flush: %v; want the refusal", err)
	}
	if st := p.Stats(); st.Produced != 1 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestParse(t *testing.T) {
	d, err := kafkasink.Parse("kafka://127.0.0.1:9092,broker-2:9093/vpc.flow_logs-1")
	if err != nil || strings.Join(d.Brokers, " ") != "127.0.0.1:9092 broker-2:9093" || d.Topic != "vpc.flow_logs-1" {
		t.Errorf("Parse: %+v, %v", d, err)
	}
	for in, want := range map[string]string{
		"kafka://h:9092":      "want a topic",
		"kafka://h:9092/":     "want a topic",
		"kafka://h/topic":     `broker "h": want HOST:PORT`,
		"kafka://h:x/topic":   `broker "h:x"`,
		"kafka://h:9092/a b":  "character 2",
		"kafka://h:9092/..":   "not '.' or '..'",
		"s3://bucket":         "want kafka://",
		"kafka://h:9092,:1/t": `broker ":1"`,
		"kafka://h:9092/" + strings.Repeat("t", 250): "1 to 249",
	} {
		if _, err := kafkasink.Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q): %v; want an error saying %q", in, err, want)
		}
	}
}

// Parse never panics; what it accepts has brokers HOST:PORT and a topic
// of Kafka's characters.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"kafka://127.0.0.1:9092/flowlogs", "kafka://[::1]:9092,a:1/t", "kafka://a:1/", "kafka://:/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := kafkasink.Parse(s)
		if err != nil {
			return
		}
		if d.Topic == "" || strings.Trim(d.Topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || len(d.Brokers) == 0 {
			t.Fatalf("Parse(%q) = %+v", s, d)
		}
		for _, b := range d.Brokers {
			if h, p, err := net.SplitHostPort(b); err != nil || h == "" || p == "" {
				t.Fatalf("Parse(%q): broker %q", s, b)
			}
		}
	})
}
