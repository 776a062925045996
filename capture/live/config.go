package live

import (
	"fmt"
	"time"

	"golang.org/x/net/bpf"
)

// Configuration describes the capture of one interface.
type Configuration struct {
	// Interface is the name of the network interface ("eth0").
	Interface string
	// Filter is a classic BPF program run by the kernel on every frame
	// (ParseFilter reads the output of `tcpdump -ddd EXPR`); nil keeps every
	// frame. Frames it refuses are neither captured nor counted.
	Filter []bpf.RawInstruction
	// SnapLen is how many bytes of each frame are kept. Flow logs need only
	// the headers (bytes come from the IP header's length, not from the
	// captured data); the default, 512, holds Ethernet, two VLAN tags, IPv6
	// with extension headers and TCP with options.
	SnapLen int
	// Readers is the number of sockets joined in a PACKET_FANOUT group
	// (hashed by flow, both directions of a flow on one socket), each with
	// its ring and its reader goroutine. Default 1: see docs/live-capture.md
	// for when more help.
	Readers int
	// BlockSize and Blocks size each socket's TPACKET_V3 ring (defaults
	// 1 MiB and 16: 16 MiB). A full ring drops frames in the kernel; the
	// drops are counted and the affected windows get SKIPDATA.
	BlockSize, Blocks int
	// BlockTimeout is how long the kernel fills a block before handing it
	// over partly full (default 100 ms): the most a frame waits in the ring
	// when traffic is light. Grace derives from it.
	BlockTimeout time.Duration
	// BatchBytes and QueueBatches bound the frames copied out of the rings
	// and waiting for the consumer (defaults 256 KiB and 32 batches per
	// reader). When they are all taken, readers stop reading, the rings
	// fill and the kernel counts what it drops: no frame is lost unseen.
	BatchBytes, QueueBatches int
	// InPlace has the consumer read frames straight from the rings in Next
	// (each frame valid until the next call), without reader goroutines,
	// copies or queue; the rings are the only buffer, and the kernel's
	// counters are polled every few milliseconds to tell the consumer that
	// frames wait. See docs/live-capture.md for what it is worth.
	InPlace bool
}

// DefaultConfiguration returns the defaults documented on Configuration;
// Interface is the caller's.
func DefaultConfiguration() Configuration {
	return Configuration{
		SnapLen: 512, Readers: 1,
		BlockSize: 1 << 20, Blocks: 16, BlockTimeout: 100 * time.Millisecond,
		BatchBytes: 256 << 10, QueueBatches: 32,
	}
}

// pollTimeout bounds how long a reader waits in poll: a partly filled
// batch is handed over and a stop is seen within it.
const pollTimeout = 10 * time.Millisecond

// Grace is how long after a window's end its frames may still arrive: a
// frame waits up to BlockTimeout in the ring and pollTimeout in a batch
// before the consumer can see it. Windows close this long after their end;
// twice the block timeout leaves room for a busy consumer.
func (c *Configuration) Grace() time.Duration { return 2 * c.BlockTimeout }

const maxSnapLen = 262144

// Validate checks the configuration, naming the offending field.
func (c *Configuration) Validate() error {
	where := "live capture"
	if c.Interface != "" {
		where += " on " + c.Interface
	}
	switch {
	case c.Interface == "":
		return fmt.Errorf("%s: Interface: required", where)
	case c.SnapLen < 64 || c.SnapLen > maxSnapLen:
		return fmt.Errorf("%s: SnapLen: want 64 to %d bytes, got %d", where, maxSnapLen, c.SnapLen)
	case c.Readers < 1 || c.Readers > 64:
		return fmt.Errorf("%s: Readers: want 1 to 64, got %d", where, c.Readers)
	case c.BlockSize < 4096 || c.BlockSize%4096 != 0:
		return fmt.Errorf("%s: BlockSize: want a multiple of 4096 bytes, got %d", where, c.BlockSize)
	case c.BlockSize < c.SnapLen+128:
		return fmt.Errorf("%s: BlockSize %d cannot hold a frame of SnapLen %d", where, c.BlockSize, c.SnapLen)
	case c.Blocks < 1:
		return fmt.Errorf("%s: Blocks: want at least 1, got %d", where, c.Blocks)
	case c.BlockTimeout < time.Millisecond || c.BlockTimeout > 10*time.Second:
		return fmt.Errorf("%s: BlockTimeout: want 1 ms to 10 s, got %v", where, c.BlockTimeout)
	case c.BatchBytes < c.SnapLen:
		return fmt.Errorf("%s: BatchBytes %d cannot hold a frame of SnapLen %d", where, c.BatchBytes, c.SnapLen)
	case c.QueueBatches < 1:
		return fmt.Errorf("%s: QueueBatches: want at least 1, got %d", where, c.QueueBatches)
	}
	if len(c.Filter) > 0 {
		if _, err := program(c.Filter, c.SnapLen); err != nil {
			return fmt.Errorf("%s: Filter: %v", where, err)
		}
	}
	return nil
}
