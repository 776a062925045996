package kafkasink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// HeaderFlowLogID names the header holding a message's flow-log id.
const HeaderFlowLogID = "flow-log-id"

// Configuration of a Producer.
type Configuration struct {
	// Brokers are the seed brokers (HOST:PORT).
	Brokers []string
	// Topic receives every record; with TopicPerFlowLog it is the prefix
	// of each flow log's own topic (Topic + flow log id).
	Topic           string
	TopicPerFlowLog bool
	// MaxBuffered bounds the records waiting to be acknowledged (default
	// 100000); Publish blocks beyond it.
	MaxBuffered int
	// Linger lets a batch wait for more records (default 5ms).
	Linger time.Duration
	// BatchMaxBytes bounds a batch (default 1 MiB, Kafka's default
	// message.max.bytes).
	BatchMaxBytes int32
}

// Dependencies of a Producer.
type Dependencies struct {
	Registerer prometheus.Registerer // nil: not registered
	Logger     *slog.Logger
	// Dial replaces the connection dialer (tests).
	Dial func(ctx context.Context, network, host string) (net.Conn, error)
}

// Message is one record to publish.
type Message struct {
	FlowLogID   string
	InterfaceID string
	Value       []byte
}

// Stats count what a Producer did. Every message given to Publish is,
// after Flush, in Produced or in Failed.
type Stats struct {
	Published     int64 // given to Publish and buffered
	Produced      int64 // acknowledged by the brokers
	ProducedBytes int64 // their values' bytes
	Failed        int64 // refused for good (LastError says why)
	Backpressure  int64 // Publish calls that waited for room in the buffer
	LastError     string
}

// Producer publishes messages to Kafka.
type Producer struct {
	cfg  Configuration
	deps Dependencies
	cl   *kgo.Client

	mu      sync.Mutex
	stats   Stats
	flushed error // first failure since the last Flush

	m struct {
		messages *prometheus.CounterVec
		bytes    prometheus.Counter
		waits    prometheus.Counter
	}
}

// New checks the configuration; nothing connects before Start.
func New(cfg Configuration, deps Dependencies) (*Producer, error) {
	if len(cfg.Brokers) == 0 || cfg.Topic == "" {
		return nil, errors.New("kafkasink: Brokers and Topic are required")
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 100000
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.BatchMaxBytes <= 0 {
		cfg.BatchMaxBytes = 1 << 20
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Producer{cfg: cfg, deps: deps}
	lbl := prometheus.Labels{"topic": cfg.Topic}
	p.m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vpcflow_kafka_messages_total", ConstLabels: lbl,
		Help: "Flow-log records published to Kafka, by result: produced (acknowledged) or failed (refused for good)."}, []string{"result"})
	p.m.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_kafka_produced_bytes_total", ConstLabels: lbl,
		Help: "Bytes of the values of the acknowledged messages."})
	p.m.waits = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_kafka_backpressure_total", ConstLabels: lbl,
		Help: "Publish calls that waited because the producer's buffer was full (brokers slow or down)."})
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{p.m.messages, p.m.bytes, p.m.waits} {
			if err := deps.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// Start makes the client; it connects as it produces.
func (p *Producer) Start(ctx context.Context) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(p.cfg.Brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()), // the idempotent producer's requirement
		kgo.MaxBufferedRecords(p.cfg.MaxBuffered),
		kgo.ProducerLinger(p.cfg.Linger),
		kgo.ProducerBatchMaxBytes(p.cfg.BatchMaxBytes),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, as Kafka's Java client
		kgo.RecordRetries(-1 + 1<<31),                        // retry until the brokers take it
		kgo.UnknownTopicRetries(-1),
		kgo.RetryBackoffFn(func(n int) time.Duration { return min(time.Duration(n)*50*time.Millisecond, time.Second) }),
	}
	if p.deps.Dial != nil {
		opts = append(opts, kgo.Dialer(p.deps.Dial))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client for %v: %w", p.cfg.Brokers, err)
	}
	p.cl = cl
	return nil
}

