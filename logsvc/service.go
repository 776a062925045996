package logsvc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/metricfilter"
	bolt "go.etcd.io/bbolt"
)

// Options configures a Service.
type Options struct {
	// Identity is the account and region of the data dir. Empty: the ones
	// the data dir recorded. An identity other than the recorded one is an
	// *IdentityMismatchError, since every ARN would change.
	Identity Identity
	// DefaultIdentity is used when Identity is empty and the data dir has
	// recorded none yet (a new data dir): a program's configured defaults.
	// With both empty a new data dir cannot be opened.
	DefaultIdentity Identity
	// MustExist makes Open fail with *NoDataDirError when dir does not
	// exist instead of creating it: a command that only reads must not
	// leave an empty data dir behind (a mistyped path would look valid).
	MustExist bool
	// ReadOnly opens an existing data dir without writing anything in it,
	// for a command that only reads (the data dir may be another user's,
	// or not writable): it implies MustExist, opens the store with
	// logstore.Options.ReadOnly (shared lock, no purge) and metrics.db
	// with bbolt's ReadOnly, and never records identity.json. Events
	// stored after the metric filters' last save (only a writer that
	// crashed leaves such events) are given to the filters in memory, as a
	// writer's open does and saves, without posting alarm actions. Writes
	// return an error matching logstore.ErrReadOnly.
	ReadOnly bool
	// Owner describes this process for the error another opener of the
	// data dir gets ("vpcflow logs put (PID 99)"); Endpoint is the URL of
	// its API when it serves one. See SetOwner.
	Owner, Endpoint string
	// Store configures the event store; its Now is also the clock for
	// metric filter creation times and queries. Its Account, Region,
	// Owner and Endpoint are set from the fields above.
	Store logstore.Options
	// QueryWorkers is how many goroutines one Insights query may use;
	// default GOMAXPROCS.
	QueryWorkers int
	// MaxRunningQueries bounds the queries that run at once; later ones
	// wait in status Scheduled. Default 2: each query already uses every
	// core, so more at once only share them.
	MaxRunningQueries int
}

// Service is an open data dir: the event store, the metric filters and the
// alarms. It is safe for concurrent use; only one process may open a data
// dir for writing at a time, or any number read-only (Options.ReadOnly)
// while none writes (the store's lock covers metrics.db and identity.json
// too).
type Service struct {
	dir   string
	id    Identity
	store *logstore.Store
	db    *bolt.DB
	eng   *metricfilter.Engine
	now   func() time.Time
	q     *queries

	// mu serialises writes, so datapoints are persisted in the order the
	// engine added them and a restart rebuilds the same sums.
	mu       sync.Mutex
	filters  map[string]map[string]*metricfilter.Filter // group → filter name → compiled filter
	water    int64                                      // highest event time given to the engine (ms)
	seen     bool
	nalarms  int
	warnings []string
	hw       map[string]seenMark // per group, the last event the filters have seen, as metrics.db has it (seen.go)
	pending  pendingSave         // metric data not yet in metrics.db
	replayed int                 // events Open gave the filters after a crash
	fault    func(step string) error
	actions  *actionRunner // posts alarm notifications to webhooks (actions.go)
	readOnly bool          // Options.ReadOnly
	hold     int64         // the last Complete of this process (hold.go)
	holding  bool          // this process called Complete: metrics.db keeps the hold
	holdSet  bool          // the hold is in metrics.db
}

// refuseWrite is the error of a write on a read-only Service, nil otherwise.
func (s *Service) refuseWrite(op string) error {
	if !s.readOnly {
		return nil
	}
	return &logstore.ReadOnlyError{Dir: s.dir, Op: op}
}

// NoDataDirError is Open's answer, with MustExist, for a data dir that does
// not exist.
type NoDataDirError struct{ Dir string }

func (e *NoDataDirError) Error() string {
	return fmt.Sprintf("data dir %s does not exist: nothing has been stored there", e.Dir)
}

