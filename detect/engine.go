package detect

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vpcflow/vpcflow/record"
)

// Engine runs every detector over a stream of records in event time. Feed it
// with Observe (records in roughly increasing start time: anything within
// Configuration.Lateness of the latest start is in order), then call Flush
// at the end of a batch. Findings accumulate in the Engine and are updated
// in place as their activity recurs, as GuardDuty updates its findings.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	cfg  Configuration
	cls  classifier
	win  int64 // window length, seconds
	late int64 // lateness, seconds
	// portKind says, per port, which detector lists it (kindSSH, ...).
	portKind [65536]uint8

	enis     map[string]int32
	eni      []eniState
	lastName string
	lastIdx  int32

	open  []*window // ascending index
	spare []*window
	// watermark is the greatest start seen; windows ending Lateness
	// before it are judged, and closedBefore is the first window index
	// that is not.
	watermark    int64
	closedBefore int64
	started      bool

	store *store
	stats Stats

	lastHave Fields
	notes    []string
	noted    map[string]bool

	scratch scratch // reused by the judging of windows

	onJudged func(start, end int64, reported []*Finding)
	reported []*Finding
}

// Kinds of ports, from the configuration's lists.
const (
	kindSSH uint8 = 1 << iota
	kindRDP
	kindSensitive
	kindHigh
)

// eniState is what the Engine remembers of an interface across windows.
type eniState struct {
	name                                   string
	account, region, vpc, subnet, instance string
	complete                               bool  // every metadata field above is known
	first                                  int64 // least start seen
	seen                                   int   // windows judged in which it had records
	own                                    []netip.Addr
	volBase, rejBase                       float64 // baselines (peaks that decay)
	volAt, rejAt                           int64   // window index the baseline was last updated at
	ports                                  map[uint32]int64
}

// Stats counts what the Engine did with the records it was given. Every
// record is in exactly one of Judged, Status, Incomplete, Late and
// InterfacesDropped; the other counters say what bounds turned away.
type Stats struct {
	Records uint64 // records observed
	Judged  uint64 // records that joined a window
	// Status counts NODATA and SKIPDATA records: they carry no traffic.
	Status uint64
	// Incomplete counts records without an interface, an address or a
	// start: nothing can be judged of them.
	Incomplete uint64
	// Late counts records that started in a window already judged.
	Late uint64
	// InterfacesDropped counts records of interfaces beyond
	// Limits.Interfaces.
	InterfacesDropped uint64
	// PairsDropped counts records whose address pair was new to a window
	// whose table was full (Limits.PairsPerWindow): they still count as
	// REJECTs of their interface, but for no other detector.
	PairsDropped uint64
	// PortsDropped counts service ports not remembered because a pair
	// had Limits.PortsPerPair already.
	PortsDropped uint64
	// RolesUnknown counts pairs (per window) of which neither address
	// could be told to be the interface's own: they are left out of the
	// detectors that need a direction.
	RolesUnknown uint64
	// OwnAddressesDropped counts addresses learned as an interface's own
	// beyond Limits.OwnAddresses.
	OwnAddressesDropped uint64
	// PortsNotLearned counts new outbound ports of interfaces that had
	// Limits.LearnedPorts already: neither learned nor reported.
	PortsNotLearned uint64
	// FindingsDropped counts detections of new findings beyond
	// Limits.Findings.
	FindingsDropped uint64
	// Windows counts windows judged.
	Windows uint64
}

// New returns an Engine with configuration cfg.
func New(cfg Configuration) (*Engine, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg:   cfg,
		cls:   classifier{ephemeral: int32(cfg.EphemeralPort), short: cfg.ShortPackets, probeBytes: cfg.ProbeBytesPerPacket},
		win:   int64(cfg.Window.Seconds()),
		late:  int64(cfg.Lateness.Seconds()),
		enis:  make(map[string]int32),
		store: newStore(cfg.Limits),
		noted: make(map[string]bool),
	}
	for _, p := range cfg.BruteForce.SSHPorts {
		e.portKind[p] |= kindSSH
	}
	for _, p := range cfg.BruteForce.RDPPorts {
		e.portKind[p] |= kindRDP
	}
	for _, p := range cfg.Probe.Ports {
		e.portKind[p] |= kindSensitive
	}
	for _, p := range cfg.Probe.HighPorts {
		e.portKind[p] |= kindHigh
	}
	return e, nil
}

