//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

// Dependencies are what a Source uses but does not own.
type Dependencies struct{}

// Source is the capture of one interface: New opens its sockets (so a
// wrong name or missing privileges fail there), Start starts reading, Next
// hands frames to one consumer goroutine, Stop (or Close) ends it.
type Source struct {
	cfg   Configuration
	ifc   *net.Interface
	link  packet.LinkType
	socks []*afpacket.TPacket

	ready   chan *batch // filled batches, in the order readers finished them
	free    chan *batch
	done    chan struct{} // closed by Stop: readers leave at once
	stopAt  atomic.Int64  // Unix nanoseconds of StopReading; 0 while reading
	shut    atomic.Bool   // Stop closed the sockets
	once    sync.Once
	wg      sync.WaitGroup
	running atomic.Int32 // readers still reading
	notify  atomic.Pointer[func()]

	// consumer side: the batch being handed out; frames alias its buffer
	// and stay valid until the next call of Next. InPlace: the socket read
	// last.
	cur *batch
	pos int
	rr  int

	frames, bytes atomic.Uint64

	errMu sync.Mutex
	err   error // first read error

	statsMu sync.Mutex
	last    []afpacket.SocketStatsV3 // per socket, the kernel's counters at the last poll
	stats   Stats
	closed  bool
}

// Stats are a source's counters, cumulative since New.
type Stats struct {
	Interface string
	// Frames and Bytes (wire lengths) were handed to the consumer.
	Frames, Bytes uint64
	// KernelPackets are the frames the kernel passed to the sockets after
	// the filter, dropped ones included (tp_packets); KernelDrops those it
	// dropped because the ring was full (tp_drops); QueueFreezes the times
	// the ring filled up (tp_freeze_q_cnt).
	KernelPackets, KernelDrops, QueueFreezes uint64
}

// batch is frames copied out of a ring into one buffer.
type batch struct {
	buf    []byte
	frames []capture.Frame
}

var fanoutSeq atomic.Uint32

// New checks the interface and opens the sockets and their rings; frames
// are read from Start on.
func New(cfg Configuration, _ Dependencies) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("live capture: no interface %q (interfaces here: %s)", cfg.Interface, interfaceNames())
	}
	if ifc.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("live capture: interface %s is down: bring it up first (ip link set %s up)", ifc.Name, ifc.Name)
	}
	s := &Source{cfg: cfg, ifc: ifc, done: make(chan struct{})}
	switch {
	case ifc.Flags&net.FlagLoopback != 0 || len(ifc.HardwareAddr) == 6:
		s.link = packet.LinkEthernet
	case len(ifc.HardwareAddr) == 0:
		s.link = packet.LinkRaw // tun, wireguard: IP packets without a link header
	default:
		return nil, fmt.Errorf("live capture: interface %s: link layer with %d-byte addresses is not supported (want Ethernet or none)", ifc.Name, len(ifc.HardwareAddr))
	}
	prog, err := program(cfg.Filter, cfg.SnapLen)
	if err != nil {
		return nil, fmt.Errorf("live capture on %s: filter: %v", ifc.Name, err)
	}
	fanoutID := uint16(os.Getpid()) ^ uint16(fanoutSeq.Add(1)<<12)
	poll := pollTimeout
	if cfg.InPlace {
		poll = 0 // Next never waits
	}
	for i := 0; i < cfg.Readers; i++ {
		tp, err := afpacket.NewTPacket(afpacket.OptInterface(ifc.Name), afpacket.TPacketVersion3,
			afpacket.OptBlockSize(cfg.BlockSize), afpacket.OptNumBlocks(cfg.Blocks), afpacket.OptFrameSize(4096),
			afpacket.OptBlockTimeout(cfg.BlockTimeout), afpacket.OptPollTimeout(poll))
		if err != nil {
			s.closeSockets()
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return nil, fmt.Errorf("live capture on %s needs root or CAP_NET_RAW (opening an AF_PACKET socket: %v)", ifc.Name, err)
			}
			return nil, fmt.Errorf("live capture on %s: opening an AF_PACKET ring of %d blocks of %d bytes: %v", ifc.Name, cfg.Blocks, cfg.BlockSize, err)
		}
		s.socks = append(s.socks, tp)
		// The socket is bound before the filter is attached: the first
		// frames may pass unfiltered (and untruncated), as with libpcap.
		if err := tp.SetBPF(prog); err != nil {
			s.closeSockets()
			return nil, fmt.Errorf("live capture on %s: attaching the filter: %v", ifc.Name, err)
		}
		if cfg.Readers > 1 {
			// Hash fanout keeps both directions of a flow on one socket
			// (the kernel's hash is symmetric), so connection tracking
			// sees a flow's packets in order; defrag keeps fragments
			// with their first.
			if err := tp.SetFanout(afpacket.FanoutHash|afpacket.FanoutHashWithDefrag, fanoutID); err != nil {
				s.closeSockets()
				return nil, fmt.Errorf("live capture on %s: joining PACKET_FANOUT group %d: %v", ifc.Name, fanoutID, err)
			}
		}
	}
	s.last = make([]afpacket.SocketStatsV3, len(s.socks))
	s.stats.Interface = ifc.Name
	n := cfg.QueueBatches * cfg.Readers
	s.ready, s.free = make(chan *batch, n), make(chan *batch, n)
	for range n {
		s.free <- &batch{buf: make([]byte, 0, cfg.BatchBytes), frames: make([]capture.Frame, 0, cfg.BatchBytes/60+1)}
	}
	return s, nil
}

