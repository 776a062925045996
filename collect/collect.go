// Package collect gathers flow-log records published to Kafka (package
// kafkasink) into objects written through a sink (package objsink), so
// that the records of many producers end up as objects in one store.
//
// It exists to close the loop of scale-out without losing or doubling a
// record across crashes. The consumer group's offsets are committed only
// after the object holding the records is durable (the sink returned:
// renamed into place, uploaded, or spooled for replay), one object per
// partition at a time, so at most the object in flight when a collector
// dies is not committed. An object's key is fixed by its first record's
// place (topic, partition, first offset): the collector that resumes
// reads the same records from the committed offset and writes an object
// under the same key, replacing the one the dead collector wrote. So
// every record is in exactly one object, provided the sink replaces an
// object put again under a key (a directory and S3 do).
//
// An object is the gzip of the messages' values, one per line, under
// PREFIX TOPIC/PARTITION/FIRSTOFFSET.log.gz (the offset in 20 digits, so
// keys list in offset order).
package collect

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Putter stores an object by key, replacing one already there
// (objsink.Sink and objsink.Writer are Putters).
type Putter interface {
	Put(ctx context.Context, key string, body io.ReaderAt, size int64) error
}

// Configuration of a Collector.
type Configuration struct {
	Brokers []string
	Topics  []string
	// Group is the consumer group; collectors of one group share the
	// partitions and resume from its committed offsets.
	Group string
	// Prefix starts every key ("" or ending in "/").
	Prefix string
	// MaxRecords cuts an object (default 10000); MaxWait cuts one that
	// has waited that long since its first record (default 1 minute).
	MaxRecords int
	MaxWait    time.Duration
	// SessionTimeout is how long the group waits for a collector that
	// stopped answering (killed) before its partitions go to the others
	// (default: the client's, 45s).
	SessionTimeout time.Duration
}

// Dependencies of a Collector.
type Dependencies struct {
	Sink       Putter
	Registerer prometheus.Registerer // nil: not registered
	Logger     *slog.Logger
}

// Stats count what a Collector did.
type Stats struct {
	Records int64 // records written in objects whose offsets were committed
	Objects int64 // objects written and committed
	Dropped int64 // records read but left for the partition's next owner (revoked before their object was cut)
	Pending int64 // records read and not yet in an object
}

// Collector consumes topics and writes their records as objects.
type Collector struct {
	cfg  Configuration
	deps Dependencies

	mu    sync.Mutex
	bufs  map[tp]*batch
	stats Stats

	m struct {
		records, objects, dropped prometheus.Counter
	}
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's, once done is closed
}

type tp struct {
	topic     string
	partition int32
}

// batch is a partition's records not yet in an object.
type batch struct {
	first *kgo.Record
	last  *kgo.Record
	buf   bytes.Buffer
	zw    *gzip.Writer
	n     int
	since time.Time
}

// New checks the configuration; nothing is consumed before Start.
func New(cfg Configuration, deps Dependencies) (*Collector, error) {
	if len(cfg.Brokers) == 0 || len(cfg.Topics) == 0 || cfg.Group == "" || deps.Sink == nil {
		return nil, errors.New("collect: Brokers, Topics, Group and a Sink are required")
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 10000
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Minute
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Collector{cfg: cfg, deps: deps, bufs: map[tp]*batch{}}
	lbl := prometheus.Labels{"group": cfg.Group}
	c.m.records = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_collect_records_total", ConstLabels: lbl,
		Help: "Records written into objects whose offsets were committed."})
	c.m.objects = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_collect_objects_total", ConstLabels: lbl,
		Help: "Objects written and committed."})
	c.m.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_collect_records_released_total", ConstLabels: lbl,
		Help: "Records read but left to the partition's next owner (revoked before their object was cut; read again there)."})
	if deps.Registerer != nil {
		for _, col := range []prometheus.Collector{c.m.records, c.m.objects, c.m.dropped} {
			if err := deps.Registerer.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// Start consumes in the background until Stop or an error (Err).
func (c *Collector) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() { c.err = c.Run(ctx); close(c.done) }()
	return nil
}

// Done is closed when the collector started by Start ends (Stop, or
// an error: see Err).
func (c *Collector) Done() <-chan struct{} { return c.done }

// Err is Run's error once Done is closed.
func (c *Collector) Err() error {
	<-c.done
	return c.err
}

// Stop ends consuming, writing the batches in hand as objects first (see
// Run). It returns Run's error, if any.
func (c *Collector) Stop() error {
	if c.cancel == nil {
		return nil
	}
	c.cancel()
	<-c.done
	c.cancel = nil
	return c.err
}

// Stats returns the counts so far.
func (c *Collector) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	for _, b := range c.bufs {
		st.Pending += int64(b.n)
	}
	return st
}

// release forgets the batches of partitions this collector no longer
// owns: their records are uncommitted and the next owner reads them.
func (c *Collector) release(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic, ps := range lost {
		for _, p := range ps {
			if b := c.bufs[tp{topic, p}]; b != nil {
				c.stats.Dropped += int64(b.n)
				c.m.dropped.Add(float64(b.n))
				delete(c.bufs, tp{topic, p})
			}
		}
	}
}