// Observe adds one record. It never fails: a record that cannot be judged
// is counted in Stats.
func (e *Engine) Observe(f *Flow) {
	e.stats.Records++
	if f.Have != e.lastHave {
		e.checkFields(f.Have)
	}
	if f.Status == record.StatusNoData || f.Status == record.StatusSkipData {
		e.stats.Status++
		return
	}
	if f.Interface == "" || !f.Src.IsValid() || !f.Dst.IsValid() || f.Start < 0 {
		e.stats.Incomplete++
		return
	}
	if !e.started || f.Start > e.watermark {
		e.started = true
		e.watermark = f.Start
		e.closeReady()
	}
	wi := f.Start / e.win
	if wi < e.closedBefore {
		e.stats.Late++
		return
	}
	x := e.eniIndex(f)
	if x < 0 {
		e.stats.InterfacesDropped++
		return
	}
	e.stats.Judged++
	w := e.window(wi)
	for int(x) >= len(w.perENI) {
		w.perENI = append(w.perENI, eniWindow{})
	}
	pe := &w.perENI[x]
	pe.records++
	if f.Action == record.ActionReject {
		pe.rejects++
	}

	k := makeKey(x, f.Protocol, f.Src, f.Dst)
	i, ok := w.pairs[k]
	if !ok {
		if len(w.aggs) >= e.cfg.Limits.PairsPerWindow {
			e.stats.PairsDropped++
			return
		}
		i = int32(len(w.aggs))
		w.aggs = append(w.aggs, pairAgg{key: k, first: f.Start, last: f.End})
		w.pairs[k] = i
	}
	a := &w.aggs[i]
	a.records++
	if f.Action == record.ActionReject {
		a.rejects++
	}
	switch f.Direction {
	case record.Ingress:
		a.ingress++
	case record.Egress:
		a.egress++
	}
	if f.Bytes > 0 {
		a.bytes += uint64(f.Bytes)
	}
	a.first = min(a.first, f.Start)
	a.last = max(a.last, f.End, f.Start)
	if !portsOf(f) || !e.cls.request(f.SrcPort, f.DstPort) {
		return
	}
	a.requests++
	if f.Action == record.ActionReject {
		a.reqRejects++
	}
	var flags uint8
	if e.cls.probe(f) {
		a.reqProbes++
		flags |= portProbe
		if f.Action == record.ActionAccept {
			flags |= portOpenProbe
		}
	} else if f.Action == record.ActionAccept && f.Packets > e.cls.short && e.cls.certain(f.SrcPort, f.DstPort) {
		flags |= portTalk
	}
	if !a.ports.add(uint16(f.DstPort), flags, e.cfg.Limits.PortsPerPair) {
		e.stats.PortsDropped++
	}
	if f.Protocol != protoTCP {
		return
	}
	if kind := e.portKind[f.DstPort]; kind&(kindSSH|kindRDP) != 0 &&
		(f.Packets < 0 || f.Packets <= e.cfg.BruteForce.MaxAttemptPackets) {
		rejected := f.Action == record.ActionReject
		if kind&kindSSH != 0 {
			a.ssh++
			if rejected {
				a.sshRejected++
			}
		} else {
			a.rdp++
			if rejected {
				a.rdpRejected++
			}
		}
	}
}

// ObserveRecord adds one record in format f.
func (e *Engine) ObserveRecord(c *Converter, f *record.Format, r *record.Record) {
	var fl Flow
	c.Flow(f, r, &fl)
	e.Observe(&fl)
}

// Advance tells the Engine that no record will start before t - Lateness
// any more (a clock for a stream that goes quiet): windows that end before
// it are judged.
func (e *Engine) Advance(t int64) {
	if !e.started || t > e.watermark {
		e.started = true
		e.watermark = t
		e.closeReady()
	}
}

// Flush judges every open window: the end of a batch.
func (e *Engine) Flush() {
	for len(e.open) > 0 {
		e.closeFirst()
	}
	if e.started {
		e.closedBefore = max(e.closedBefore, e.watermark/e.win+1)
	}
}

// Findings returns the findings so far, ordered by first event time, type
// and Id. They are the
// Engine's own: they change as later windows update them.
func (e *Engine) Findings() []*Finding { return e.store.sorted() }

// OnJudged sets fn to be called after each window is judged, with the
// window's start and end (Unix seconds) and the findings it created or
// updated (the Engine's own, in a slice reused by the next window). A
// stream uses it to collect each window's evidence and to persist the
// findings as they change; fn runs inside Observe, Advance or Flush.
func (e *Engine) OnJudged(fn func(start, end int64, reported []*Finding)) { e.onJudged = fn }

// Window returns the window length and the lateness, in seconds.
func (e *Engine) Window() (length, lateness int64) { return e.win, e.late }

// Stats returns the counters so far.
func (e *Engine) Stats() Stats { return e.stats }

