package kafkasink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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
//
// Publish runs on the caller's hot path (the delivery of every record),
// so it only copies the message into the batch being filled: the value
// into a shared arena, the record from a slab, the key and header shared
// per interface and flow log. A goroutine of its own hands the batches to
// franz-go (partitioning, buffering), in order, on the other core: a full
// batch at once, the one being filled once its first message waited
// Linger.
type Producer struct {
	cfg  Configuration
	deps Dependencies
	cl   *kgo.Client

	mu       sync.Mutex
	cur      []*kgo.Record   // the batch being filled
	curSince time.Time       // when its first message came
	queue    [][]*kgo.Record // full batches, in order, for the goroutine
	barriers []chan struct{} // closed once the batches queued before them are given to the client
	space    chan struct{}   // closed when the goroutine takes the queue
	closing  bool
	arena    []byte
	slab     []kgo.Record
	keys     map[string][]byte
	headers  map[string]flowLogMeta
	stats    Stats // Published, Backpressure, Failed, LastError
	flushed  error // first failure since the last Flush

	wake chan struct{} // (1) something for the goroutine
	done chan struct{} // closed when it ends

	produced, producedBytes atomic.Int64

	m struct {
		messages *prometheus.CounterVec
		produced prometheus.Counter
		waits    prometheus.Counter
	}
}

// flowLogMeta is what every message of a flow log shares.
type flowLogMeta struct {
	topic   string
	headers []kgo.RecordHeader
}

const (
	// batchLen is how many messages Publish gathers before handing them
	// over; small against MaxBuffered, so that back-pressure comes from
	// the client's buffer.
	batchLen = 256
	// queuedBatches may wait for the goroutine before Publish waits.
	queuedBatches = 32
	arenaChunk    = 256 << 10
	slabLen       = 1024
	// maxShared bounds the caches of keys and headers (interfaces and
	// flow logs); past it they are made per message.
	maxShared = 1 << 16
)

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
	p := &Producer{cfg: cfg, deps: deps, keys: map[string][]byte{}, headers: map[string]flowLogMeta{}, space: make(chan struct{})}
	lbl := prometheus.Labels{"topic": cfg.Topic}
	p.m.messages = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vpcflow_kafka_messages_total", ConstLabels: lbl,
		Help: "Flow-log records published to Kafka, by result: produced (acknowledged) or failed (refused for good)."}, []string{"result"})
	p.m.produced = p.m.messages.WithLabelValues("produced")
	bytes := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vpcflow_kafka_produced_bytes_total", ConstLabels: lbl,
		Help: "Bytes of the values of the acknowledged messages."}, func() float64 { return float64(p.producedBytes.Load()) })
	p.m.waits = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_kafka_backpressure_total", ConstLabels: lbl,
		Help: "Publish calls that waited because the producer's buffer was full (brokers slow or down)."})
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{p.m.messages, bytes, p.m.waits} {
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
		kgo.ProducerBatchCompression(kgo.SnappyCompression(), kgo.NoCompression()),
		kgo.RecordRetries(-1 + 1<<31), // retry until the brokers take it
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
	p.wake = make(chan struct{}, 1)
	p.done = make(chan struct{})
	go p.produce()
	return nil
}

