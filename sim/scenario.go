package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
	"github.com/vpcflow/vpcflow/topology"
)

// ScenarioConfig describes a run of named scenarios.
type ScenarioConfig struct {
	// Names are the scenarios to run together, on one timeline (see
	// Scenarios). Their order does not matter.
	Names    []string
	Topology *topology.Topology
	Seed     uint64    // same seed, same bytes
	Start    time.Time // zero means DefaultStart
	// Duration is the span of conversation starts; zero means
	// DefaultScenarioDuration. Conversations started before its end run
	// to theirs, a few seconds at most.
	Duration time.Duration
	// Rate multiplies every scenario's cadence (its conversations per
	// minute, an upload's throughput); zero means 1, the rate
	// docs/scenarios.md counts records for.
	Rate    float64
	SnapLen int // as Config.SnapLen
}

// DefaultScenarioDuration is the span of a scenario run when
// ScenarioConfig.Duration is zero: ten 60 s capture windows, one window of
// GuardDuty-style detection.
const DefaultScenarioDuration = 10 * time.Minute

// MaxScenarioRate bounds ScenarioConfig.Rate: a port scan then probes
// 25 000 ports a minute and an upload sends about 500 MB a minute.
const MaxScenarioRate = 100

// ScenarioInfo names and describes a scenario.
type ScenarioInfo struct {
	Name    string
	Summary string
	Roles   []string // the security-group names its hosts are found by
}

// Scenarios lists the named scenarios in a fixed order.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, len(scenarioDefs))
	for i, d := range scenarioDefs {
		out[i] = ScenarioInfo{Name: d.name, Summary: d.summary, Roles: slices.Clone(d.roles)}
	}
	return out
}

