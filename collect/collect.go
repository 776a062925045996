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
//
// For throughput, fetching, compressing and writing overlap: the client
// fetches while the collector handles what it polled, objects filled are
// compressed in parallel (klauspost's gzip at level 1: about twice the
// speed of compress/gzip on flow-log text, and smaller) and put in order
// while the next ones fill, and one commit covers every object of a write.
package collect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
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

	mu       sync.Mutex
	bufs     map[tp]*batch // the batches being filled
	ready    []*batch      // full batches not yet being written, in the order filled
	inflight int64         // records of the objects being written
	stats    Stats

	// rebalance is set when the group waits for this collector to allow
	// a rebalance.
	rebalance atomic.Bool

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

// batch is a partition's records not yet in an object: their text, one
// line each, compressed only when the object is cut (on a goroutine of
// its own, so several objects compress at once).
type batch struct {
	k     tp
	first int64       // offset of the first record: the object's key
	last  *kgo.Record // committed once the object is durable
	text  []byte
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
	st.Pending += c.inflight
	for _, b := range c.bufs {
		st.Pending += int64(b.n)
	}
	for _, b := range c.ready {
		st.Pending += int64(b.n)
	}
	return st
}

// release forgets the batches of partitions this collector no longer
// owns: their records are uncommitted and the next owner reads them. It
// runs only while no object is being written (see Run).
func (c *Collector) release(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := map[tp]bool{}
	for topic, ps := range lost {
		for _, p := range ps {
			gone[tp{topic, p}] = true
		}
	}
	for k, b := range c.bufs {
		if gone[k] {
			c.dropLocked(b)
			delete(c.bufs, k)
		}
	}
	kept := c.ready[:0]
	for _, b := range c.ready {
		if gone[b.k] {
			c.dropLocked(b)
		} else {
			kept = append(kept, b)
		}
	}
	c.ready = kept
}

// dropLocked counts a batch let go; c.mu is held.
func (c *Collector) dropLocked(b *batch) {
	c.stats.Dropped += int64(b.n)
	c.m.dropped.Add(float64(b.n))
}

// Run consumes until ctx ends or writing or committing fails. When ctx
// ends, the batches in hand are written and committed (bounded by
// StopTimeout), so a stopped collector leaves nothing for the next one
// to read again; what that fails to write stays uncommitted and is read
// again.
//
// Fetching, and writing objects, overlap. The client fetches the next
// records while those polled are handled; a poll takes all it fetched.
// The objects filled are written on another goroutine (compressed in
// parallel, put in order, their offsets committed together once all are
// durable) while the loop polls and fills the next ones; one such write
// is in flight at a time. Rebalances stay blocked across polls (the
// client's BlockRebalanceOnPoll) and are allowed only with no write in
// flight, when the group asks for one: so a commit never covers a
// partition this collector no longer owns.
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
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { c.rebalance.Store(true) }),
		kgo.FetchMaxWait(time.Second),
		kgo.FetchMaxPartitionBytes(FetchPartitionBytes),
		kgo.FetchMaxBytes(FetchBytes),
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
	var writing chan error // the write in flight, if any
	allowed := time.Now()  // when rebalances were last allowed
	// finish waits for the write in flight; on its failure the batches in
	// hand are let go (their partitions' offsets must not pass it).
	finish := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		if err != nil {
			c.releaseAll()
		}
		return err
	}
	for {
		// A short poll while a write is in flight or objects wait for
		// one, so that the next write starts as soon as it may.
		wait := min(c.cfg.MaxWait, 2*time.Second)
		if writing != nil || c.readyBytes() > 0 {
			wait = 10 * time.Millisecond
		}
		pctx, cancel := context.WithTimeout(ctx, wait)
		fs := cl.PollFetches(pctx)
		cancel()
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				c.deps.Logger.Warn("kafka fetch", "topic", topic, "partition", p, "error", err)
			}
		})
		c.add(fs)
		if ctx.Err() != nil {
			if err := finish(); err != nil {
				// Stopping, and a write failed: what it left and the
				// batches in hand stay uncommitted, for the next
				// collector (counted as released).
				c.deps.Logger.Warn("at stop", "error", err)
				return nil
			}
			return c.cutAll(cl)
		}
		c.due()
		if writing != nil {
			if c.readyBytes() < maxReadyBytes {
				select {
				case err := <-writing:
					writing = nil
					if err != nil {
						c.releaseAll()
						return err
					}
				default:
					continue // poll again meanwhile
				}
			} else if err := finish(); err != nil {
				return err
			}
		}
		if c.rebalance.Swap(false) || time.Since(allowed) > time.Second {
			// Nothing in flight: the group may rebalance now; the next
			// poll waits for it (revoked partitions' batches let go).
			cl.AllowRebalance()
			allowed = time.Now()
			continue
		}
		c.mu.Lock()
		ready := c.ready
		c.ready = nil
		for _, b := range ready {
			c.inflight += int64(b.n)
		}
		c.mu.Unlock()
		if len(ready) == 0 {
			continue
		}
		writing = make(chan error, 1)
		go func() {
			// Written and committed whole even when ctx ends meanwhile (a
			// stop), bounded by StopTimeout.
			wctx, wcancel := afterEnd(ctx, StopTimeout)
			defer wcancel()
			writing <- c.write(wctx, cl, ready)
		}()
	}
}

// afterEnd is a context that ends d after ctx ends.
func afterEnd(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, cancel)
		context.AfterFunc(wctx, func() { t.Stop() })
	})
	return wctx, func() { stop(); cancel() }
}

