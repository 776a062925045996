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
	// MaxFlowsPerWindow bounds the flows of one capture point in one window
	// (docs/aws-behaviour.md, "NODATA and SKIPDATA"). Default 100000.
	MaxFlowsPerWindow int
	// MaxFlows bounds the live flow entries of all capture points together.
	// Default sized to about 1 GiB of table memory.
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

// bytesPerFlow is the measured upper bound of table memory per live flow
// (map slot plus flow slice entry); see BenchmarkMemoryPerFlow.
const bytesPerFlow = 256

// DefaultConfiguration returns the defaults documented on Configuration.
func DefaultConfiguration() Configuration {
	return Configuration{
		Shards:            runtime.GOMAXPROCS(0),
		MaxFlowsPerWindow: 100_000,
		MaxFlows:          (1 << 30) / bytesPerFlow,
		BatchSize:         512,
		CaptureGap:        3600,
	}
}

func (c *Configuration) validate() error {
	switch {
	case c.Shards < 1:
		return fmt.Errorf("flow: Shards: want at least 1, got %d", c.Shards)
	case c.MaxFlowsPerWindow < 1:
		return fmt.Errorf("flow: MaxFlowsPerWindow: want at least 1, got %d", c.MaxFlowsPerWindow)
	case c.MaxFlows < 1:
		return fmt.Errorf("flow: MaxFlows: want at least 1, got %d", c.MaxFlows)
	case c.BatchSize < 1:
		return fmt.Errorf("flow: BatchSize: want at least 1, got %d", c.BatchSize)
	case c.CaptureGap < 0:
		return fmt.Errorf("flow: CaptureGap: want 0 (off) or a number of seconds, got %d", c.CaptureGap)
	}
	return nil
}
