package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/internal/gopacketbase"
)

func init() { benchSubcommands = append(benchSubcommands, newBenchPcapCmd) }

// benchPcapContender is one way of going through the capture.
type benchPcapContender struct {
	name string
	run  func() (benchPcapRun, error)
	runs []benchPcapRun
}

type benchPcapRun struct {
	wall, cpu time.Duration
	rss       int64  // peak resident bytes of a child process; 0 in-process
	packets   uint64 // what the contender counted, when it says
	flows     uint64
	datagrams uint64 // NetFlow datagrams softflowd exported
	notes     string // the vpcflow summary's records and memory lines
}

func newBenchPcapCmd() *cobra.Command {
	var nRuns int
	var base, args, only string
	c := &cobra.Command{
		Use:   "pcap [--runs N] [--base BINARY] FILE",
		Short: "Time `vpcflow pcap --out` on a capture against baselines, in one invocation",
		Long: `Runs, --runs times each and in turn, each round starting one contender further
(A B C, B C A, C A B, ...: a drift of the machine's speed touches every contender alike,
and no contender always follows the same one), on the same capture file:

  vpcflow       this binary: vpcflow pcap --out TMPDIR [--args] FILE, as a child process
  base          --base BINARY the same way (an earlier vpcflow, to measure a change), with
                its flow-count bounds lifted (--max-flows-per-window and --max-flows
                100000000) so it does the same work
  gopacket+map  gopacket's pcapgo reader, DecodingLayerParser and a Go map
                from the 5-tuple to counters (no window, no record, no output): what a
                straightforward Go tool pays
  pcapgo-read   pcapgo's reader alone, touching each frame: the ceiling
                of reading the file
  softflowd     when softflowd is installed: softflowd -r FILE, tracking every flow
                (-m 100000000, IPv6 too) and exporting NetFlow v9 to a UDP socket of
                this process on 127.0.0.1, which counts the datagrams and drops them

each in a child process, and prints, per contender, the median wall time, packets/s, CPU
time (user + system) and peak RSS, with the ratios to vpcflow, and the records and memory
lines of vpcflow's summary. The file should be in the page cache (the first round warms
it). Children write their output under a temporary directory that is removed.`,
		Example: `  vpcflow gen pcap --packets 10000000 --flows 750000 --snaplen 128 --out big.pcap
  vpcflow bench pcap --runs 3 --base /tmp/vpcflow-old --args "--local-cidr 10.0.1.10/32" big.pcap`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, a []string) error {
			if nRuns < 1 {
				return usageErrorf("--runs: want a positive number, got %d", nRuns)
			}
			file, err := filepath.Abs(a[0])
			if err != nil {
				return err
			}
			if only != "" {
				// A child of the timing run (see below).
				r, err := benchInProcess(file, only == "gopacket+map")
				if err != nil {
					return &exitError{code: 1, msg: err.Error()}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d %d\n", r.packets, r.flows)
				return nil
			}
			if _, err := os.Stat(file); err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "vpcflow-bench-pcap-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			extra := strings.Fields(args)
			vpcflowRun := func(bin string, more ...string) func() (benchPcapRun, error) {
				return func() (benchPcapRun, error) {
					out := filepath.Join(tmp, "out")
					os.RemoveAll(out)
					argv := append(append([]string{"pcap", "--out", out}, more...), extra...)
					r, stderr, err := benchChild(bin, append(argv, file)...)
					if err != nil {
						return r, fmt.Errorf("%s: %v\n%s", bin, err, stderr)
					}
					for _, l := range strings.Split(stderr, "\n") {
						if t := strings.TrimSpace(l); strings.HasPrefix(t, "records:") || strings.HasPrefix(t, "memory:") || strings.HasPrefix(t, "flow tables:") {
							r.notes += "    " + t + "\n"
						}
					}
					if m := regexp.MustCompile(`vpcflow: ([0-9,]+) packets in`).FindStringSubmatch(stderr); m != nil {
						fmt.Sscan(strings.ReplaceAll(m[1], ",", ""), &r.packets)
					}
					return r, nil
				}
			}
			cs := []*benchPcapContender{{name: "vpcflow", run: vpcflowRun(self)}}
			if base != "" {
				cs = append(cs, &benchPcapContender{name: "base", run: vpcflowRun(base, "--max-flows-per-window", "100000000", "--max-flows", "100000000")})
			}
			// The baselines run in child processes of this binary too, so
			// each process's CPU time and peak RSS are its own (a child's
			// peak RSS would otherwise start from this process's heap).
			inChild := func(name string) func() (benchPcapRun, error) {
				return func() (benchPcapRun, error) {
					c := exec.Command(self, "bench", "pcap", "--only", name, file)
					var stdout, stderr bytes.Buffer
					c.Stdout, c.Stderr = &stdout, &stderr
					r, err := benchWait(c)
					if err != nil {
						return r, fmt.Errorf("%s: %v\n%s", name, err, stderr.String())
					}
					fmt.Sscan(stdout.String(), &r.packets, &r.flows)
					return r, nil
				}
			}
			cs = append(cs,
				&benchPcapContender{name: "gopacket+map", run: inChild("gopacket+map")},
				&benchPcapContender{name: "pcapgo-read", run: inChild("pcapgo-read")})
			if sf, err := exec.LookPath("softflowd"); err == nil {
				run, stop, err := softflowdRun(sf, file, tmp)
				if err != nil {
					return &exitError{code: 1, msg: err.Error()}
				}
				defer stop()
				cs = append(cs, &benchPcapContender{name: "softflowd", run: run})
			}
			out := cmd.OutOrStdout()
			for k := 0; k < nRuns; k++ {
				// Rotated, so that no contender always runs after the
				// same one: in a fixed order the second of two equal
				// builds came out 4-7% faster, run after run.
				for i := range cs {
					c := cs[(k+i)%len(cs)]
					r, err := c.run()
					if err != nil {
						return &exitError{code: 1, msg: err.Error()}
					}
					c.runs = append(c.runs, r)
					fmt.Fprintf(out, "run %d %-13s wall %7.3fs cpu %7.3fs\n", k+1, c.name, r.wall.Seconds(), r.cpu.Seconds())
				}
			}
			packets := cs[0].runs[0].packets
			for _, c := range cs {
				if c.name == "pcapgo-read" {
					packets = c.runs[0].packets // every frame of the file
				}
			}
			med := func(c *benchPcapContender) benchPcapRun {
				rs := slices.Clone(c.runs)
				slices.SortFunc(rs, func(a, b benchPcapRun) int { return cmp.Compare(a.wall, b.wall) })
				m := rs[len(rs)/2]
				cpus := make([]time.Duration, len(rs))
				for i, r := range c.runs {
					cpus[i] = r.cpu
				}
				slices.Sort(cpus)
				m.cpu = cpus[len(cpus)/2]
				return m
			}
			ref := med(cs[0])
			fmt.Fprintf(out, "\n%d packets; medians of %d runs; ratios: the contender's time / vpcflow's (above 1: vpcflow is faster)\n", packets, nRuns)
			fmt.Fprintf(out, "%-13s %9s %12s %9s %9s %12s %10s\n", "contender", "wall s", "packets/s", "cpu s", "peak MiB", "wall ratio", "cpu ratio")
			for _, c := range cs {
				m := med(c)
				rss := "-"
				if m.rss > 0 {
					rss = fmt.Sprint(m.rss >> 20)
				}
				fmt.Fprintf(out, "%-13s %9.3f %12.0f %9.3f %9s %12.2f %10.2f\n", c.name, m.wall.Seconds(), float64(packets)/m.wall.Seconds(),
					m.cpu.Seconds(), rss, m.wall.Seconds()/ref.wall.Seconds(), m.cpu.Seconds()/ref.cpu.Seconds())
			}
			for _, c := range cs {
				m := med(c)
				if m.notes != "" {
					fmt.Fprintf(out, "%s:\n%s", c.name, m.notes)
				}
				if m.flows > 0 {
					fmt.Fprintf(out, "%s: %d distinct 5-tuples\n", c.name, m.flows)
				}
				if m.datagrams > 0 {
					fmt.Fprintf(out, "%s: %d NetFlow v9 datagrams received\n", c.name, m.datagrams)
				}
			}
			return nil
		},
	}
	c.Flags().IntVar(&nRuns, "runs", 3, "runs of each contender")
	c.Flags().StringVar(&base, "base", "", "another vpcflow binary to time the same way")
	c.Flags().StringVar(&only, "only", "", "run one in-process baseline (gopacket+map or pcapgo-read) and print its counts: how the timing run starts its children")
	c.Flags().MarkHidden("only")
	c.Flags().StringVar(&args, "args", "", "more flags for both vpcflow runs (split at spaces), such as --local-cidr 10.0.1.10/32")
	return c
}