// add appends the fetched records to their partitions' batches; the
// batches they fill (MaxRecords) go to ready.
func (c *Collector) add(fs kgo.Fetches) {
	c.mu.Lock() // Stats reads the batches
	defer c.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		b := c.batchOf(r)
		b.text = append(append(b.text, r.Value...), '\n')
		b.n++
		b.last = r
		if b.n >= c.cfg.MaxRecords {
			c.ready = append(c.ready, b)
			delete(c.bufs, b.k)
		}
	})
}

// due moves the batches whose first record waited MaxWait to ready.
func (c *Collector) due() {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, b := range c.bufs {
		if now.Sub(b.since) >= c.cfg.MaxWait {
			c.ready = append(c.ready, b)
			delete(c.bufs, k)
		}
	}
}

// maxReadyBytes bounds the text of the full batches waiting for the write
// in flight: past it, the loop waits for the write rather than polling.
const maxReadyBytes = 64 << 20

func (c *Collector) readyBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.ready {
		n += len(b.text)
	}
	return n
}

// releaseAll lets every batch in hand go, uncommitted.
func (c *Collector) releaseAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, b := range c.bufs {
		c.dropLocked(b)
		delete(c.bufs, k)
	}
	for _, b := range c.ready {
		c.dropLocked(b)
	}
	c.ready = nil
}

// batchOf is r's partition's batch; c.mu is held.
func (c *Collector) batchOf(r *kgo.Record) *batch {
	k := tp{r.Topic, r.Partition}
	b := c.bufs[k]
	if b == nil {
		b = &batch{k: k, first: r.Offset, since: time.Now(), text: textPool.Get().([]byte)[:0]}
		c.bufs[k] = b
	}
	return b
}

var (
	textPool = sync.Pool{New: func() any { return make([]byte, 0, 64<<10) }}
	gzPool   = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}
)

// Fetch sizes: a fetch of up to FetchBytes, FetchPartitionBytes of a
// partition (compressed batches), so that one fetch carries several
// objects' worth of records.
const (
	FetchPartitionBytes = 4 << 20
	FetchBytes          = 32 << 20
)

// StopTimeout bounds writing the batches in hand at a stop.
const StopTimeout = 30 * time.Second

// cutAll writes every batch in hand, at a stop: the full ones first, in
// the order filled, then those being filled.
func (c *Collector) cutAll(cl *kgo.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	c.mu.Lock()
	all := c.ready
	c.ready = nil
	for _, b := range all {
		c.inflight += int64(b.n)
	}
	for k, b := range c.bufs {
		all = append(all, b)
		c.inflight += int64(b.n)
		delete(c.bufs, k)
	}
	c.mu.Unlock()
	if err := c.write(ctx, cl, all); err != nil {
		return fmt.Errorf("at stop: %w", err)
	}
	return nil
}

// Key is the key of the object whose first record is at offset of
// topic's partition.
func Key(prefix, topic string, partition int32, offset int64) string {
	return fmt.Sprintf("%s%s/%d/%020d.log.gz", prefix, topic, partition, offset)
}

// object is a batch being compressed.
type object struct {
	b    *batch
	buf  bytes.Buffer
	err  error
	done chan struct{}
	put  bool
}

// compressors bounds the objects compressed at once.
const compressors = 4

// write compresses the batches (in parallel), puts them in order, and
// commits the offsets after the last record of each once they are all
// durable. At the first object that fails, the objects after it are not
// put (their records stay uncommitted, for the next owner; the caller
// lets the batches in hand go too, as their offsets must not move past
// the failed object). What was put before it is committed.
func (c *Collector) write(ctx context.Context, cl *kgo.Client, batches []*batch) error {
	if len(batches) == 0 {
		return nil
	}
	objs := make([]*object, len(batches))
	sem := make(chan struct{}, compressors)
	for i, b := range batches {
		o := &object{b: b, done: make(chan struct{})}
		objs[i] = o
		go func() {
			sem <- struct{}{}
			defer func() { <-sem; close(o.done) }()
			zw := gzPool.Get().(*gzip.Writer)
			o.buf.Grow(len(b.text) / 4)
			zw.Reset(&o.buf)
			zw.Write(b.text)
			o.err = zw.Close()
			gzPool.Put(zw)
		}()
	}
	var werr error
	durable := make([]*kgo.Record, 0, len(objs))
	var records, objects int64
	for _, o := range objs {
		<-o.done
		b := o.b
		if werr == nil {
			key := Key(c.cfg.Prefix, b.k.topic, b.k.partition, b.first)
			err := o.err
			if err == nil {
				data := o.buf.Bytes()
				err = c.deps.Sink.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
			}
			if err != nil {
				werr = fmt.Errorf("write %s (%d records, not committed): %w", key, b.n, err)
			} else {
				o.put = true
				durable = append(durable, b.last)
				records += int64(b.n)
				objects++
			}
		}
		textPool.Put(b.text[:0])
		b.text = nil
	}
	c.mu.Lock()
	var released int64
	for _, o := range objs {
		c.inflight -= int64(o.b.n)
		if !o.put {
			released += int64(o.b.n)
		}
	}
	c.mu.Unlock()
	if len(durable) > 0 {
		if err := cl.CommitRecords(ctx, durable...); err != nil {
			return errors.Join(werr, fmt.Errorf("commit after %d objects (written; the next collector writes them again): %w", len(durable), err))
		}
	}
	c.mu.Lock()
	c.stats.Records += records
	c.stats.Objects += objects
	c.stats.Dropped += released
	c.mu.Unlock()
	c.m.records.Add(float64(records))
	c.m.objects.Add(float64(objects))
	c.m.dropped.Add(float64(released))
	return werr
}
