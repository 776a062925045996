//go:build linux

package live

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/netnstest"
	"github.com/vpcflow/vpcflow/packet"
)

// udpOnly is what `tcpdump -ddd 'ip and udp'` prints for Ethernet: load
// the EtherType, IPv4?, load the protocol byte, UDP? keep : drop. Written
// by hand from the BPF encoding (ldh 0x28, jeq 0x15, ldb 0x30, ret 0x06).
const udpOnly = `6
40 0 0 12
21 0 3 2048
48 0 0 23
21 0 1 17
6 0 0 262144
6 0 0 0
`

func TestParseFilter(t *testing.T) {
	prog, err := ParseFilter(udpOnly)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) != 6 || prog[1] != (bpf.RawInstruction{Op: 21, Jt: 0, Jf: 3, K: 2048}) {
		t.Fatalf("program %v", prog)
	}
	// One flag, commas for line breaks, no count line: the same program.
	one, err := ParseFilter(strings.Join(strings.Split(strings.TrimSpace(udpOnly), "\n")[1:], ","))
	if err != nil || len(one) != 6 || one[5] != prog[5] {
		t.Fatalf("comma form: %v %v", one, err)
	}
	// The attached program keeps at most SnapLen bytes: run it on frames.
	attached, err := program(prog, 96)
	if err != nil {
		t.Fatal(err)
	}
	insts, _ := bpf.Disassemble(attached)
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(etherType uint16, proto byte) []byte {
		f := make([]byte, 200)
		f[12], f[13], f[23] = byte(etherType>>8), byte(etherType), proto
		return f
	}
	for _, c := range []struct {
		name  string
		frame []byte
		keep  int
	}{
		{"IPv4 UDP", frame(0x0800, 17), 96},
		{"IPv4 ICMP", frame(0x0800, 1), 0},
		{"ARP", frame(0x0806, 17), 0},
	} {
		if got, err := vm.Run(c.frame); err != nil || got != c.keep {
			t.Errorf("%s: keeps %d bytes (%v), want %d", c.name, got, err, c.keep)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"", "no instruction"},
		{"2\n6 0 0 0\n", "announces 2 instructions, 1 follow"},
		{"1\n6 0 0\n", "line 2: want an instruction as 4 numbers"},
		{"1\n6 0 x 0\n", `line 2: jf "x" is not a number of 8 bits`},
		{"1\n21 0 5 17\n", "filter: "},          // jumps out of the program
		{"2\n6 0 0 0\n40 0 0 12\n", "filter: "}, // does not end with a return
		{"0\n", "line 1: want the number of instructions"},
	} {
		if _, err := ParseFilter(c.text); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFilter(%q) = %v, want an error with %q", c.text, err, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		change func(*Configuration)
		want   string
	}{
		{func(c *Configuration) { c.Interface = "" }, "Interface: required"},
		{func(c *Configuration) { c.SnapLen = 10 }, "SnapLen: want 64 to 262144 bytes, got 10"},
		{func(c *Configuration) { c.BlockSize = 5000 }, "BlockSize: want a multiple of 4096 bytes, got 5000"},
		{func(c *Configuration) { c.Readers = 0 }, "Readers: want 1 to 64, got 0"},
		{func(c *Configuration) { c.BlockTimeout = 0 }, "BlockTimeout: want 1 ms to 10 s, got 0s"},
	} {
		cfg := DefaultConfiguration()
		cfg.Interface = "eth9"
		c.change(&cfg)
		if _, err := New(cfg, Dependencies{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New: %v, want an error with %q", err, c.want)
		}
	}
	cfg := DefaultConfiguration()
	cfg.Interface = "no-such-if0"
	if _, err := New(cfg, Dependencies{}); err == nil || !strings.Contains(err.Error(), `no interface "no-such-if0" (interfaces here: `) {
		t.Errorf("unknown interface: %v", err)
	}
}

// The pair's addresses: side 0 is where the capture runs.
var (
	macs = [2]string{"0a:00:00:00:00:0a", "0a:00:00:00:00:0b"}
	ips  = [2]string{"10.9.0.10", "10.9.0.11"}
)