// softflowdRun is the softflowd contender: it reads the file and exports
// NetFlow v9 to a UDP socket this process drains, so the export costs what
// it costs on a real collector link and nothing leaves the machine. The
// flow-count bound is lifted (softflowd's default of 8192 would expire
// flows early and do less work than the others). It gets no control
// socket: softflowd 1.1.0 reading a file never reaches the file when the
// socket's path is longer than a dozen characters, and nothing here
// controls it.
func softflowdRun(bin, file, tmp string) (run func() (benchPcapRun, error), stop func(), err error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, nil, fmt.Errorf("softflowd: a collector socket: %v", err)
	}
	// A burst at the end of the file (every flow expires) would overflow
	// the default socket buffer; the count is then only what arrived.
	conn.SetReadBuffer(16 << 20)
	var datagrams atomic.Uint64
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := conn.ReadFromUDP(buf); err != nil {
				return
			}
			datagrams.Add(1)
		}
	}()
	run = func() (benchPcapRun, error) {
		before := datagrams.Load()
		r, stderr, err := benchChild(bin, "-d", "-r", file, "-n", conn.LocalAddr().String(), "-v", "9", "-6",
			"-m", "100000000", "-p", filepath.Join(tmp, "softflowd.pid"), "-c", "none")
		if err != nil {
			return r, fmt.Errorf("softflowd: %v\n%s", err, stderr)
		}
		// The last datagrams may still be in the socket's buffer.
		time.Sleep(100 * time.Millisecond)
		r.datagrams = datagrams.Load() - before
		return r, nil
	}
	return run, func() { conn.Close() }, nil
}