func (p *Producer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// produce gives the batches to the client, in order: the queued ones,
// then the one being filled once it waited Linger (or at a barrier).
// Produce blocks while the client's buffer is full; the queue then fills
// and Publish waits: back-pressure.
func (p *Producer) produce() {
	defer close(p.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		q := p.queue
		p.queue = nil
		if p.cur != nil && (len(p.barriers) > 0 || p.closing || time.Since(p.curSince) >= p.cfg.Linger) {
			q = append(q, p.cur)
			p.cur = nil
		}
		barriers := p.barriers
		p.barriers = nil
		if q != nil {
			close(p.space)
			p.space = make(chan struct{})
		}
		closing, pending, since := p.closing, p.cur != nil, p.curSince
		p.mu.Unlock()
		for _, recs := range q {
			now := time.Now() // one clock read a batch, not one a message
			for _, r := range recs {
				r.Timestamp = now
				p.cl.Produce(r.Context, r, p.promise)
			}
		}
		for _, b := range barriers {
			close(b)
		}
		if len(q) > 0 || len(barriers) > 0 {
			continue
		}
		if closing {
			return
		}
		if pending {
			timer.Reset(max(p.cfg.Linger-time.Since(since), 0))
			select {
			case <-p.wake:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		<-p.wake
	}
}

// promise counts a message's result; one function for all, so producing
// allocates no closure a message.
func (p *Producer) promise(r *kgo.Record, err error) {
	if err == nil {
		p.produced.Add(1)
		p.producedBytes.Add(int64(len(r.Value)))
		p.m.produced.Inc()
		return
	}
	flowLog := ""
	if len(r.Headers) > 0 {
		flowLog = string(r.Headers[0].Value)
	}
	p.fail(fmt.Errorf("kafka refused a record of %s (key %s): %w", flowLog, r.Key, err))
}

func (p *Producer) fail(err error) {
	p.mu.Lock()
	p.stats.Failed++
	p.stats.LastError = errors.Unwrap(err).Error()
	if p.flushed == nil {
		p.flushed = err
	}
	p.mu.Unlock()
	p.m.messages.WithLabelValues("failed").Inc()
}

// Stop flushes what is buffered (bounded by ctx) and closes the client.
func (p *Producer) Stop() {
	if p.cl == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p.mu.Lock()
	p.closing = true
	p.mu.Unlock()
	p.poke()
	<-p.done
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

// Publish copies the message into the batch being filled (the caller may
// reuse Value once it returns); it waits while the producer's buffer is
// full (counted). ctx bounds the wait and the message's life in the
// buffer: a message whose ctx ends before it is sent fails (counted, and
// Flush returns it), so callers pass a context that lives as long as the
// producer.
func (p *Producer) Publish(ctx context.Context, m Message) error {
	p.mu.Lock()
	if len(p.queue) >= queuedBatches {
		p.stats.Backpressure++
		p.m.waits.Inc()
		for len(p.queue) >= queuedBatches {
			space := p.space
			p.mu.Unlock()
			select {
			case <-space:
			case <-ctx.Done():
				p.mu.Lock()
				p.stats.Published++
				p.mu.Unlock()
				p.fail(fmt.Errorf("kafka: a record of %s (key %s) waited for room in the buffer: %w", m.FlowLogID, m.InterfaceID, ctx.Err()))
				return ctx.Err()
			}
			p.mu.Lock()
		}
	}
	if p.closing {
		p.mu.Unlock()
		return errors.New("kafkasink: Publish after Stop")
	}
	meta, ok := p.headers[m.FlowLogID]
	if !ok {
		meta = flowLogMeta{topic: p.Topic(m.FlowLogID), headers: []kgo.RecordHeader{{Key: HeaderFlowLogID, Value: []byte(m.FlowLogID)}}}
		if len(p.headers) < maxShared {
			p.headers[m.FlowLogID] = meta
		}
	}
	key, ok := p.keys[m.InterfaceID]
	if !ok {
		key = []byte(m.InterfaceID)
		if len(p.keys) < maxShared {
			p.keys[m.InterfaceID] = key
		}
	}
	if len(p.arena)+len(m.Value) > cap(p.arena) {
		p.arena = make([]byte, 0, max(arenaChunk, len(m.Value)))
	}
	n := len(p.arena)
	p.arena = append(p.arena, m.Value...)
	if len(p.slab) == 0 {
		p.slab = make([]kgo.Record, slabLen)
	}
	r := &p.slab[0]
	p.slab = p.slab[1:]
	*r = kgo.Record{Topic: meta.topic, Key: key, Value: p.arena[n:len(p.arena):len(p.arena)], Headers: meta.headers, Context: ctx}
	p.stats.Published++
	wake := false
	if p.cur == nil {
		p.cur = make([]*kgo.Record, 0, batchLen)
		p.curSince = time.Now()
		wake = true // to time the linger
	}
	p.cur = append(p.cur, r)
	if len(p.cur) == batchLen {
		p.queue = append(p.queue, p.cur)
		p.cur = nil
		wake = true
	}
	p.mu.Unlock()
	if wake {
		p.poke()
	}
	return ctx.Err()
}

// Flush waits until every message published is acknowledged or failed;
// it returns the first failure since the last Flush.
func (p *Producer) Flush(ctx context.Context) error {
	b := make(chan struct{})
	p.mu.Lock()
	p.barriers = append(p.barriers, b)
	p.mu.Unlock()
	p.poke()
	select {
	case <-b:
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
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
	st := p.stats
	st.Produced = p.produced.Load()
	st.ProducedBytes = p.producedBytes.Load()
	return st
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