// open opens and starts a source on side i's veth, inside its namespace.
func open(t *testing.T, p *netnstest.Pair, i int, cfg Configuration) *Source {
	t.Helper()
	cfg.Interface = p.End[i].Veth
	var s *Source
	if err := p.Do(i, func() (err error) { s, err = New(cfg, Dependencies{}); return err }); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// drain reads frames until want have come or the timeout passes.
func drain(t *testing.T, s *Source, want int, timeout time.Duration) []capture.Frame {
	t.Helper()
	var out []capture.Frame
	deadline := time.Now().Add(timeout)
	for len(out) < want && time.Now().Before(deadline) {
		f, err := s.Next()
		if errors.Is(err, capture.ErrNotReady) {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatalf("Next: %v after %d frames", err, len(out))
		}
		f.Data = append([]byte(nil), f.Data...) // valid only until the next call
		out = append(out, f)
	}
	return out
}

// TestCapture sends datagrams and pings between two namespaces and
// captures one end: every frame the veth counted comes out once, with its
// wire length and a kernel timestamp taken while the test ran.
func TestCapture(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "copy", true: "inplace"}[inPlace], func(t *testing.T) {
			cfg := DefaultConfiguration()
			cfg.InPlace = inPlace
			testCapture(t, cfg)
		})
	}
}

func testCapture(t *testing.T, cfg Configuration) {
	p := netnstest.NewPair(t, macs, ips, 24)
	p.ListenUDP(t, 0, 5000)
	s := open(t, p, 0, cfg)
	before := p.Counters(t, 0)
	start := time.Now()
	const datagrams, payload, pings, pingSize = 50, 100, 3, 56
	p.SendUDP(t, 1, 40000, 5000, datagrams, payload)
	p.Ping(t, 0, pings, pingSize)
	frames := drain(t, s, datagrams+2*pings, 5*time.Second)
	end := time.Now()
	// Nothing more may come: wait out a block timeout and look again.
	time.Sleep(2 * DefaultConfiguration().BlockTimeout)
	if extra := drain(t, s, 1, 50*time.Millisecond); len(extra) != 0 {
		t.Errorf("an unexpected frame: % x", extra[0].Data)
	}
	got := p.Counters(t, 0).Sub(before)
	// By hand: a datagram is 14 + 20 + 8 + 100 = 142 bytes on the wire, an
	// echo request or reply 14 + 20 + 8 + 56 = 98.
	want := netnstest.Counters{RxPackets: datagrams + pings, TxPackets: pings,
		RxBytes: datagrams*142 + pings*98, TxBytes: pings * 98}
	if got != want {
		t.Errorf("veth counters %+v, want %+v", got, want)
	}
	var udp, icmp, wire int
	var pkt packet.Packet
	for _, f := range frames {
		wire += f.WireLen
		if f.TimestampNanos < start.UnixNano() || f.TimestampNanos > end.UnixNano() {
			t.Errorf("timestamp %v outside the test's run %v..%v", time.Unix(0, f.TimestampNanos), start, end)
		}
		if r := packet.Decode(f.LinkType, f.Data, &pkt); !r.HasIP() {
			t.Fatalf("frame % x: %v", f.Data, r)
		}
		switch {
		case pkt.Proto == 17 && f.WireLen == 142 && pkt.IPLen == 128 && pkt.DstPort == 5000:
			udp++
		case pkt.Proto == 1 && f.WireLen == 98 && pkt.IPLen == 84:
			icmp++
		default:
			t.Errorf("unexpected frame: proto %d, %d bytes", pkt.Proto, f.WireLen)
		}
	}
	if udp != datagrams || icmp != 2*pings || uint64(wire) != got.RxBytes+got.TxBytes {
		t.Errorf("captured %d datagrams, %d ICMP, %d bytes; want %d, %d, %d", udp, icmp, wire, datagrams, 2*pings, got.RxBytes+got.TxBytes)
	}
	st := s.Stats()
	if st.Frames != uint64(len(frames)) || st.Bytes != uint64(wire) || st.KernelPackets != uint64(len(frames)) || st.KernelDrops != 0 {
		t.Errorf("stats %+v, want %d frames of %d bytes, as many kernel packets, no drop", st, len(frames), wire)
	}
}

