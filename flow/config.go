package flow

import (
	"fmt"
	"runtime"
)

// Configuration bounds the aggregator.
type Configuration struct {
	// Shards is the number of aggregation goroutines; capture points are
	// spread over them. Default: GOMAXPROCS.
	Shards int
	// MemoryBudget bounds the bytes the flow tables hold (their chunks of
	// flows and their indexes, as allocated; a closed window's until the
	// sink has returned): a new flow that needs more memory than is left
	// is dropped and its packets counted, and the window of its capture
	// point gets a SKIPDATA record (docs/aws-behaviour.md, "NODATA and
	// SKIPDATA"). Zero: no bound. Default: DefaultMemoryBudget().
	MemoryBudget int64
	// MaxFlowsPerWindow, when positive, also bounds the flows of one
	// capture point in one window. Default 0: no bound.
	MaxFlowsPerWindow int
	// MaxFlows, when positive, also bounds the live flow entries of all
	// capture points together. Default 0: no bound.
	MaxFlows int
	// BatchSize is the number of observations handed to a shard at once.
	BatchSize int
	// CaptureGap, when positive, is the silence (seconds, in packet time)
	// after which a capture is taken to have stopped observing: the
	// windows inside a longer gap between two observations are not emitted
	// (no NODATA for time nobody watched), and the gap is reported. It
	// also keeps one corrupt timestamp from opening thousands of windows.
	// Zero: every window is emitted (a clock-driven source does observe
	// an idle interface). Default 3600.
	CaptureGap int64
	// HoldNext keeps the window after the open one open too, and lets
	// packet time close a window only when an observation lies beyond that
	// next window: windows close on Advance. A producer on the clock whose
	// packets can trail it (live capture: kernel timestamps reach the
	// producer up to a ring's block timeout late) calls Advance a grace
	// after each window's end; packets stamped after the end that arrive
	// during the grace then go to the next window instead of closing the
	// open one early.
	HoldNext bool
}

// DefaultConfiguration returns the defaults documented on Configuration.
func DefaultConfiguration() Configuration {
	return Configuration{
		Shards:       runtime.GOMAXPROCS(0),
		MemoryBudget: DefaultMemoryBudget(),
		BatchSize:    512,
		CaptureGap:   3600,
	}
}

func (c *Configuration) validate() error {
	switch {
	case c.Shards < 1:
		return fmt.Errorf("flow: Shards: want at least 1, got %d", c.Shards)
	case c.MemoryBudget < 0:
		return fmt.Errorf("flow: MemoryBudget: want 0 (no bound) or a number of bytes, got %d", c.MemoryBudget)
	case c.MaxFlowsPerWindow < 0:
		return fmt.Errorf("flow: MaxFlowsPerWindow: want 0 (no bound) or a number of flows, got %d", c.MaxFlowsPerWindow)
	case c.MaxFlows < 0:
		return fmt.Errorf("flow: MaxFlows: want 0 (no bound) or a number of flows, got %d", c.MaxFlows)
	case c.BatchSize < 1:
		return fmt.Errorf("flow: BatchSize: want at least 1, got %d", c.BatchSize)
	case c.CaptureGap < 0:
		return fmt.Errorf("flow: CaptureGap: want 0 (off) or a number of seconds, got %d", c.CaptureGap)
	}
	return nil
}