// Stop flushes what is buffered (bounded by ctx) and closes the client.
func (p *Producer) Stop() {
	if p.cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.cl.Flush(ctx); err != nil {
		p.deps.Logger.Error("kafka flush at stop", "error", err, "buffered", p.cl.BufferedProduceRecords())
	}
	p.cl.Close()
	p.cl = nil
}

// Topic is the topic of a flow log's messages.
func (p *Producer) Topic(flowLogID string) string {
	if p.cfg.TopicPerFlowLog {
		return p.cfg.Topic + flowLogID
	}
	return p.cfg.Topic
}

// Publish buffers the message for producing; it waits while the buffer
// is full (counted). ctx bounds the wait and the message's life in the
// buffer: a message whose ctx ends before it is sent fails (counted, and
// Flush returns it), so callers pass a context that lives as long as the
// producer.
func (p *Producer) Publish(ctx context.Context, m Message) error {
	r := &kgo.Record{Topic: p.Topic(m.FlowLogID), Key: []byte(m.InterfaceID), Value: m.Value,
		Headers: []kgo.RecordHeader{{Key: HeaderFlowLogID, Value: []byte(m.FlowLogID)}}}
	size := int64(len(m.Value))
	done := func(_ *kgo.Record, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.stats.Failed++
			p.stats.LastError = err.Error()
			if p.flushed == nil {
				p.flushed = fmt.Errorf("kafka refused a record of %s (key %s): %w", m.FlowLogID, m.InterfaceID, err)
			}
			p.m.messages.WithLabelValues("failed").Inc()
			return
		}
		p.stats.Produced++
		p.stats.ProducedBytes += size
		p.m.messages.WithLabelValues("produced").Inc()
		p.m.bytes.Add(float64(size))
	}
	// The buffer full means Produce waits for the brokers to take some:
	// back-pressure on the caller, counted.
	if p.cl.BufferedProduceRecords() >= int64(p.cfg.MaxBuffered) {
		p.mu.Lock()
		p.stats.Backpressure++
		p.mu.Unlock()
		p.m.waits.Inc()
	}
	p.cl.Produce(ctx, r, done)
	p.mu.Lock()
	p.stats.Published++
	p.mu.Unlock()
	return ctx.Err()
}

// Flush waits until every buffered message is acknowledged or failed;
// it returns the first failure since the last Flush.
func (p *Producer) Flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.flushed
	p.flushed = nil
	return err
}

// Stats returns the counts so far.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Destination is a parsed kafka:// destination.
type Destination struct {
	Brokers []string
	Topic   string
}

// Parse reads "kafka://HOST:PORT[,HOST:PORT...]/TOPIC". A topic name is
// 1 to 249 characters of letters, digits, '.', '_' and '-', and not "."
// or "..", as Kafka requires.
func Parse(s string) (Destination, error) {
	rest, ok := strings.CutPrefix(s, "kafka://")
	if !ok {
		return Destination{}, fmt.Errorf("destination %q: want kafka://HOST:PORT[,HOST:PORT...]/TOPIC", s)
	}
	hosts, topic, ok := strings.Cut(rest, "/")
	if !ok || topic == "" {
		return Destination{}, fmt.Errorf("destination %q: want a topic after the brokers (kafka://HOST:PORT/TOPIC)", s)
	}
	if err := checkTopic(topic); err != nil {
		return Destination{}, fmt.Errorf("destination %q: %w", s, err)
	}
	var d Destination
	d.Topic = topic
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return Destination{}, fmt.Errorf("destination %q: broker %q: want HOST:PORT", s, h)
		}
		d.Brokers = append(d.Brokers, h)
	}
	return d, nil
}

func checkTopic(t string) error {
	if len(t) > 249 || t == "." || t == ".." {
		return fmt.Errorf("topic %q: want 1 to 249 characters, not '.' or '..'", t)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic %q: character %d (%q): want letters, digits, '.', '_' or '-'", t, i+1, c)
		}
	}
	return nil
}
