package region

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"

	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/record"
)

// Detection in the running service: package detect's Engine judges every
// record the pipeline hands to delivery, on event time, so that the
// findings are those `vpcflow detect` gives over the delivered records.
// Findings are kept in findings.db (bbolt, as the log store): an update
// rewrites only the findings a window changed, in one transaction, and a
// crash leaves the last committed state, where a JSON file would be
// rewritten whole at every change.

// DetectConfiguration configures a Region's detection.
type DetectConfiguration struct {
	// Off turns detection off: no findings, no findings.db.
	Off bool
	// Engine holds the detectors' thresholds and bounds (nil:
	// detect.DefaultConfiguration(), with the Region's identity for
	// records that carry no account or region).
	Engine *detect.Configuration
	// Evidence is the number of records kept per finding (0: the default,
	// 10; negative: none, and no record is held).
	Evidence int
	// HeldRecords bounds the records of windows not judged yet that are
	// held for evidence (default 200,000, about 75 MB: 230 bytes and the text). A record that
	// finds the bound reached is still judged, but cannot be evidence:
	// it is counted (vpcflow_detect_evidence_dropped_total).
	HeldRecords int
}

const (
	maxMeta            = 100_000 // interfaces whose metadata is kept, as detect's default bound
	defaultEvidence    = 10
	defaultHeldRecords = 200_000
	findingsFile       = "findings.db"
)

var (
	findingsBucket = []byte("findings")
	detectorBucket = []byte("detector")
	createdKey     = []byte("createdAt")
)

// FindingFilter selects findings; empty members select everything.
type FindingFilter struct {
	IDs   []string
	Types []string
	// Archived, when set, selects archived (true) or current (false)
	// findings only.
	Archived *bool
}

