package objsink

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Configuration of a Writer.
type Configuration struct {
	// SpoolDir keeps the objects the sink did not take (in the data dir);
	// "" spools nothing and returns the sink's error instead.
	SpoolDir string
	// Attempts is how often a Put tries the sink before spooling
	// (default 4).
	Attempts int
	// Backoff is the wait after the first failure, doubled after each
	// (with jitter) up to MaxBackoff (defaults 200ms and 5s).
	Backoff, MaxBackoff time.Duration
	// ReplayEvery is how often the spool is replayed after Start's replay
	// (default 30s; negative: only at Start).
	ReplayEvery time.Duration
}

// DefaultConfiguration is the Writer's defaults.
func DefaultConfiguration() Configuration {
	return Configuration{Attempts: 4, Backoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, ReplayEvery: 30 * time.Second}
}

// Dependencies of a Writer.
type Dependencies struct {
	Sink Sink
	// Registerer takes the counters (nil: not registered).
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Stats count what a Writer did. Every object given to Put is, once Put
// returns, in exactly one of Put (taken at once or after retries),
// Spooled (then Replayed when the sink took it, or still Pending) or
// Failed (Put returned the error: neither the sink nor the spool took it).
type Stats struct {
	Put, PutBytes int64
	Retries       int64 // sink attempts that failed and were tried again
	Spooled       int64
	Replayed      int64
	ReplayErrors  int64 // replay attempts the sink refused (the object stays)
	Failed        int64
	Pending       int64 // objects in the spool now
}

// Writer puts objects into a sink, retrying, and spools those the sink
// does not take, replaying them at Start and every ReplayEvery.
type Writer struct {
	cfg  Configuration
	sink Sink
	log  *slog.Logger

	mu    sync.Mutex
	stats Stats
	// replayMu lets one replay run at a time.
	replayMu sync.Mutex
	seq      uint64

	m       *writerMetrics
	stop    chan struct{}
	stopped chan struct{}
}

type writerMetrics struct {
	objects *prometheus.CounterVec
	bytes   prometheus.Counter
	retries prometheus.Counter
	pending prometheus.Gauge
}

// New checks the configuration; nothing is replayed before Start.
func New(cfg Configuration, deps Dependencies) (*Writer, error) {
	if deps.Sink == nil {
		return nil, errors.New("objsink: a Sink is required")
	}
	d := DefaultConfiguration()
	if cfg.Attempts <= 0 {
		cfg.Attempts = d.Attempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = d.Backoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = d.MaxBackoff
	}
	if cfg.ReplayEvery == 0 {
		cfg.ReplayEvery = d.ReplayEvery
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	sink := deps.Sink.String()
	m := &writerMetrics{
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vpcflow_sink_objects_total",
			Help:        "Objects given to the sink, by result: put (taken), spooled (kept for replay), replayed (taken from the spool), failed (returned as an error).",
			ConstLabels: prometheus.Labels{"sink": sink}}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_sink_bytes_total",
			Help: "Bytes of the objects the sink took, directly or from the spool.", ConstLabels: prometheus.Labels{"sink": sink}}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "vpcflow_sink_retries_total",
			Help: "Sink attempts that failed and were tried again.", ConstLabels: prometheus.Labels{"sink": sink}}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vpcflow_sink_spool_objects",
			Help: "Objects in the spool, waiting for the sink.", ConstLabels: prometheus.Labels{"sink": sink}}),
	}
	if deps.Registerer != nil {
		for _, c := range []prometheus.Collector{m.objects, m.bytes, m.retries, m.pending} {
			if err := deps.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if cfg.SpoolDir != "" {
		if err := os.MkdirAll(cfg.SpoolDir, 0o755); err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
	}
	return &Writer{cfg: cfg, sink: deps.Sink, log: deps.Logger, m: m}, nil
}

// Start replays the spool once, then every ReplayEvery until Stop. The
// first replay's error (the sink still down) is no error of Start: the
// objects stay spooled.
func (w *Writer) Start(ctx context.Context) error {
	w.Replay(ctx)
	w.stop, w.stopped = make(chan struct{}), make(chan struct{})
	if w.cfg.ReplayEvery < 0 || w.cfg.SpoolDir == "" {
		close(w.stopped)
		return nil
	}
	go func() {
		defer close(w.stopped)
		t := time.NewTicker(w.cfg.ReplayEvery)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.Replay(context.Background())
			}
		}
	}()
	return nil
}

// Stop ends the periodic replay; spooled objects stay for the next Start.
func (w *Writer) Stop() {
	if w.stop != nil {
		close(w.stop)
		<-w.stopped
		w.stop = nil
	}
}

// Stats returns the counts so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