func interfaceNames() string {
	ifs, err := net.Interfaces()
	if err != nil || len(ifs) == 0 {
		return "none found"
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	return strings.Join(names, ", ")
}

// Name is the interface's name.
func (s *Source) Name() string { return s.ifc.Name }

// HardwareAddr is the interface's MAC address (empty without a link layer).
func (s *Source) HardwareAddr() net.HardwareAddr { return s.ifc.HardwareAddr }

// LinkType is the link type of the frames.
func (s *Source) LinkType() packet.LinkType { return s.link }

// Grace is how long after a window's end its frames may still arrive.
func (s *Source) Grace() time.Duration { return s.cfg.Grace() }

// Notify sets the function called when frames are waiting after Next
// returned capture.ErrNotReady (it may be called more often); it must not
// block.
func (s *Source) Notify(f func()) { s.notify.Store(&f) }

func (s *Source) wake() {
	if f := s.notify.Load(); f != nil {
		(*f)()
	}
}

// Start starts a reader goroutine per socket and the once-a-second poll
// of the kernel's counters (InPlace: no reader, and a poll every few
// milliseconds that wakes the consumer when the kernel counted frames).
// Cancelling ctx stops reading as StopReading does.
func (s *Source) Start(ctx context.Context) error {
	if len(s.socks) == 0 {
		return fmt.Errorf("live capture: started after Stop")
	}
	every := time.Second
	if s.cfg.InPlace {
		every = inPlacePoll
	} else {
		s.running.Store(int32(len(s.socks)))
		for _, tp := range s.socks {
			s.wg.Add(1)
			go s.read(tp)
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		var seen uint64
		for {
			select {
			case <-t.C:
				if st := s.Stats(); st.KernelPackets != seen && s.cfg.InPlace {
					seen = st.KernelPackets
					s.wake()
				}
			case <-ctx.Done():
				s.StopReading()
				ctx = context.Background() // once
			case <-s.done:
				return
			}
		}
	}()
	return nil
}

// read copies frames from one socket's ring into batches for Next. After
// StopReading it goes on until the ring has been empty for a poll, or for
// at most a block timeout and two polls: frames captured before the stop
// (some in a block the kernel has not handed over yet) are still read.
func (s *Source) read(tp *afpacket.TPacket) {
	defer s.wg.Done()
	defer s.wake()
	defer s.running.Add(-1)
	b := s.take()
	for n := 0; b != nil; n++ {
		data, ci, err := tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
		case errors.Is(err, afpacket.ErrTimeout):
			if len(b.frames) > 0 {
				b = s.hand(b)
			}
			if s.pastDrain() {
				return
			}
			continue
		default:
			s.fail(fmt.Errorf("live capture on %s: reading the ring: %v", s.ifc.Name, err))
			if len(b.frames) > 0 {
				s.hand(b)
			}
			return
		}
		if len(b.buf)+len(data) > cap(b.buf) || len(b.frames) == cap(b.frames) {
			if b = s.hand(b); b == nil {
				return
			}
		}
		off := len(b.buf)
		b.buf = append(b.buf, data...)
		b.frames = append(b.frames, capture.Frame{
			TimestampNanos: ci.Timestamp.UnixNano(), Data: b.buf[off:len(b.buf):len(b.buf)],
			WireLen: max(ci.Length, len(data)), LinkType: s.link,
		})
		if n&63 == 0 && s.pastDrain() {
			s.hand(b)
			return
		}
	}
}

// pastDrain reports whether StopReading was called more than a block
// timeout and two polls ago: every frame captured before it has been read.
func (s *Source) pastDrain() bool {
	at := s.stopAt.Load()
	return at != 0 && time.Now().UnixNano()-at > int64(s.cfg.BlockTimeout+2*pollTimeout)
}

// take returns an empty batch, waiting while the consumer holds them all
// (the ring fills meanwhile, and the kernel counts what it drops); nil once
// stopped.
func (s *Source) take() *batch {
	select {
	case b := <-s.free:
		b.buf, b.frames = b.buf[:0], b.frames[:0]
		return b
	case <-s.done:
		return nil
	}
}

// hand queues a filled batch for the consumer and returns an empty one.
func (s *Source) hand(b *batch) *batch {
	select {
	case s.ready <- b:
	case <-s.done:
		return nil
	}
	s.wake()
	return s.take()
}

func (s *Source) fail(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// inPlacePoll is how often an InPlace source looks at the kernel's
// counters for frames to announce.
const inPlacePoll = 5 * time.Millisecond

// Next returns the next frame, capture.ErrNotReady when none is waiting,
// and io.EOF (or the read error) once stopped and drained. The frame's data
// stays valid until the next call. One consumer goroutine only.
func (s *Source) Next() (capture.Frame, error) {
	if s.cfg.InPlace {
		return s.nextInPlace()
	}
	for {
		if s.cur != nil {
			if s.pos < len(s.cur.frames) {
				f := s.cur.frames[s.pos]
				s.pos++
				s.frames.Add(1)
				s.bytes.Add(uint64(f.WireLen))
				return f, nil
			}
			s.free <- s.cur // never blocks: free holds every batch
			s.cur = nil
		}
		select {
		case s.cur = <-s.ready:
			s.pos = 0
			continue
		default:
		}
		if s.running.Load() > 0 {
			return capture.Frame{}, capture.ErrNotReady
		}
		// Readers hand their last batch before they count themselves out.
		select {
		case s.cur = <-s.ready:
			s.pos = 0
			continue
		default:
		}
		s.errMu.Lock()
		err := s.err
		s.errMu.Unlock()
		if err != nil {
			return capture.Frame{}, err
		}
		return capture.Frame{}, io.EOF
	}
}

// nextInPlace reads the rings themselves, one socket after the other.
func (s *Source) nextInPlace() (capture.Frame, error) {
	// After StopReading, the rings are read for a block timeout more, and
	// no longer: a busy link would never let them run dry.
	if s.shut.Load() || s.pastDrain() {
		return capture.Frame{}, io.EOF
	}
	for i := range s.socks {
		k := (s.rr + i) % len(s.socks)
		data, ci, err := s.socks[k].ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) {
			continue
		}
		if err != nil {
			return capture.Frame{}, fmt.Errorf("live capture on %s: reading the ring: %v", s.ifc.Name, err)
		}
		s.rr = k
		f := capture.Frame{TimestampNanos: ci.Timestamp.UnixNano(), Data: data, WireLen: max(ci.Length, len(data)), LinkType: s.link}
		s.frames.Add(1)
		s.bytes.Add(uint64(f.WireLen))
		return f, nil
	}
	return capture.Frame{}, capture.ErrNotReady
}

// Stats polls the kernel's counters of every socket and returns the
// source's counters. Safe from any goroutine; the counters stay readable
// after Stop.
func (s *Source) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if !s.closed {
		s.pollLocked()
	}
	st := s.stats
	st.Frames, st.Bytes = s.frames.Load(), s.bytes.Load()
	return st
}