// Detector describes the Region's one detector, as GuardDuty's GetDetector.
type Detector struct {
	ID        string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DetectionStats counts what the detection did since the start.
type DetectionStats struct {
	Engine detect.Stats
	// OtherFlowLog counts records of an interface whose records another
	// flow log feeds to the engine already (judged once, not twice).
	OtherFlowLog uint64
	// EvidenceDropped counts records not held for evidence (HeldRecords).
	EvidenceDropped uint64
	// Replayed counts occurrences of findings in windows counted before
	// (a replay delivered again after a restart): not counted twice.
	Replayed uint64
	// Created and Updated count findings created and occurrences added,
	// by finding type.
	Created, Updated map[string]uint64
	Findings         int // findings held
	Archived         int // of which archived
	PersistErrors    uint64
	// Settled is true once every window has been judged: the sources
	// ended on packet time, or the service stopped.
	Settled bool
}

// storedFinding is a finding as findings.db keeps it.
type storedFinding struct {
	Finding detect.Finding `json:"finding"`
	// LastWindow is the start of the last window counted in the finding's
	// Count: an occurrence in a window not after it was counted already.
	LastWindow int64 `json:"lastWindow"`
}

type eniMeta struct{ instance, subnet, vpc string }

// heldRecord is a record of a window not judged yet: its Flow for the
// Collector, its text (in its flow log's format) in the arena.
type heldRecord struct {
	flow       detect.Flow
	source     string
	start, end int // of the text in detection.arena
}

// detection is the Region's detection: a flowlog.Destination in front of
// the delivery (it sees every record handed over), and the findings.
type detection struct {
	r        *Region
	cfg      DetectConfiguration
	next     flowlog.Destination
	db       *bolt.DB
	detector string
	created  time.Time

	mu      sync.Mutex
	closed  bool
	flushed bool
	e       *detect.Engine
	conv    detect.Converter
	fl      detect.Flow
	claims  map[string]string // interface id → flow log id that feeds it
	// meta is what the service knows of each interface judged, whether
	// or not its flow log's format carries it: findings name the
	// instance, subnet and VPC as GuardDuty's do.
	meta    map[string]eniMeta
	lastENI string
	held    []heldRecord
	// arena holds the held records' texts back to back: one growing
	// buffer rather than a string per record, which the collector would
	// have to free.
	arena   []byte
	byID    map[string]*storedFinding
	dirty   map[string]bool
	updated time.Time
	stats   DetectionStats

	descCreated, descUpdated, descFindings, descRecords, descBounds, descWindows,
	descEvidenceDropped, descReplayed, descPersistErrors *prometheus.Desc
}

// newDetection opens findings.db and builds the engine; with detection
// off it only passes records on.
func newDetection(r *Region, next flowlog.Destination) (*detection, error) {
	cfg := r.cfg.Detect
	d := &detection{r: r, cfg: cfg, next: next, detector: detect.DetectorID(r.id.Account, r.id.Region),
		claims: map[string]string{}, meta: map[string]eniMeta{}, byID: map[string]*storedFinding{}, dirty: map[string]bool{},
		stats: DetectionStats{Created: map[string]uint64{}, Updated: map[string]uint64{}}}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("vpcflow_"+name, help, labels, nil)
	}
	d.descCreated = desc("findings_total", "Findings created, by finding type.", "type")
	d.descUpdated = desc("finding_updates_total", "Occurrences added to existing findings (their count grew), by finding type.", "type")
	d.descFindings = desc("findings", "Findings held, by finding type and whether archived.", "type", "archived")
	d.descRecords = desc("detect_records_total", "Records seen by the detection, by outcome: judged, status (NODATA, SKIPDATA), incomplete, late, interfaces_dropped (over the interface bound), other_flow_log (an interface another flow log feeds).", "outcome")
	d.descBounds = desc("detect_bound_total", "What a bound of the detection engine turned away, by bound: pairs (records), ports, own_addresses, ports_not_learned, findings (new findings not kept).", "bound")
	d.descWindows = desc("detect_windows_total", "Event-time windows judged by the detection.")
	d.descEvidenceDropped = desc("detect_evidence_dropped_total", "Records judged but not held for evidence (the held-records bound was reached).")
	d.descReplayed = desc("detect_replayed_total", "Occurrences of findings in windows already counted before a restart (a replay delivered again): not counted twice.")
	d.descPersistErrors = desc("detect_persist_errors_total", "Failed writes of findings to findings.db.")
	if cfg.Off {
		return d, nil
	}
	if d.cfg.Evidence == 0 {
		d.cfg.Evidence = defaultEvidence
	}
	if d.cfg.HeldRecords <= 0 {
		d.cfg.HeldRecords = defaultHeldRecords
	}
	ec := detect.DefaultConfiguration()
	if cfg.Engine != nil {
		ec = *cfg.Engine
	}
	ec.Account, ec.Region = cmp.Or(ec.Account, r.id.Account), cmp.Or(ec.Region, r.id.Region)
	var err error
	if d.e, err = detect.New(ec); err != nil {
		return nil, fmt.Errorf("region: detection: %w", err)
	}
	d.e.OnJudged(d.judged)
	if err := d.open(filepath.Join(r.cfg.DataDir, findingsFile)); err != nil {
		return nil, err
	}
	return d, nil
}

// open loads the findings of earlier runs.
func (d *detection) open(path string) error {
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("region: opening %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(detectorBucket)
		if err != nil {
			return err
		}
		if v := meta.Get(createdKey); v != nil {
			if d.created, err = time.Parse(time.RFC3339Nano, string(v)); err != nil {
				return fmt.Errorf("detector creation time %q: %w", v, err)
			}
		} else {
			d.created = d.r.deps.Clock.Now().UTC()
			if err := meta.Put(createdKey, []byte(d.created.Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}
		b, err := tx.CreateBucketIfNotExists(findingsBucket)
		if err != nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var s storedFinding
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("finding %s: %w", k, err)
			}
			d.byID[string(k)] = &s
			return nil
		})
	})
	if err != nil {
		db.Close()
		return fmt.Errorf("region: %s: %w", path, err)
	}
	d.db, d.updated = db, d.created
	for _, s := range d.byID {
		if u, err := time.Parse(time.RFC3339Nano, s.Finding.UpdatedAt); err == nil && u.After(d.updated) {
			d.updated = u
		}
	}
	return nil
}

// Write judges r, then hands it on to delivery.
func (d *detection) Write(fl *flowlog.FlowLog, rec *record.Record) error {
	err := d.next.Write(fl, rec)
	if d.e != nil {
		d.observe(fl, rec)
	}
	return err
}

