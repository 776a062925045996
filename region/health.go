package region

import (
	"time"
)

// Health is what /healthz reports: enough for a person or a probe to see
// that the service runs, for whom, and that packets and records move.
type Health struct {
	Status        string   `json:"status"` // "ok"
	Account       string   `json:"account"`
	Region        string   `json:"region"`
	DataDir       string   `json:"dataDir"`
	UptimeSeconds float64  `json:"uptimeSeconds"`
	FlowLogs      int      `json:"flowLogs"`
	Sources       []string `json:"sources"`
	// SourcesEnded is true once every source has ended (a replay without
	// --loop at full speed); paced sources keep windows closing after.
	SourcesEnded bool   `json:"sourcesEnded"`
	Clock        string `json:"clock"` // "packet-time" or "wall-clock"
	Packets      uint64 `json:"packets"`
	// Records are the records delivered; Undeliverable those their
	// destination refused (see guard), which no one will receive.
	Records       uint64 `json:"records"`
	Undeliverable uint64 `json:"recordsUndeliverable"`
	// AlreadyStored are the delivered records the log store had already
	// (a replay delivered again after a restart), not stored twice.
	AlreadyStored uint64 `json:"recordsAlreadyStored"`
	InputErrors   int    `json:"inputErrors"`
	// Findings are the findings of the detection, Archived those of them
	// archived; FindingsSettled is true once every window has been
	// judged (the sources ended on packet time).
	Findings         int  `json:"findings"`
	FindingsArchived int  `json:"findingsArchived"`
	FindingsSettled  bool `json:"findingsSettled"`
}

// Health returns the service's status.
func (r *Region) Health() Health {
	s := r.pipe.Snapshot()
	var held uint64
	for _, n := range r.guard.Undeliverable() {
		held += n
	}
	h := Health{
		Status: "ok", Account: r.id.Account, Region: r.id.Region, DataDir: r.cfg.DataDir,
		UptimeSeconds: time.Since(r.start).Seconds(), FlowLogs: len(r.reg.Active()),
		Sources: []string{}, Clock: "packet-time", Packets: s.Packets,
		// The fan-out counts a window's records once they are all handed
		// over, the guard as it refuses them: the difference is clamped
		// for the moment in between.
		Records: s.Records.Records - min(held, s.Records.Records), Undeliverable: held,
		AlreadyStored: uint64(r.route.LogStats().AlreadyStored),
		InputErrors:   len(s.InputErrors),
	}
	if r.pipe.Paced() {
		h.Clock = "wall-clock"
	}
	ds := r.det.snapshot()
	h.Findings, h.FindingsArchived, h.FindingsSettled = ds.Findings, ds.Archived, ds.Settled
	for _, f := range r.cfg.Replay {
		h.Sources = append(h.Sources, "replay:"+f)
	}
	if r.cfg.SimRate > 0 {
		h.Sources = append(h.Sources, "sim")
	}
	for _, l := range r.cfg.Interfaces {
		h.Sources = append(h.Sources, "live:"+l.Capture.Interface)
	}
	for _, in := range r.cfg.Inputs {
		h.Sources = append(h.Sources, in.Name)
	}
	select {
	case <-r.pipe.Ended():
		h.SourcesEnded = true
	default:
	}
	return h
}