// ScenarioNames returns the names of the scenarios, comma-separated.
func ScenarioNames() string {
	names := make([]string, len(scenarioDefs))
	for i, d := range scenarioDefs {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

// Scenario is a validated run of named scenarios: its hosts are found and
// its settings checked, so Generate and Source cannot fail on them.
// Generate and every Source of one Scenario give the same frames.
type Scenario struct {
	cfg   ScenarioConfig
	defs  []int // indexes in scenarioDefs, ascending
	roles *roles
	start int64
	span  int64
}

// NewScenario checks cfg and finds the scenarios' hosts in its topology.
func NewScenario(cfg ScenarioConfig) (*Scenario, error) {
	if cfg.Topology == nil {
		return nil, errors.New("scenarios run over a topology's interfaces: give one (examples/scenarios.yaml is made for them)")
	}
	if cfg.Rate == 0 {
		cfg.Rate = 1
	}
	if !(cfg.Rate > 0 && cfg.Rate <= MaxScenarioRate) { // also catches NaN
		return nil, fmt.Errorf("scenario rate %v: want more than 0 and at most %d", cfg.Rate, MaxScenarioRate)
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultScenarioDuration
	}
	if cfg.Duration < time.Second || cfg.Duration > 7*24*time.Hour {
		return nil, fmt.Errorf("scenario duration %v: want 1s to 168h", cfg.Duration)
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Start.Year() < 1970 || cfg.Start.Year() >= 2200 {
		return nil, fmt.Errorf("scenario start %v: want a time from 1970 to 2199", cfg.Start)
	}
	if err := validateSnapLen(cfg.SnapLen); err != nil {
		return nil, err
	}
	s := &Scenario{cfg: cfg, start: cfg.Start.UnixNano(), span: int64(cfg.Duration)}
	var err error
	if s.defs, err = scenarioIndexes(cfg.Names); err != nil {
		return nil, err
	}
	if s.roles, err = findRoles(cfg.Topology); err != nil {
		return nil, err
	}
	for _, i := range s.defs {
		d := &scenarioDefs[i]
		for _, role := range d.roles {
			if s.roles.host(role) == nil {
				return nil, fmt.Errorf("scenario %s needs an interface with a MAC and a private IPv4 address whose security group is named %s (GroupName: %s): %s has none", d.name, role, role, cfg.Topology.Name)
			}
		}
		if d.check != nil {
			if err := d.check(s.roles); err != nil {
				return nil, fmt.Errorf("scenario %s: %w", d.name, err)
			}
		}
	}
	return s, nil
}

// CheckScenarioNames reports the first name that is no scenario, or is
// given twice.
func CheckScenarioNames(names []string) error {
	_, err := scenarioIndexes(names)
	return err
}

// scenarioIndexes returns the indexes in scenarioDefs of names, ascending:
// the order they are given in changes nothing.
func scenarioIndexes(names []string) ([]int, error) {
	if len(names) == 0 {
		return nil, errors.New("no scenario named: want one or more of " + ScenarioNames())
	}
	var out []int
	for _, name := range names {
		i := slices.IndexFunc(scenarioDefs, func(d scenarioDef) bool { return d.name == name })
		if i < 0 {
			return nil, fmt.Errorf("no scenario %q%s: want one of %s", name, didYouMean(name), ScenarioNames())
		}
		if slices.Contains(out, i) {
			return nil, fmt.Errorf("scenario %s named twice", name)
		}
		out = append(out, i)
	}
	slices.Sort(out)
	return out, nil
}

// didYouMean suggests the scenario whose name starts like name.
func didYouMean(name string) string {
	for _, d := range scenarioDefs {
		if len(name) >= 3 && (strings.HasPrefix(d.name, name) || strings.HasPrefix(name, d.name[:3])) {
			return fmt.Sprintf(" (did you mean %s?)", d.name)
		}
	}
	return ""
}

// Names returns the scenarios of the run, in their fixed order.
func (s *Scenario) Names() []string {
	out := make([]string, len(s.defs))
	for i, d := range s.defs {
		out[i] = scenarioDefs[d].name
	}
	return out
}

// Config returns the run's settings with their defaults filled in.
func (s *Scenario) Config() ScenarioConfig { return s.cfg }

// Generate writes the run's capture to w (Ethernet frames) and flushes it.
// progress, when not nil, is called every 65536 packets with the count so
// far.
func (s *Scenario) Generate(w *capture.Writer, progress func(packets int64)) (Stats, error) {
	r := s.newRunner(w)
	for {
		more, err := r.step()
		if err != nil {
			return r.snapshot(), err
		}
		if !more {
			break
		}
		if progress != nil && r.stats.Packets%65536 == 0 {
			progress(r.stats.Packets)
		}
	}
	return r.snapshot(), w.Flush()
}

// Source returns the run's frames as a capture.Source, for a service to
// read as it reads a capture: the frames Generate writes, in the same
// order, then io.EOF. A ScenarioSource is not safe for concurrent use.
func (s *Scenario) Source() *ScenarioSource {
	src := &ScenarioSource{}
	src.r = s.newRunner(&src.slot)
	return src
}

// ScenarioSource is a capture.Source of a scenario run (Scenario.Source).
type ScenarioSource struct {
	r      *runner
	slot   frameSlot
	closed bool
}

// Next returns the next frame; Data is valid until the following call.
func (src *ScenarioSource) Next() (capture.Frame, error) {
	if src.closed {
		return capture.Frame{}, io.EOF
	}
	more, _ := src.r.step() // the slot never fails
	if !more {
		src.closed = true
		return capture.Frame{}, io.EOF
	}
	return capture.Frame{
		TimestampNanos: src.slot.ts,
		Data:           src.slot.data,
		WireLen:        src.slot.wire,
		LinkType:       packet.LinkEthernet,
	}, nil
}

// Close ends the source; Next then returns io.EOF.
func (src *ScenarioSource) Close() error {
	src.closed = true
	return nil
}

// Stats returns the frames and conversations so far.
func (src *ScenarioSource) Stats() Stats { return src.r.snapshot() }

var _ capture.Source = (*ScenarioSource)(nil)

// runner plays a scenario run: the tracks of every scenario make
// conversations at their start times, and conversations send their frames
// in time order (ties: the conversation made first).
type runner struct {
	sc     *Scenario
	w      frameWriter
	buf    [2048]byte
	tracks trackHeap
	active talkHeap
	free   []*talk
	nextID uint32
	ports  map[portKey]uint16
	// portBlock is the size of each scenario's block of client ports
	portBlock int
	stats     Stats
	// timestamps of the first and latest frame
	firstTS, lastTS int64
}

// portKey is a client address in one scenario: each scenario gives its
// clients ports from its own block, so a scenario's traffic is the same
// whichever others run with it.
type portKey struct {
	scenario int
	ip       [4]byte
}

func (s *Scenario) newRunner(w frameWriter) *runner {
	r := &runner{sc: s, w: w, ports: map[portKey]uint16{}, portBlock: 28232 / len(scenarioDefs)}
	order := 0
	for _, i := range s.defs {
		d := &scenarioDefs[i]
		h := fnv.New64a()
		h.Write([]byte(d.name))
		base := s.cfg.Seed ^ h.Sum64()
		p := &planner{scenario: i, roles: s.roles, rng: newRand(base), span: s.span, rate: s.cfg.Rate}
		for k, tr := range d.tracks(p) {
			run := &trackRun{track: tr, scenario: i, order: order, rng: newRand(base + uint64(k+1)*0x9e3779b97f4a7c15)}
			order++
			if run.due(s.span, s.cfg.Rate) {
				heap.Push(&r.tracks, run)
			}
		}
	}
	return r
}

// step sends the next frame; it reports false when the run is over.
func (r *runner) step() (bool, error) {
	// make the conversations due by the earliest frame: a new one's
	// first frame is at its start, so it may be the next
	for len(r.tracks) > 0 && (len(r.active) == 0 || r.tracks[0].at <= r.active[0].next) {
		tr := r.tracks[0]
		x := trackCtx{run: r, scenario: tr.scenario, rng: tr.rng, at: tr.at}
		tr.make(&x, tr.k)
		tr.k++
		if tr.due(r.sc.span, r.sc.cfg.Rate) {
			heap.Fix(&r.tracks, 0)
		} else {
			heap.Pop(&r.tracks)
		}
	}
	if len(r.active) == 0 {
		return false, nil
	}
	t := r.active[0]
	if err := r.emit(t); err != nil {
		return false, err
	}
	if t.idx == t.n {
		heap.Pop(&r.active)
		r.free = append(r.free, t)
	} else {
		heap.Fix(&r.active, 0)
	}
	return true, nil
}

func (r *runner) snapshot() Stats {
	st := r.stats
	if st.Packets > 0 {
		st.First = time.Unix(0, r.firstTS).UTC()
		st.Last = time.Unix(0, r.lastTS).UTC()
	}
	st.Open = len(r.active)
	return st
}

// track is one cadence of a scenario: conversation k starts at
// from + k×every/rate, delayed by a random part of jitter, while that is
// before the run's end and k is below count (0: no bound).
type track struct {
	every  time.Duration
	from   time.Duration
	count  int
	jitter time.Duration
	make   func(x *trackCtx, k int)
	// finding, when set, is what the track's conversations should be
	// found to be (Scenario.Detections)
	finding *finding
}

// finding describes a track's conversations as a detection.
type finding struct {
	kind          string
	actor, target netip.Addr
	on            string // the interface whose records show it
	port          int
	bytes         int64         // for an exfiltration: what the actor sends the target
	lasts         time.Duration // for a single conversation: from its start to its last data
}

// Kinds of Detection.
const (
	FindingSSHBruteForce = "ssh-brute-force" // many short SSH connections from one address to one host
	FindingPortScan      = "port-scan"       // one source, many ports of one host
	FindingPortSweep     = "port-sweep"      // one source, one port, many hosts
	FindingExfiltration  = "exfiltration"    // a large upload to one outside address
)

// Detection is a finding a scenario run should give rise to: the ground
// truth detectors are scored on (docs/scenarios.md).
type Detection struct {
	Scenario string `json:"scenario"`
	Kind     string `json:"kind"`
	// Actor is the address that does it; Target the one it is done to
	// (the host attacked, the receiver of the data), invalid for a sweep.
	Actor  netip.Addr `json:"actor"`
	Target netip.Addr `json:"target,omitzero"`
	// Interface is the interface whose records show it; Port the service
	// port, 0 for a scan of many ports.
	Interface string `json:"interface"`
	Port      int    `json:"port,omitempty"`
	// Count is the connections of a brute force, the ports of a scan, the
	// hosts of a sweep, the bytes of an exfiltration (IP bytes sent to the
	// target).
	Count int64 `json:"count"`
	// From is the start of its first conversation, To of its last (of an
	// exfiltration, the time of its last data), before jitter.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Detections returns the findings the run should give rise to, in the
// scenarios' fixed order.
func (s *Scenario) Detections() []Detection {
	var out []Detection
	for _, i := range s.defs {
		d := &scenarioDefs[i]
		p := &planner{scenario: i, roles: s.roles, rng: newRand(s.cfg.Seed), span: s.span, rate: s.cfg.Rate}
		for _, tr := range d.tracks(p) {
			f := tr.finding
			if f == nil {
				continue
			}
			run := &trackRun{track: tr}
			n := run.conversations(s.span, s.cfg.Rate)
			if n == 0 {
				continue
			}
			last := int64(tr.from) + run.offset(n-1, s.cfg.Rate)
			det := Detection{Scenario: d.name, Kind: f.kind, Actor: f.actor, Target: f.target, Interface: f.on, Port: f.port,
				Count: int64(n), From: time.Unix(0, s.start+int64(tr.from)).UTC(), To: time.Unix(0, s.start+last).UTC()}
			if f.bytes > 0 {
				det.Count, det.To = f.bytes, det.To.Add(f.lasts)
			}
			out = append(out, det)
		}
	}
	return out
}

// trackRun is a track being played.
type trackRun struct {
	track
	scenario int
	order    int
	rng      *rand.Rand
	k        int
	at       int64 // start of conversation k, jitter included
}

// offset is the time of conversation k's start from the track's, before
// jitter.
func (t *trackRun) offset(k int, rate float64) int64 {
	return int64(math.Round(float64(k) * float64(t.every) / rate))
}

// conversations counts the conversations the track makes in a run.
func (t *trackRun) conversations(span int64, rate float64) int {
	n := t.count
	if t.every > 0 {
		// starts before the end: k×every/rate < span-from, rounded as
		// offset rounds
		limit := int(math.Ceil(float64(span-int64(t.from))*rate/float64(t.every))) + 1
		for limit > 0 && int64(t.from)+t.offset(limit-1, rate) >= span {
			limit--
		}
		if n == 0 || limit < n {
			n = limit
		}
	} else if int64(t.from) >= span {
		n = 0
	}
	return max(n, 0)
}

// due computes the start of conversation k and reports whether it is made.
func (t *trackRun) due(span int64, rate float64) bool {
	if t.count > 0 && t.k >= t.count {
		return false
	}
	at := int64(t.from) + t.offset(t.k, rate)
	if at >= span || at < 0 {
		return false
	}
	if t.jitter > 0 {
		at += t.rng.Int64N(int64(t.jitter))
	}
	t.at = at
	return true
}

type trackHeap []*trackRun

func (h trackHeap) Len() int { return len(h) }
func (h trackHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].order < h[j].order
}
func (h trackHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *trackHeap) Push(x any)   { *h = append(*h, x.(*trackRun)) }
func (h *trackHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type talkHeap []*talk

func (h talkHeap) Len() int { return len(h) }
func (h talkHeap) Less(i, j int) bool {
	if h[i].next != h[j].next {
		return h[i].next < h[j].next
	}
	return h[i].id < h[j].id
}
func (h talkHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *talkHeap) Push(x any)   { *h = append(*h, x.(*talk)) }
func (h *talkHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}