// observe feeds one record to the engine. An interface is judged on the
// records of one flow log, the first that delivers a record of it: two
// flow logs of one interface (one to S3, one to CloudWatch Logs) would
// otherwise count every connection twice.
func (d *detection) observe(fl *flowlog.FlowLog, rec *record.Record) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if owner, ok := d.claims[rec.InterfaceID]; !ok {
		d.claims[rec.InterfaceID] = fl.ID
	} else if owner != fl.ID {
		d.stats.OtherFlowLog++
		return
	}
	if rec.InterfaceID != d.lastENI {
		d.lastENI = rec.InterfaceID
		if m := (eniMeta{rec.InstanceID, rec.SubnetID, rec.VPCID}); m != d.meta[rec.InterfaceID] && len(d.meta) < maxMeta {
			d.meta[rec.InterfaceID] = m
		}
	}
	d.conv.Flow(fl.Format, rec, &d.fl)
	before := d.e.Stats().Judged
	d.e.Observe(&d.fl)
	if d.cfg.Evidence < 0 || d.e.Stats().Judged == before {
		return
	}
	if len(d.held) >= d.cfg.HeldRecords {
		d.stats.EvidenceDropped++
		return
	}
	at := len(d.arena)
	d.arena = record.AppendText(d.arena, fl.Format, rec)
	d.held = append(d.held, heldRecord{flow: d.fl, source: fl.ID, start: at, end: len(d.arena)})
}

// judged runs inside the engine after each window: it counts the
// window's occurrences into the stored findings and collects their
// evidence from the held records.
func (d *detection) judged(start, end int64, reported []*detect.Finding) {
	var fresh []*detect.Finding
	for _, f := range reported {
		s := d.byID[f.ID]
		switch {
		case s == nil:
			s = &storedFinding{Finding: detached(f), LastWindow: start}
			s.Finding.Evidence, s.Finding.EvidenceOmitted = nil, 0
			s.Finding.Service.Count = 1
			d.byID[f.ID] = s
			d.stats.Created[f.Type]++
		case start <= s.LastWindow:
			d.stats.Replayed++
			continue
		default:
			s.update(f, start)
			d.stats.Updated[f.Type]++
		}
		d.enrich(&s.Finding)
		d.dirty[f.ID] = true
		fresh = append(fresh, f)
	}
	if len(fresh) > 0 && d.cfg.Evidence > 0 {
		c := d.e.CollectorFor(fresh, d.cfg.Evidence)
		for i := range d.held {
			h := &d.held[i]
			if h.flow.Start >= start && h.flow.Start < end && c.Match(&h.flow) {
				c.Add(h.flow.Start, detect.Evidence{Source: h.source, Record: string(d.arena[h.start:h.end])})
			}
		}
		c.Finish()
		for _, f := range fresh {
			d.byID[f.ID].addEvidence(f.Evidence, f.EvidenceOmitted, d.cfg.Evidence)
			f.Evidence = nil // the engine's copy is not needed
		}
	}
	// Records of the windows judged can no longer be evidence: the
	// others move to the front, their texts too.
	kept, n := d.held[:0], 0
	for _, h := range d.held {
		if h.flow.Start < end {
			continue
		}
		n += copy(d.arena[n:], d.arena[h.start:h.end])
		h.start, h.end = n-(h.end-h.start), n
		kept = append(kept, h)
	}
	clear(d.held[len(kept):])
	d.held, d.arena = kept, d.arena[:n]
}

// enrich fills the instance, subnet and VPC of a finding's interface that
// its records did not carry.
func (d *detection) enrich(f *detect.Finding) {
	id := &f.Resource.InstanceDetails
	for i := range id.NetworkInterfaces {
		ni := &id.NetworkInterfaces[i]
		m, ok := d.meta[ni.NetworkInterfaceID]
		if !ok {
			continue
		}
		if i == 0 && id.InstanceID == "" {
			id.InstanceID = m.instance
		}
		ni.SubnetID, ni.VpcID = cmp.Or(ni.SubnetID, m.subnet), cmp.Or(ni.VpcID, m.vpc)
	}
}