// benchChild runs a command and returns its wall time, CPU time and peak
// RSS, and its standard error.
func benchChild(bin string, args ...string) (benchPcapRun, string, error) {
	c := exec.Command(bin, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	r, err := benchWait(c)
	return r, stderr.String(), err
}

// benchWait runs c and measures it.
func benchWait(c *exec.Cmd) (benchPcapRun, error) {
	t0 := time.Now()
	err := c.Run()
	r := benchPcapRun{wall: time.Since(t0)}
	if c.ProcessState != nil {
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.rss = ru.Maxrss << 10 // kilobytes on Linux
		}
	}
	return r, err
}

// benchInProcess reads the file with pcapgo, and with aggregate also
// decodes every frame with DecodingLayerParser and counts it in a Go map
// keyed by the 5-tuple.
func benchInProcess(file string, aggregate bool) (benchPcapRun, error) {
	t0, c0 := time.Now(), benchCPU()
	f, err := os.Open(file)
	if err != nil {
		return benchPcapRun{}, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return benchPcapRun{}, fmt.Errorf("pcapgo: %v", err)
	}
	type key struct {
		src, dst     netip.Addr
		sport, dport uint16
		proto        uint8
	}
	type val struct {
		packets, bytes uint64
		start, end     int64
	}
	var m map[key]*val
	p := gopacketbase.New()
	if aggregate {
		m = map[key]*val{}
	}
	var n uint64
	var sum byte
	var t gopacketbase.Tuple
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return benchPcapRun{}, fmt.Errorf("pcapgo: %v", err)
		}
		n++
		if !aggregate {
			if len(data) > 0 {
				sum += data[0]
			}
			continue
		}
		if !p.Decode(data, &t) {
			continue
		}
		k := key{t.Src, t.Dst, t.SrcPort, t.DstPort, t.Proto}
		v := m[k]
		if v == nil {
			v = &val{start: ci.Timestamp.Unix()}
			m[k] = v
		}
		v.packets++
		v.bytes += uint64(t.IPLen)
		v.end = ci.Timestamp.Unix()
	}
	_ = sum
	return benchPcapRun{wall: time.Since(t0), cpu: benchCPU() - c0, packets: n, flows: uint64(len(m))}, nil
}