// Notes returns what the Engine said once each: detectors that the fields
// of some records could not feed, bounds reached.
func (e *Engine) Notes() []string { return slices.Clone(e.notes) }

func (e *Engine) note(key, format string, args ...any) {
	if e.noted[key] {
		return
	}
	e.noted[key] = true
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
}

// requirements lists what each detector reads beyond the interface, both
// addresses and the start, which every detector needs.
var requirements = []struct {
	name   string
	need   Fields
	either Fields // at least one of these
}{
	{"Recon:EC2/Portscan, " + TypeInboundPortscan + ", Impact:EC2/MassIPScan, " + TypeInboundPortSweep,
		FieldProtocol | FieldSrcPort | FieldDstPort, FieldAction | FieldPackets},
	{TypePortProbe, FieldProtocol | FieldSrcPort | FieldDstPort | FieldAction | FieldPackets, 0},
	{TypeSSHBruteForce + ", " + TypeRDPBruteForce, FieldProtocol | FieldSrcPort | FieldDstPort, 0},
	{TypeTrafficVolume, FieldBytes, 0},
	{TypePortUnusual, FieldProtocol | FieldSrcPort | FieldDstPort | FieldAction | FieldPackets, 0},
	{TypeRejectStorm, FieldAction, 0},
}

// base is what every detector needs.
const base = FieldInterface | FieldSrcAddr | FieldDstAddr | FieldStart

// checkFields notes, once per detector and set of missing fields, that
// records of a format lacking them cannot feed it.
func (e *Engine) checkFields(have Fields) {
	e.lastHave = have
	if miss := base &^ have; miss != 0 {
		e.note("base/"+miss.String(), "records without %s cannot be judged by any detector", miss)
		return
	}
	for _, r := range requirements {
		miss := r.need &^ have
		if r.either != 0 && have&r.either == 0 {
			miss |= r.either
		}
		if miss != 0 {
			e.note(r.name+"/"+miss.String(), "%s: records without %s do not count", r.name, miss)
		}
	}
}

// eniIndex returns the index of f's interface, adding it (and updating its
// metadata), or -1 when Limits.Interfaces are tracked already.
func (e *Engine) eniIndex(f *Flow) int32 {
	var x int32
	if f.Interface == e.lastName && e.lastName != "" {
		x = e.lastIdx
	} else {
		var ok bool
		x, ok = e.enis[f.Interface]
		if !ok {
			if len(e.eni) >= e.cfg.Limits.Interfaces {
				e.note("limit/interfaces", "more than %d interfaces: records of the others are not judged (Stats.InterfacesDropped)", e.cfg.Limits.Interfaces)
				return -1
			}
			x = int32(len(e.eni))
			e.eni = append(e.eni, eniState{name: f.Interface, first: f.Start})
			e.enis[f.Interface] = x
		}
		e.lastName, e.lastIdx = f.Interface, x
	}
	s := &e.eni[x]
	s.first = min(s.first, f.Start)
	if !s.complete {
		s.fill(f)
	}
	return x
}

// fill takes the interface's metadata from f where still unknown.
func (s *eniState) fill(f *Flow) {
	set := func(dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
		}
	}
	set(&s.account, f.Account)
	set(&s.region, f.Region)
	set(&s.vpc, f.VPC)
	set(&s.subnet, f.Subnet)
	set(&s.instance, f.Instance)
	s.complete = s.account != "" && s.region != "" && s.vpc != "" && s.subnet != "" && s.instance != ""
}

// window returns the open window of index wi, opening it if needed.
func (e *Engine) window(wi int64) *window {
	for i := len(e.open) - 1; i >= 0; i-- {
		switch w := e.open[i]; {
		case w.index == wi:
			return w
		case w.index < wi:
			return e.insert(i+1, wi)
		}
	}
	return e.insert(0, wi)
}

func (e *Engine) insert(at int, wi int64) *window {
	var w *window
	if n := len(e.spare); n > 0 {
		w, e.spare = e.spare[n-1], e.spare[:n-1]
	} else {
		w = &window{pairs: make(map[pairKey]int32)}
	}
	w.reset(wi)
	e.open = slices.Insert(e.open, at, w)
	return w
}

// closeReady judges the windows that end Lateness before the watermark.
func (e *Engine) closeReady() {
	cb := floorDiv(e.watermark-e.late, e.win)
	for len(e.open) > 0 && e.open[0].index < cb {
		e.closeFirst()
	}
	e.closedBefore = max(e.closedBefore, cb)
}

func (e *Engine) closeFirst() {
	w := e.open[0]
	e.open = e.open[1:]
	e.judge(w)
	e.stats.Windows++
	e.spare = append(e.spare, w)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