// update takes a new occurrence of the finding, reported by the window
// starting at start: the engine's view of the activity (action, severity,
// numbers), the finding's own history (creation, first event, count,
// archived, evidence).
func (s *storedFinding) update(f *detect.Finding, start int64) {
	old := s.Finding
	s.Finding = detached(f)
	n := &s.Finding
	n.CreatedAt = old.CreatedAt
	n.Service.Count = old.Service.Count + 1
	n.Service.Archived = old.Service.Archived
	n.Service.EventFirstSeen = min(old.Service.EventFirstSeen, f.Service.EventFirstSeen)
	n.Service.EventLastSeen = max(old.Service.EventLastSeen, f.Service.EventLastSeen)
	n.UpdatedAt = max(old.UpdatedAt, f.UpdatedAt)
	n.Severity = max(old.Severity, f.Severity)
	n.Evidence, n.EvidenceOmitted = old.Evidence, old.EvidenceOmitted
	s.LastWindow = start
}

// detached returns a deep copy of the engine's finding: the engine goes on
// changing its own (the action's Blocked, probe details) while the API
// and the console read the stored one without the engine's lock.
func detached(f *detect.Finding) detect.Finding {
	var c detect.Finding
	b, err := json.Marshal(f)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil { // plain data: cannot fail; a shallow copy is next best
		return *f
	}
	return c
}

// addEvidence appends a later window's evidence: its records all start
// after those kept from earlier windows, so the kept ones stay the
// earliest, as a batch run's Collector keeps them.
func (s *storedFinding) addEvidence(ev []detect.Evidence, omitted, limit int) {
	f := &s.Finding
	f.EvidenceOmitted += omitted
	for _, e := range ev {
		if len(f.Evidence) < limit {
			f.Evidence = append(f.Evidence, e)
		} else {
			f.EvidenceOmitted++
		}
	}
}

// Flush hands on the promise that fl's windows before `before` are
// complete; a deleted flow log (before = MaxInt64) gives up the
// interfaces it fed, so another flow log of them may feed them.
func (d *detection) Flush(fl *flowlog.FlowLog, before int64) error {
	if before == 1<<63-1 {
		d.mu.Lock()
		for eni, id := range d.claims {
			if id == fl.ID {
				delete(d.claims, eni)
			}
		}
		d.mu.Unlock()
	}
	return d.next.Flush(fl, before)
}

func (d *detection) Close() error { return d.next.Close() }

// Complete passes on how far each flow log is delivered (alarms wait on
// it).
func (d *detection) Complete(before map[*flowlog.FlowLog]int64) error {
	if c, ok := d.next.(flowlog.Completer); ok {
		return c.Complete(before)
	}
	return nil
}

// delivered runs after every delivered window: no record will start
// before the window's end any more (records start in their window), so
// windows a lateness before it are judged even when traffic stops; the
// findings that changed are written.
func (d *detection) delivered(dl pipeline.Delivery) {
	if d.e == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.flushed {
		return
	}
	d.e.Advance(dl.End)
	d.persist()
}

// flush judges every open window: the sources have ended on packet time
// (nothing more will come), or the service stops. Its engine state
// (baselines, learned ports) is not kept: a restart learns afresh.
func (d *detection) flush() {
	if d.e == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.flushed {
		return
	}
	d.flushed = true
	d.e.Flush()
	d.held, d.arena = nil, nil
	d.persist()
}

// persist writes the findings that changed; called with mu held.
func (d *detection) persist() {
	if len(d.dirty) == 0 || d.db == nil {
		return
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(findingsBucket)
		for id := range d.dirty {
			v, err := json.Marshal(d.byID[id])
			if err != nil {
				return err
			}
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		d.stats.PersistErrors++
		d.r.log.Error("writing findings", "file", findingsFile, "err", err)
		return // still dirty: the next window tries again
	}
	clear(d.dirty)
	d.updated = d.r.deps.Clock.Now().UTC()
}

// close judges the open windows, writes the findings and closes
// findings.db.
func (d *detection) close() error {
	d.flush()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.db == nil {
		return nil
	}
	err := d.db.Close()
	d.db = nil
	return err
}

// watchEnd judges the open windows once every source has ended on packet
// time: no clock will move event time on.
func (d *detection) watchEnd(p *pipeline.Pipeline) {
	if d.e == nil || p.Paced() {
		return
	}
	go func() {
		<-p.Ended()
		d.flush()
	}()
}

func (d *detection) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(d, ch) }