func (w *Writer) count(f func(s *Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// try puts the object, up to Attempts times with backoff.
func (w *Writer) try(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	wait := w.cfg.Backoff
	var err error
	for i := range w.cfg.Attempts {
		if i > 0 {
			w.count(func(s *Stats) { s.Retries++ })
			w.m.retries.Inc()
			jittered := wait/2 + time.Duration(mrand.Int64N(int64(wait)/2+1))
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(jittered):
			}
			wait = min(2*wait, w.cfg.MaxBackoff)
		}
		if err = w.sink.Put(ctx, key, body, size); err == nil {
			return nil
		}
		w.log.Warn("sink put failed", "sink", w.sink.String(), "key", key, "attempt", i+1, "error", err)
	}
	return err
}

// Put stores the object in the sink, retrying; when the sink keeps
// failing the object is spooled and Put returns nil: it will be
// replayed. Put returns an error only when the object could be neither
// put nor spooled (counted as Failed); the caller still has it then.
func (w *Writer) Put(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	err := w.try(ctx, key, body, size)
	if err == nil {
		w.count(func(s *Stats) { s.Put++; s.PutBytes += size })
		w.m.objects.WithLabelValues("put").Inc()
		w.m.bytes.Add(float64(size))
		return nil
	}
	if w.cfg.SpoolDir != "" {
		serr := w.spool(key, body, size)
		if serr == nil {
			w.count(func(s *Stats) { s.Spooled++; s.Pending++ })
			w.m.objects.WithLabelValues("spooled").Inc()
			w.m.pending.Inc()
			w.log.Warn("object spooled for replay", "sink", w.sink.String(), "key", key, "error", err)
			return nil
		}
		err = fmt.Errorf("%w; and spooling it failed: %w", err, serr)
	}
	w.count(func(s *Stats) { s.Failed++ })
	w.m.objects.WithLabelValues("failed").Inc()
	return err
}

// spoolMagic starts a spool file: the format version, then the key
// quoted on its own line, then the object's bytes.
const spoolMagic = "vpcflow-spool 1\n"

// spool writes the object to the spool atomically (a temporary file
// synced and renamed), named so that replay takes objects in the order
// they were spooled.
func (w *Writer) spool(key string, body io.ReaderAt, size int64) error {
	w.mu.Lock()
	w.seq++
	seq := w.seq
	w.mu.Unlock()
	var rnd [6]byte
	rand.Read(rnd[:])
	name := fmt.Sprintf("%020d-%06d-%s.obj", time.Now().UnixNano(), seq%1000000, hex.EncodeToString(rnd[:]))
	tmp := filepath.Join(w.cfg.SpoolDir, ".tmp-"+name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	bw.WriteString(spoolMagic + strconv.Quote(key) + "\n")
	_, err = io.Copy(bw, io.NewSectionReader(body, 0, size))
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(w.cfg.SpoolDir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(w.cfg.SpoolDir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// readSpooled opens a spool file: its key, and a reader of the object.
func readSpooled(path string) (key string, f *os.File, body *io.SectionReader, err error) {
	f, err = os.Open(path)
	if err != nil {
		return "", nil, nil, err
	}
	head := make([]byte, len(spoolMagic)+1024*6+4)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	rest, ok := bytes.CutPrefix(head, []byte(spoolMagic))
	i := bytes.IndexByte(rest, '\n')
	if ok && i >= 0 {
		key, err = strconv.Unquote(string(rest[:i]))
	}
	if !ok || i < 0 || err != nil {
		f.Close()
		return "", nil, nil, fmt.Errorf("spool file %s: want %q, then the key quoted on one line", path, strings.TrimSpace(spoolMagic))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return "", nil, nil, err
	}
	off := int64(len(spoolMagic) + i + 1)
	return key, f, io.NewSectionReader(f, off, fi.Size()-off), nil
}

// Replay puts the spooled objects into the sink, oldest first, removing
// each once the sink took it. It stops at the first the sink refuses
// (the store is likely still down; the rest wait for the next replay).
// It returns how many were replayed.
func (w *Writer) Replay(ctx context.Context) (int, error) {
	if w.cfg.SpoolDir == "" {
		return 0, nil
	}
	w.replayMu.Lock()
	defer w.replayMu.Unlock()
	ents, err := os.ReadDir(w.cfg.SpoolDir)
	if err != nil {
		return 0, err
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".obj") && !strings.HasPrefix(e.Name(), ".tmp-") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	w.mu.Lock()
	w.stats.Pending = int64(len(names))
	w.mu.Unlock()
	w.m.pending.Set(float64(len(names)))
	done := 0
	for _, name := range names {
		path := filepath.Join(w.cfg.SpoolDir, name)
		key, f, body, err := readSpooled(path)
		if err != nil {
			// Not ours or damaged: left in place, named in the log.
			w.log.Error("unreadable spool file left in place", "path", path, "error", err)
			continue
		}
		err = w.sink.Put(ctx, key, body, body.Size())
		f.Close()
		if err != nil {
			w.count(func(s *Stats) { s.ReplayErrors++ })
			return done, fmt.Errorf("replay %s: %w", key, err)
		}
		if err := os.Remove(path); err != nil {
			return done, err
		}
		done++
		w.count(func(s *Stats) { s.Replayed++; s.Pending--; s.PutBytes += body.Size() })
		w.m.objects.WithLabelValues("replayed").Inc()
		w.m.bytes.Add(float64(body.Size()))
		w.m.pending.Dec()
	}
	return done, nil
}