// Open opens the data dir (creating it unless opts.MustExist), locks it,
// settles its identity (see Options.Identity), and restores the metric
// filters, datapoints and alarms saved in it. A data dir held by another
// process gives a *logstore.InUseError naming that process.
func Open(dir string, opts Options) (*Service, error) {
	if opts.ReadOnly {
		opts.MustExist = true
		opts.Store.ReadOnly = true
	}
	if opts.MustExist {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			if err == nil || errors.Is(err, os.ErrNotExist) {
				return nil, &NoDataDirError{Dir: dir}
			}
			return nil, fmt.Errorf("logsvc: %w", err)
		}
	}
	st, id, err := openStore(dir, opts)
	if err != nil {
		return nil, err
	}
	db, err := openMeta(filepath.Join(dir, "metrics.db"), opts.ReadOnly)
	if err != nil {
		st.Close()
		return nil, err
	}
	s := &Service{dir: dir, id: id, store: st, db: db, eng: metricfilter.NewEngine(), now: opts.Store.Now,
		filters: map[string]map[string]*metricfilter.Filter{}, hw: map[string]seenMark{}, fault: opts.Store.Fault,
		readOnly: opts.ReadOnly}
	if s.now == nil {
		s.now = time.Now
	}
	s.q = newQueries(s, opts)
	s.actions = newActionRunner(s.now, s.recordAction)
	if err := s.restore(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openStore opens the event store with the data dir's identity. The
// identity file is read before the store is opened (the store needs the
// account and region) and again once the store holds the lock: another
// process may have recorded one in between, on a data dir both saw new.
func openStore(dir string, opts Options) (*logstore.Store, Identity, error) {
	for attempt := 0; ; attempt++ {
		stored, have, err := readIdentity(dir)
		if err != nil {
			return nil, Identity{}, err
		}
		id, err := resolveIdentity(dir, opts, stored, have)
		if err != nil {
			return nil, Identity{}, err
		}
		so := opts.Store
		so.Account, so.Region = id.Account, id.Region
		if opts.Owner != "" {
			so.Owner = opts.Owner
		}
		if opts.Endpoint != "" {
			so.Endpoint = opts.Endpoint
		}
		st, err := logstore.Open(dir, so)
		if err != nil {
			return nil, Identity{}, err
		}
		locked, haveLocked, err := readIdentity(dir)
		switch {
		case err != nil:
		case !haveLocked && opts.ReadOnly:
			// Nothing is recorded by a read-only open: the store's
			// ARNs use the identity resolved above.
		case !haveLocked:
			err = writeIdentity(dir, id)
		case locked == id:
			if !opts.ReadOnly {
				shareIdentity(dir)
			}
		case attempt == 0:
			// Recorded by another process since the first read: decide
			// again with what it recorded.
			st.Close()
			continue
		default:
			err = &IdentityMismatchError{Dir: dir, Stored: locked, Requested: id}
		}
		if err != nil {
			st.Close()
			return nil, Identity{}, err
		}
		return st, id, nil
	}
}

// Close releases the data dir. Running queries are cancelled first. Every
// acknowledged write is already durable.
func (s *Service) Close() error {
	if s.q != nil {
		s.q.close()
	}
	if s.actions != nil {
		s.actions.stop() // before mu: the worker records outcomes under it
		s.actions = nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	errs = append(errs, s.releaseHold())
	if s.db != nil {
		errs = append(errs, s.db.Close())
		s.db = nil
	}
	if s.store != nil {
		errs = append(errs, s.store.Close())
		s.store = nil
	}
	return errors.Join(errs...)
}

// Now is the service's clock (Options.Store.Now, else the wall clock).
func (s *Service) Now() time.Time { return s.now() }

// Dir is the data dir.
func (s *Service) Dir() string { return s.dir }

// Identity is the account and region the data dir answers for.
func (s *Service) Identity() Identity { return s.id }

// SetOwner records who holds the data dir, for the error another opener
// gets; a server calls it once it knows its listen address, e.g.
// SetOwner("vpcflow serve (PID 1234, listening on 127.0.0.1:4566)",
// "http://127.0.0.1:4566").
func (s *Service) SetOwner(owner, endpoint string) error { return s.store.SetOwner(owner, endpoint) }

// Store is the event store, for the group and stream operations the
// Service does not wrap. Write events through the Service, never through
// the Store, or the metric filters miss them.
func (s *Service) Store() *logstore.Store { return s.store }

// Warnings lists what Open had to skip in metrics.db (definitions that no
// longer validate), so callers can tell the user.
func (s *Service) Warnings() []string { return append([]string(nil), s.warnings...) }

// Ingest is the internal ingestion path (flow-log delivery, `logs put`):
// logstore.Store.Ingest, then the group's metric filters over the events it
// stored, then alarm evaluation on event time. When it returns without
// error, the events, their datapoints and any alarm state change are on
// disk; after a crash in between, Open gives the filters the events they
// missed (seen.go).
func (s *Service) Ingest(group string, evs []logstore.InputEvent) (logstore.IngestResult, error) {
	if err := s.refuseWrite("ingest events"); err != nil {
		return logstore.IngestResult{}, err
	}
	return s.ingest(group, "", evs)
}

// IngestOnce is Ingest for flow-log delivery, which may hand a capture
// window over again (`vpcflow pcap` run twice over a capture, `vpcflow
// serve` restarted over a replay): logstore.Store.IngestOnce, so events
// source (the flow log) delivered before are neither stored nor given to
// the metric filters again; IngestResult.Duplicates lists them.
func (s *Service) IngestOnce(group, source string, evs []logstore.InputEvent) (logstore.IngestResult, error) {
	if err := s.refuseWrite("ingest events"); err != nil {
		return logstore.IngestResult{}, err
	}
	if source == "" {
		return logstore.IngestResult{}, errors.New("logsvc: IngestOnce needs a source")
	}
	return s.ingest(group, source, evs)
}

func (s *Service) ingest(group, source string, evs []logstore.InputEvent) (logstore.IngestResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res logstore.IngestResult
	var err error
	if source == "" {
		res, err = s.store.Ingest(group, evs)
	} else {
		res, err = s.store.IngestOnce(group, source, evs)
	}
	if err != nil {
		return res, s.afterFailedWrite(group, err)
	}
	if res.Stored == 0 || !s.watching(group) {
		return res, nil
	}
	stored := evs
	if res.Stored != len(evs) {
		stored = s.storedOf(group, evs, res)
	}
	mevs := make([]metricfilter.Event, len(stored))
	for i := range stored {
		// The filters see the message as the store keeps it.
		msg, _ := logstore.NormalizeMessage(stored[i].Message)
		mevs[i] = metricfilter.Event{Timestamp: stored[i].Timestamp, Message: string(msg)}
	}
	_, seq, _ := s.store.GroupSeq(group)
	return res, s.apply(group, mevs, seq)
}

// afterFailedWrite is the error of a store write that failed. Days the
// store committed before the failure are stored events like any other:
// the filters get them now (they are the events beyond the group's mark),
// so the next batch's mark does not pass over them. The caller holds mu.
func (s *Service) afterFailedWrite(group string, err error) error {
	if !s.watching(group) {
		return err
	}
	_, cerr := s.catchUpGroup(group)
	if cerr == nil {
		return err
	}
	var ae *logstore.APIError
	if errors.As(err, &ae) {
		// The API path answers with the store's code.
		return &logstore.APIError{Code: ae.Code, Message: ae.Message + "; " + cerr.Error()}
	}
	return errors.Join(err, cerr)
}

// storedOf picks the events Ingest stored when it skipped some, by the
// store's own rules (ValidateEvent, stream name, retention at the batch's
// ingestion time) and the events it lists as delivered before.
func (s *Service) storedOf(group string, evs []logstore.InputEvent, res logstore.IngestResult) []logstore.InputEvent {
	cut := int64(0)
	if gi, err := s.store.GroupInfo(group); err == nil && gi.RetentionInDays > 0 {
		cut = res.IngestionTime - int64(gi.RetentionInDays)*86_400_000
	}
	out := make([]logstore.InputEvent, 0, res.Stored)
	dups := res.Duplicates
	for i, e := range evs {
		if len(dups) > 0 && dups[0] == i {
			dups = dups[1:]
			continue
		}
		msg, _ := logstore.NormalizeMessage(e.Message)
		if logstore.ValidateEvent(e.Timestamp, msg) == nil && logstore.ValidateStreamName(e.Stream) == nil && e.Timestamp >= cut {
			out = append(out, e)
		}
	}
	return out
}

// PutLogEvents is the API path: logstore.Store.PutLogEvents, then the
// metric filters over the events it accepted (docs/aws-behaviour.md,
// "PutLogEvents").
func (s *Service) PutLogEvents(group, stream string, evs []logstore.PutEvent) (logstore.PutResult, error) {
	if err := s.refuseWrite("put log events"); err != nil {
		return logstore.PutResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res, err := s.store.PutLogEvents(group, stream, evs)
	if err != nil {
		return res, s.afterFailedWrite(group, err)
	}
	if !s.watching(group) {
		return res, nil
	}
	from, to := 0, len(evs)
	if r := res.RejectedLogEventsInfo; r != nil {
		if r.TooOldLogEventEndIndex != nil {
			from = max(from, *r.TooOldLogEventEndIndex)
		}
		if r.ExpiredLogEventEndIndex != nil {
			from = max(from, *r.ExpiredLogEventEndIndex)
		}
		if r.TooNewLogEventStartIndex != nil {
			to = *r.TooNewLogEventStartIndex
		}
	}
	if to <= from {
		return res, nil
	}
	mevs := make([]metricfilter.Event, 0, to-from)
	for _, e := range evs[from:to] {
		msg, _ := logstore.NormalizeString(e.Message)
		mevs = append(mevs, metricfilter.Event{Timestamp: e.Timestamp, Message: msg})
	}
	_, seq, _ := s.store.GroupSeq(group)
	if err := s.apply(group, mevs, seq); err != nil {
		return logstore.PutResult{}, &logstore.APIError{Code: logstore.CodeServiceUnavailable, Message: err.Error()}
	}
	return res, nil
}

// watching reports whether events of group matter to the engine: the group
// has filters, or alarms exist (any event moves the event-time watermark
// that closes their periods). The caller holds mu.
func (s *Service) watching(group string) bool {
	return len(s.filters[group]) > 0 || s.nalarms > 0
}

// apply runs the engine over stored events, the last of which has
// sequence number seq in its group, and persists the effects with the
// group's new mark in one transaction. When that fails the effects stay
// pending and are written by the next transaction that succeeds. The
// caller holds mu.
func (s *Service) apply(group string, evs []metricfilter.Event, seq uint64) error {
	dps, changes := s.eng.Ingest(group, evs)
	var deliveries []delivery
	if !s.readOnly {
		// A reader catching up shows the state changes; notifying is
		// the writer's (the next writer's open catches up and posts).
		deliveries = s.runActions(changes)
	}
	defer s.enqueueDeliveries(deliveries)
	for _, e := range evs {
		if !s.seen || e.Timestamp > s.water {
			s.water, s.seen = e.Timestamp, true
		}
	}
	for i := range dps {
		k, b := metricfilter.BucketOf(&dps[i])
		s.pending.refs = append(s.pending.refs, bucketRef{k, b})
	}
	s.pending.marks = append(s.pending.marks, s.marks(group, evs)...)
	if id, _, ok := s.store.GroupSeq(group); ok {
		if s.pending.seen == nil {
			s.pending.seen = map[string]seenMark{}
		}
		s.pending.seen[group] = seenMark{id, seq}
	}
	if err := s.flush(nil); err != nil {
		return &MetricSaveError{Group: group, Events: len(evs), Err: err}
	}
	return nil
}

// MetricSaveError is Ingest's and PutLogEvents' answer when the events
// were stored but the metric data they gave could not be written to
// metrics.db. Nothing is lost: the service keeps that data and writes it
// with its next successful write, and a data dir reopened after a crash
// recomputes it from the stored events.
type MetricSaveError struct {
	Group  string
	Events int // events stored and given to the filters
	Err    error
}

func (e *MetricSaveError) Error() string {
	return fmt.Sprintf("logsvc: %d events stored in %s, but their metric data could not be saved (kept, and written with the next write or recomputed from the events at the next open): %v",
		e.Events, e.Group, e.Err)
}

func (e *MetricSaveError) Unwrap() error { return e.Err }

// marks computes the default-value markers of a batch: for each filter of
// the group with a defaultValue, the minutes it matched an event in and the
// minutes it saw events without matching (docs/aws-behaviour.md, "Metric
// filters and alarms"). The engine
// keeps these privately; they are recomputed here so a restart can rebuild
// them.
func (s *Service) marks(group string, evs []metricfilter.Event) []mark {
	var out []mark
	for _, f := range s.filters[group] {
		t := f.Def.MetricTransformations[0]
		if t.DefaultValue == nil {
			continue
		}
		done := map[[2]int64]bool{}
		for _, e := range evs {
			m := floorMinute(e.Timestamp)
			kind := int64(markSeen)
			if f.Pattern().MatchString(e.Message) {
				kind = markMatched
			}
			if done[[2]int64{m, kind}] {
				continue
			}
			done[[2]int64{m, kind}] = true
			out = append(out, mark{namespace: t.MetricNamespace, name: t.MetricName, kind: byte(kind), minute: m, value: *t.DefaultValue})
		}
	}
	return out
}

func floorMinute(t int64) int64 {
	r := t % 60_000
	if r < 0 {
		r += 60_000
	}
	return t - r
}

// Advance evaluates the alarms up to now (ms), no further than Complete
// allows, and persists their state; live mode calls it on the wall clock
// so periods close without new events.
func (s *Service) Advance(now int64) ([]metricfilter.StateChange, error) {
	if err := s.refuseWrite("evaluate alarms"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveChanges(s.eng.Advance(now))
}

// Complete says that every event with a timestamp before t (ms) has been
// ingested: flow-log delivery calls it as capture windows close, so an
// alarm period is judged only once every window that can hold its events
// is in (metricfilter.Engine.Complete). It judges the periods that end
// before both t and the newest event time, and persists their state. The
// hold lasts as long as this Service: a process that delivers nothing
// holds nothing back.
func (s *Service) Complete(t int64) ([]metricfilter.StateChange, error) {
	if err := s.refuseWrite("evaluate alarms"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold, s.holding = t, true
	ch, err := s.saveChanges(s.eng.Complete(t))
	if err == nil && !s.holdSet {
		// The first hold is on disk before any delivery it covers.
		err = s.flush(nil)
	}
	return ch, err
}

// saveChanges runs the actions of alarm state changes and saves the
// alarms. The caller holds mu.
func (s *Service) saveChanges(ch []metricfilter.StateChange) ([]metricfilter.StateChange, error) {
	if len(ch) == 0 {
		return nil, nil
	}
	deliveries := s.runActions(ch)
	err := s.saveAlarms()
	s.enqueueDeliveries(deliveries)
	return ch, err
}

// saveAlarms writes the alarms (with whatever metric data is pending).
func (s *Service) saveAlarms() error {
	if err := s.flush(nil); err != nil {
		return fmt.Errorf("logsvc: save alarms: %w", err)
	}
	return nil
}

// DescribeLogGroups is logstore's DescribeLogGroups with metricFilterCount
// filled in (the store alone does not know the filters).
func (s *Service) DescribeLogGroups(in logstore.DescribeGroupsInput) ([]logstore.LogGroup, string, error) {
	gs, next, err := s.store.DescribeLogGroups(in)
	s.mu.Lock()
	for i := range gs {
		gs[i].MetricFilterCount = len(s.filters[gs[i].LogGroupName])
	}
	s.mu.Unlock()
	return gs, next, err
}

// DeleteLogGroup deletes the group with its streams, events and metric
// filters. Datapoints already emitted stay, as on AWS (docs/aws-behaviour.md,
// "CloudWatch Logs API").
func (s *Service) DeleteLogGroup(name string) error {
	if err := s.refuseWrite("delete log group"); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.DeleteLogGroup(name); err != nil {
		return err
	}
	names := s.filters[name]
	delete(s.filters, name)
	s.eng.DeleteGroup(name)
	delete(s.pending.seen, name)
	delete(s.hw, name)
	return s.flush(func(tx *bolt.Tx) error {
		for n := range names {
			if err := tx.Bucket(bFilters).Delete(filterKey(name, n)); err != nil {
				return err
			}
		}
		return tx.Bucket(bSeen).Delete([]byte(name))
	})
}