func (d *detection) Collect(ch chan<- prometheus.Metric) {
	st := d.snapshot()
	counter := func(desc *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(v), labels...)
	}
	held := map[[2]string]int{}
	d.mu.Lock()
	for _, s := range d.byID {
		held[[2]string{s.Finding.Type, fmt.Sprint(s.Finding.Service.Archived)}]++
	}
	d.mu.Unlock()
	for _, t := range detect.Types {
		counter(d.descCreated, st.Created[t], t)
		counter(d.descUpdated, st.Updated[t], t)
		for _, a := range []string{"false", "true"} {
			ch <- prometheus.MustNewConstMetric(d.descFindings, prometheus.GaugeValue, float64(held[[2]string{t, a}]), t, a)
		}
	}
	e := st.Engine
	for _, o := range []struct {
		name string
		n    uint64
	}{{"judged", e.Judged}, {"status", e.Status}, {"incomplete", e.Incomplete}, {"late", e.Late},
		{"interfaces_dropped", e.InterfacesDropped}, {"other_flow_log", st.OtherFlowLog}} {
		counter(d.descRecords, o.n, o.name)
	}
	for _, b := range []struct {
		name string
		n    uint64
	}{{"pairs", e.PairsDropped}, {"ports", e.PortsDropped}, {"own_addresses", e.OwnAddressesDropped},
		{"ports_not_learned", e.PortsNotLearned}, {"findings", e.FindingsDropped}} {
		counter(d.descBounds, b.n, b.name)
	}
	counter(d.descWindows, e.Windows)
	counter(d.descEvidenceDropped, st.EvidenceDropped)
	counter(d.descReplayed, st.Replayed)
	counter(d.descPersistErrors, st.PersistErrors)
}

func (d *detection) snapshot() DetectionStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stats
	st.Created, st.Updated = maps.Clone(d.stats.Created), maps.Clone(d.stats.Updated)
	if d.e != nil {
		st.Engine = d.e.Stats()
	}
	st.Findings, st.Settled = len(d.byID), d.flushed
	for _, s := range d.byID {
		if s.Finding.Service.Archived {
			st.Archived++
		}
	}
	return st
}

// Findings returns copies of the findings filter selects, ordered by first
// event time, type and id.
func (r *Region) Findings(filter FindingFilter) []*detect.Finding {
	d := r.det
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*detect.Finding
	pick := func(s *storedFinding) {
		f := &s.Finding
		if len(filter.Types) > 0 && !slices.Contains(filter.Types, f.Type) ||
			filter.Archived != nil && *filter.Archived != f.Service.Archived {
			return
		}
		c := *f
		c.Evidence = slices.Clone(f.Evidence)
		out = append(out, &c)
	}
	if filter.IDs != nil {
		for _, id := range filter.IDs {
			if s := d.byID[id]; s != nil {
				pick(s)
			}
		}
	} else {
		for _, s := range d.byID {
			pick(s)
		}
	}
	slices.SortFunc(out, func(a, b *detect.Finding) int {
		return cmp.Or(cmp.Compare(a.Service.EventFirstSeen, b.Service.EventFirstSeen), cmp.Compare(a.Type, b.Type), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ArchiveFindings archives (or, with archived false, unarchives) the
// findings of ids and writes them. It returns the ids that name no
// finding, changing nothing then. An archived finding whose activity
// recurs stays archived; its count grows.
func (r *Region) ArchiveFindings(ids []string, archived bool) (unknown []string, err error) {
	d := r.det
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if d.byID[id] == nil {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return unknown, nil
	}
	for _, id := range ids {
		if s := d.byID[id]; s.Finding.Service.Archived != archived {
			s.Finding.Service.Archived = archived
			d.dirty[id] = true
		}
	}
	if d.closed {
		return nil, fmt.Errorf("region: the service is stopping")
	}
	if len(d.dirty) > 0 && d.db != nil {
		before := d.stats.PersistErrors
		d.persist()
		if d.stats.PersistErrors > before {
			return nil, fmt.Errorf("region: writing %s failed (see the log)", findingsFile)
		}
	}
	return nil, nil
}

// Detector describes the Region's detector: one per account and region,
// its id derived from both (as every finding's DetectorId).
func (r *Region) Detector() Detector {
	d := r.det
	d.mu.Lock()
	defer d.mu.Unlock()
	return Detector{ID: d.detector, Enabled: d.e != nil, CreatedAt: d.created, UpdatedAt: d.updated}
}

// DetectionStats returns the detection's counters.
func (r *Region) DetectionStats() DetectionStats { return r.det.snapshot() }