// Run consumes until ctx ends or writing or committing fails. When ctx
// ends, the batches in hand are written and committed (bounded by
// StopTimeout), so a stopped collector leaves nothing for the next one
// to read again; what that fails to write stays uncommitted and is read
// again.
func (c *Collector) Run(ctx context.Context) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.cfg.Brokers...),
		kgo.ConsumerGroup(c.cfg.Group),
		kgo.ConsumeTopics(c.cfg.Topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(c.release),
		kgo.OnPartitionsLost(c.release),
		kgo.FetchMaxWait(time.Second),
	}
	if c.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(c.cfg.SessionTimeout), kgo.HeartbeatInterval(max(c.cfg.SessionTimeout/6, 100*time.Millisecond)))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka client for %v: %w", c.cfg.Brokers, err)
	}
	// Leaving the group is a rebalance, which BlockRebalanceOnPoll holds
	// back until allowed.
	defer cl.CloseAllowingRebalance()
	for {
		pctx, cancel := context.WithTimeout(ctx, min(c.cfg.MaxWait, 2*time.Second))
		fs := cl.PollRecords(pctx, c.cfg.MaxRecords)
		cancel()
		if ctx.Err() != nil {
			return c.cutAll(cl)
		}
		var ferr error
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				c.deps.Logger.Warn("kafka fetch", "topic", topic, "partition", p, "error", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if ferr != nil {
				return
			}
			b := c.batchOf(r)
			b.zw.Write(r.Value)
			b.zw.Write([]byte{'\n'})
			c.mu.Lock() // Stats reads n
			b.n++
			n := b.n
			c.mu.Unlock()
			b.last = r
			if n >= c.cfg.MaxRecords {
				ferr = c.cut(ctx, cl, tp{r.Topic, r.Partition})
			}
		})
		if ferr == nil {
			ferr = c.cutWaiting(ctx, cl)
		}
		if ferr != nil && ctx.Err() != nil {
			ferr = c.cutAll(cl)
			cl.AllowRebalance()
			return ferr
		}
		cl.AllowRebalance()
		if ferr != nil {
			return ferr
		}
	}
}

func (c *Collector) batchOf(r *kgo.Record) *batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := tp{r.Topic, r.Partition}
	b := c.bufs[k]
	if b == nil {
		b = &batch{first: r, since: time.Now()}
		// Level 1, as package deliver's objects: a third of the default's
		// CPU for objects about a quarter larger.
		b.zw, _ = gzip.NewWriterLevel(&b.buf, gzip.BestSpeed)
		c.bufs[k] = b
	}
	return b
}

// StopTimeout bounds writing the batches in hand at a stop.
const StopTimeout = 30 * time.Second

// cutAll writes every batch in hand, at a stop.
func (c *Collector) cutAll(cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	c.mu.Lock()
	var all []tp
	for k := range c.bufs {
		all = append(all, k)
	}
	c.mu.Unlock()
	for _, k := range all {
		if err := c.cut(ctx, cl, k); err != nil {
			return fmt.Errorf("at stop: %w", err)
		}
	}
	return nil
}

// cutWaiting cuts the batches that waited MaxWait.
func (c *Collector) cutWaiting(ctx context.Context, cl *kgo.Client) error {
	c.mu.Lock()
	var due []tp
	for k, b := range c.bufs {
		if time.Since(b.since) >= c.cfg.MaxWait {
			due = append(due, k)
		}
	}
	c.mu.Unlock()
	for _, k := range due {
		if err := c.cut(ctx, cl, k); err != nil {
			return err
		}
	}
	return nil
}

// Key is the key of the object whose first record is at offset of
// topic's partition.
func Key(prefix, topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s%s/%d/%020d.log.gz", prefix, topic, partition, offset)
}

// cut writes a partition's batch as an object, then commits the offset
// after its last record.
func (c *Collector) cut(ctx context.Context, cl *kgo.Client, k tp) error {
	c.mu.Lock()
	b := c.bufs[k]
	delete(c.bufs, k)
	c.mu.Unlock()
	if b == nil {
		return nil
	}
	if err := b.zw.Close(); err != nil {
		return err
	}
	key := Key(c.cfg.Prefix, k.topic, k.partition, b.first.Offset)
	data := b.buf.Bytes()
	if err := c.deps.Sink.Put(ctx, key, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("write %s (%d records, not committed): %w", key, b.n, err)
	}
	if err := cl.CommitRecords(ctx, b.last); err != nil {
		return fmt.Errorf("commit after %s (written; the next collector writes it again): %w", key, err)
	}
	c.mu.Lock()
	c.stats.Records += int64(b.n)
	c.stats.Objects++
	c.mu.Unlock()
	c.m.records.Add(float64(b.n))
	c.m.objects.Inc()
	return nil
}