// TestFilterAndSnapLen: the kernel runs the filter (no ICMP comes) and
// keeps SnapLen bytes of each frame, while the wire length stays whole.
func TestFilterAndSnapLen(t *testing.T) {
	p := netnstest.NewPair(t, macs, ips, 24)
	p.ListenUDP(t, 0, 5000)
	cfg := DefaultConfiguration()
	cfg.SnapLen = 64
	var err error
	if cfg.Filter, err = ParseFilter(udpOnly); err != nil {
		t.Fatal(err)
	}
	s := open(t, p, 0, cfg)
	p.Ping(t, 0, 2, 56)
	p.SendUDP(t, 1, 40000, 5000, 20, 100)
	frames := drain(t, s, 20, 5*time.Second)
	time.Sleep(2 * cfg.BlockTimeout)
	frames = append(frames, drain(t, s, 1, 50*time.Millisecond)...)
	if len(frames) != 20 {
		t.Fatalf("%d frames, want the 20 datagrams only", len(frames))
	}
	for _, f := range frames {
		if len(f.Data) != 64 || f.WireLen != 142 {
			t.Fatalf("frame of %d bytes captured, %d on the wire; want 64 and 142", len(f.Data), f.WireLen)
		}
	}
	if st := s.Stats(); st.KernelPackets != 20 {
		t.Errorf("kernel packets %d, want 20 (the filter runs before counting)", st.KernelPackets)
	}
}

// TestDropsCounted stalls the consumer behind a one-block ring and a
// one-batch queue: the kernel drops, and every frame the veth received is
// either read or counted as dropped, never lost unseen.
func TestDropsCounted(t *testing.T) {
	for _, inPlace := range []bool{false, true} {
		t.Run(map[bool]string{false: "copy", true: "inplace"}[inPlace], func(t *testing.T) {
			testDropsCounted(t, inPlace)
		})
	}
}

func testDropsCounted(t *testing.T, inPlace bool) {
	p := netnstest.NewPair(t, macs, ips, 24)
	p.ListenUDP(t, 0, 5000)
	cfg := DefaultConfiguration()
	cfg.SnapLen, cfg.BlockSize, cfg.Blocks, cfg.BatchBytes, cfg.QueueBatches = 64, 4096, 1, 4096, 1
	cfg.InPlace = inPlace
	s := open(t, p, 0, cfg)
	before := p.Counters(t, 0)
	const n = 2000
	p.SendUDP(t, 1, 40000, 5000, n, 100) // nobody calls Next meanwhile
	time.Sleep(2 * cfg.BlockTimeout)
	stalled := s.Stats()
	if stalled.KernelDrops == 0 || stalled.QueueFreezes == 0 {
		t.Errorf("stats %+v: want drops and queue freezes while the consumer stalls", stalled)
	}
	// Drain what was kept, then stop: the counters add up.
	read := 0
	for {
		_, err := s.Next()
		if errors.Is(err, capture.ErrNotReady) {
			s.StopReading() // Next ends with io.EOF once the rings are read
			time.Sleep(time.Millisecond)
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		read++
	}
	s.Stop()
	st := s.Stats()
	got := p.Counters(t, 0).Sub(before)
	if got.RxPackets != n || st.KernelPackets != n || uint64(read)+st.KernelDrops != n || st.Frames != uint64(read) {
		t.Errorf("veth received %d, kernel passed %d, read %d + dropped %d; want %d = %d + drops", got.RxPackets, st.KernelPackets, read, st.KernelDrops, n, read)
	}
	t.Logf("%d frames: %d read, %d dropped, %d queue freezes", n, read, st.KernelDrops, st.QueueFreezes)
}

// TestNotPermitted opens a source on a thread without CAP_NET_RAW (the
// capabilities of one thread, which then ends): the error says what is
// missing.
func TestNotPermitted(t *testing.T) {
	p := netnstest.NewPair(t, macs, ips, 24)
	cfg := DefaultConfiguration()
	cfg.Interface = p.End[0].Veth
	err := p.Do(0, func() error {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return err
		}
		s, err := New(cfg, Dependencies{})
		if err == nil {
			s.Stop()
			return errors.New("opened without CAP_NET_RAW")
		}
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "live capture on "+cfg.Interface+" needs root or CAP_NET_RAW") {
		t.Errorf("got %v, want the missing capability named", err)
	}
}

// TestDown: a source on an interface that is down is refused, with the
// command that brings it up.
func TestDown(t *testing.T) {
	p := netnstest.NewPair(t, macs, ips, 24)
	if out, err := p.Command(0, "ip", "link", "set", p.End[0].Veth, "down").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cfg := DefaultConfiguration()
	cfg.Interface = p.End[0].Veth
	err := p.Do(0, func() error { _, err := New(cfg, Dependencies{}); return err })
	want := "live capture: interface " + cfg.Interface + " is down: bring it up first (ip link set " + cfg.Interface + " up)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