// Counters returns the source's counters without asking the kernel: the
// frames handed out so far, and the kernel's counters as of the last poll
// (at most a second old while the source runs).
func (s *Source) Counters() Stats {
	s.statsMu.Lock()
	st := s.stats
	s.statsMu.Unlock()
	st.Frames, st.Bytes = s.frames.Load(), s.bytes.Load()
	return st
}

// pollLocked adds what the kernel counted since the last poll. afpacket
// keeps 32-bit running sums; the differences are taken modulo 2^32, so
// the 64-bit totals survive their wrapping.
func (s *Source) pollLocked() {
	for i, tp := range s.socks {
		_, v3, err := tp.SocketStats()
		if err != nil {
			continue
		}
		prev := s.last[i]
		s.stats.KernelPackets += uint64(uint32(v3.Packets()) - uint32(prev.Packets()))
		s.stats.KernelDrops += uint64(uint32(v3.Drops()) - uint32(prev.Drops()))
		s.stats.QueueFreezes += uint64(uint32(v3.QueueFreezes()) - uint32(prev.QueueFreezes()))
		s.last[i] = v3
	}
}

// StopReading asks the readers to finish: they read what the rings hold
// (at most a block timeout more), hand it over and leave; Next then
// returns the remaining frames and io.EOF. Safe to call more than once.
func (s *Source) StopReading() {
	s.stopAt.CompareAndSwap(0, time.Now().UnixNano())
}

// Stop stops the readers at once, reads the kernel's counters a last time
// and closes the sockets; frames still queued are not handed out (they were
// read: the kernel's counters include them). Call StopReading and drain
// Next first to keep them. Safe to call more than once.
func (s *Source) Stop() error {
	s.StopReading()
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if !s.closed {
		s.pollLocked()
		s.shut.Store(true)
		s.closeSockets()
		s.closed = true
	}
	return nil
}

// Close is Stop, for capture.Source.
func (s *Source) Close() error { return s.Stop() }

func (s *Source) closeSockets() {
	for _, tp := range s.socks {
		tp.Close()
	}
}
