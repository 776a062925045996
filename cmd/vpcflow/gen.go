package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/sim"
)

func init() { register(newGenCmd) }

func newGenCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "gen",
		Short: "Generate synthetic inputs (captures) for tests, benchmarks and demos",
	}
	c.AddCommand(newGenPcapCmd())
	return c
}

func newGenPcapCmd() *cobra.Command {
	var (
		packets  int64
		flows    int
		seed     uint64
		out      string
		duration time.Duration
		start    string
		snapLen  int
		topoPath string
		scenario []string
		rate     float64
		truth    string
	)
	c := &cobra.Command{
		Use:   "pcap --out FILE [--packets N] [--flows F] [--seed S] [--topology FILE] | --scenario NAME[,NAME...] --topology FILE",
		Short: "Write a deterministic synthetic capture of VPC-like traffic",
		Long: `gen pcap writes a pcap file (Ethernet, nanosecond timestamps) of synthetic
VPC-like traffic: TCP connections (handshake, request, data, FIN or RST),
DNS queries to the Amazon resolver, other UDP, NTP to the Amazon Time Sync
service (traffic AWS never logs), UDP datagrams larger than the MTU sent as
two IP fragments (IPv4, and IPv6 Fragment headers), and ICMP echo, over IPv4
and IPv6.

Conversations get a skewed (Zipf-like) share of the packets: a few are large
and run across several capture windows, most are a handful of packets. Each
TCP conversation gives two flow-log records per window (one per direction).
The same flags and seed give a byte-identical file on every machine.

Address plan: one instance, eni MAC 02:00:00:00:00:01, 10.0.1.10 and
2600:1f18:7a3:f401::10 in a 10.0.0.0/16 VPC, behind the VPC router
(MAC 02:00:00:00:00:fe); peers are other VPC hosts (10.0.0.0/16), the Amazon
DNS resolver (10.0.0.2, fd00:ec2::253), 169.254.169.123, and internet hosts in
the documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32).

With --topology, the monitored interfaces are the topology's ENIs that have a
MAC and a private IPv4 address (and their first IPv6 address, if any); a quarter
of the conversations then run between two of them (frames MAC to MAC), the rest
go to peers in the ENI's VPC, its resolver (VPC base + 2) and the internet.
The security groups and network ACLs of the topology decide what happens, so
every conversation is one the network allows: a request they drop gets no
reply, and its client tries twice more (a TCP SYN retransmitted after 1 s,
then 2 s more; UDP requests alike) and gives up; when the request passes but
the replies are dropped, each try gets its reply, which the network drops.
One-way UDP and pings keep sending. The packets a refused conversation does
not send go to the next open conversation of its kind (or, at the end, to one
under way), so --packets and the mix of kinds hold. Who pings whom depends on the two
addresses only: ICMP records have no ports to tell two pings apart.

With --scenario, the capture is instead the scripted traffic of named
scenarios over the topology's interfaces (docs/scenarios.md counts the
records each gives): ` + sim.ScenarioNames() + `.
Each finds its hosts by the names of their security groups (web, app, db,
bastion, cache; examples/scenarios.yaml is made for them), starts its
conversations on a fixed cadence over --duration (default 10m with
--scenario), --scenario-rate times as often, and is judged by the
topology's rules like the rest. Several scenarios run together on one
timeline. --packets and --flows do not apply. --truth FILE writes the
detections the run should give rise to (SSH brute force, port scan and
sweep, exfiltration: actor, target, interface, port, count, first and last
start) as JSON, the ground truth to score detectors on.

Generation streams to disk; memory grows with the conversations open at once,
not with the packets. The file is written atomically (temporary file, then
rename).`,
		Example: `  # a small demo capture
  vpcflow gen pcap --out demo.pcap

  # the benchmark input: 5 million packets, 200 000 conversations, headers
  # only (0.6 GB instead of 2.8 GB)
  vpcflow gen pcap --packets 5000000 --flows 200000 --seed 1 --snaplen 128 --out big.pcap

  # straight into another tool
  vpcflow gen pcap --packets 1000 --out - | tshark -r - -c 5

  # traffic of the example topology's ENIs
  vpcflow gen pcap --topology examples/topology.yaml --out topo.pcap

  # spread conversation starts over 30 minutes from a given instant
  vpcflow gen pcap --duration 30m --start 2026-03-01T12:00:00Z --out day.pcap

  # an SSH brute force and a port scan over the scenarios' example network
  vpcflow gen pcap --topology examples/scenarios.yaml --scenario ssh-brute-force,port-scan --out attack.pcap`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageErrorf("--out is required\nRun 'vpcflow gen pcap --help' for usage.")
			}
			if out != "-" {
				if st, err := os.Stat(out); err == nil && st.IsDir() {
					return usageErrorf("--out %q is a directory: name the capture file, e.g. %s", out, filepath.Join(out, "demo.pcap"))
				}
			}
			if len(scenario) > 0 {
				if cmd.Flags().Changed("packets") || cmd.Flags().Changed("flows") {
					return usageErrorf("--packets and --flows do not apply to --scenario: a scenario's script sets its traffic (--duration and --scenario-rate scale it)")
				}
				if topoPath == "" {
					return usageErrorf("--scenario needs --topology: scenarios run over a topology's interfaces (examples/scenarios.yaml is made for them)")
				}
				if err := checkScenarioFlags(scenario, rate); err != nil {
					return err
				}
				if snapLen != 0 && snapLen < 64 {
					return usageErrorf("--snaplen must be 0 (whole frames) or at least 64, got %d", snapLen)
				}
				cfg := sim.ScenarioConfig{Names: scenario, Seed: seed, SnapLen: snapLen, Rate: rate}
				if cmd.Flags().Changed("duration") {
					if duration < time.Second {
						return usageErrorf("--duration of scenarios must be at least 1s, got %v", duration)
					}
					cfg.Duration = duration
				}
				if start != "" {
					t, err := time.Parse(time.RFC3339, start)
					if err != nil {
						return usageErrorf("--start: want RFC 3339 (2026-01-01T00:00:00Z): %v", err)
					}
					cfg.Start = t
				}
				return genScenario(cmd, cfg, topoPath, out, truth)
			}
			for _, name := range []string{"scenario-rate", "truth"} {
				if cmd.Flags().Changed(name) {
					return usageErrorf("--%s applies only with --scenario", name)
				}
			}
			if flows < 1 {
				return usageErrorf("--flows must be at least 1, got %d", flows)
			}
			if packets < int64(flows) {
				return usageErrorf("--packets (%d) must be at least --flows (%d): every conversation has a packet", packets, flows)
			}
			if duration <= 0 {
				return usageErrorf("--duration must be positive, got %v", duration)
			}
			if snapLen != 0 && snapLen < 64 {
				return usageErrorf("--snaplen must be 0 (whole frames) or at least 64, got %d", snapLen)
			}
			cfg := sim.Config{Packets: packets, Flows: flows, Seed: seed, Duration: duration, SnapLen: snapLen}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return usageErrorf("--start: want RFC 3339 (2026-01-01T00:00:00Z): %v", err)
				}
				cfg.Start = t
			}
			if topoPath != "" {
				eps, err := genEndpoints(topoPath)
				if err != nil {
					return err
				}
				cfg.Endpoints = eps
			}
			return genPcap(cmd, out, genRun{
				total: cfg.Packets,
				generate: func(w *capture.Writer, progress func(int64)) (sim.Stats, error) {
					return sim.Generate(cfg, w, progress)
				},
				summary: func(w io.Writer, out string, st sim.Stats, el time.Duration) { genSummary(w, out, st, cfg, el) },
			})
		},
	}
	f := c.Flags()
	f.Int64Var(&packets, "packets", 10000, "total number of packets")
	f.IntVar(&flows, "flows", 500, "number of conversations (TCP connections, UDP exchanges, pings)")
	f.Uint64Var(&seed, "seed", 1, "random seed; the same seed gives the same file")
	f.StringVar(&out, "out", "", "output pcap file (required); - writes to standard output and the summary to standard error")
	f.DurationVar(&duration, "duration", 5*time.Minute, "span over which conversations start")
	f.IntVar(&snapLen, "snaplen", 0, "cut frames to this many bytes in the file (wire length kept; 0: whole frames)")
	f.StringVar(&topoPath, "topology", "", "topology file: its ENIs (with a MAC and a private IPv4) are the monitored interfaces")
	f.StringVar(&start, "start", "", "time of the capture start, RFC 3339 (default "+sim.DefaultStart.Format(time.RFC3339)+")")
	f.StringSliceVar(&scenario, "scenario", nil, "named scenarios to script instead of the random mix (repeat or comma-separate): "+sim.ScenarioNames())
	f.Float64Var(&rate, "scenario-rate", 1, "with --scenario: start conversations this many times as often as the scenarios' scripts say")
	f.StringVar(&truth, "truth", "", "with --scenario: write the detections the run should give rise to (JSON) to this file")
	return c
}

// genScenario writes the capture of named scenarios over a topology and,
// when truth is set, the detections it should give rise to.
func genScenario(cmd *cobra.Command, cfg sim.ScenarioConfig, topoPath, out, truth string) error {
	t, _, err := flowlog.Load(topoPath)
	if err != nil {
		return err
	}
	cfg.Topology = t
	sc, err := sim.NewScenario(cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", topoPath, err)
	}
	if truth != "" {
		b, err := json.MarshalIndent(sc.Detections(), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(truth, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return genPcap(cmd, out, genRun{
		generate: sc.Generate,
		summary: func(w io.Writer, out string, st sim.Stats, el time.Duration) {
			c := sc.Config()
			rate := ""
			if c.Rate != 1 {
				rate = fmt.Sprintf(" at rate %v", c.Rate)
			}
			fmt.Fprintf(w, "wrote %s: %d packets, %d IP bytes, %d conversations of %s over %v%s (tcp %d, udp %d; the topology's rules refuse %d, drop the replies of %d), %s to %s, in %.1fs\n",
				out, st.Packets, st.IPBytes, st.Flows, strings.Join(sc.Names(), ", "), c.Duration, rate, st.TCP, st.UDP, st.Refused, st.Unanswered,
				st.First.Format(time.RFC3339Nano), st.Last.Format(time.RFC3339Nano), el.Seconds())
		},
	})
}

// checkScenarioFlags checks --scenario's names and --scenario-rate.
func checkScenarioFlags(names []string, rate float64) error {
	if err := sim.CheckScenarioNames(names); err != nil {
		return usageErrorf("--scenario: %v", err)
	}
	if !(rate > 0 && rate <= sim.MaxScenarioRate) {
		return usageErrorf("--scenario-rate %v: want more than 0 and at most %d", rate, sim.MaxScenarioRate)
	}
	return nil
}

// genRun is what genPcap writes: a generator, the packets it will write
// (0: unknown) and its summary line.
type genRun struct {
	generate func(w *capture.Writer, progress func(int64)) (sim.Stats, error)
	total    int64
	summary  func(w io.Writer, out string, st sim.Stats, el time.Duration)
}

// genEndpoints turns a topology's ENIs into the generator's endpoints.
func genEndpoints(path string) ([]sim.Endpoint, error) {
	t, _, err := flowlog.Load(path)
	if err != nil {
		return nil, err
	}
	return sim.EndpointsFromTopology(t)
}

func genPcap(cmd *cobra.Command, out string, run genRun) error {
	if out == "-" {
		w, err := sim.NewWriter(cmd.OutOrStdout())
		if err != nil {
			return err
		}
		began := time.Now()
		st, err := run.generate(w, nil)
		if err != nil {
			return err
		}
		run.summary(cmd.ErrOrStderr(), "<stdout>", st, time.Since(began))
		return nil
	}
	if st, err := os.Stat(out); err == nil && !st.Mode().IsRegular() {
		// a device or a named pipe: write to it, never rename over it
		f, err := os.OpenFile(out, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		w, err := sim.NewWriter(f)
		if err != nil {
			f.Close()
			return err
		}
		began := time.Now()
		st, err := run.generate(w, nil)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", out, err)
		}
		run.summary(cmd.OutOrStdout(), out, st, time.Since(began))
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	w, err := sim.NewWriter(tmp)
	if err != nil {
		tmp.Close()
		return err
	}
	stderr := cmd.ErrOrStderr()
	began := time.Now()
	shown := false
	nextShow := began.Add(time.Second)
	progress := func(n int64) {
		if now := time.Now(); now.Before(nextShow) {
			return
		} else {
			nextShow = now.Add(time.Second)
		}
		shown = true
		if run.total > 0 {
			fmt.Fprintf(stderr, "\rgen pcap: %d/%d packets (%d%%)", n, run.total, n*100/run.total)
		} else {
			fmt.Fprintf(stderr, "\rgen pcap: %d packets", n)
		}
	}
	st, err := run.generate(w, progress)
	if shown {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	run.summary(cmd.OutOrStdout(), out, st, time.Since(began))
	return nil
}

func genSummary(w io.Writer, out string, st sim.Stats, cfg sim.Config, el time.Duration) {
	rules := ""
	if len(cfg.Endpoints) > 0 && cfg.Endpoints[0].Filter != nil {
		rules = fmt.Sprintf("; the topology's rules refuse %d, drop the replies of %d", st.Refused, st.Unanswered)
	}
	fmt.Fprintf(w, "wrote %s: %d packets, %d IP bytes, %d conversations (tcp %d, udp %d of which %d fragmented, icmp %d; ipv6 %d%s), %s to %s, in %.1fs\n",
		out, st.Packets, st.IPBytes, st.Flows, st.TCP, st.UDP, st.Fragmented, st.ICMP, st.IPv6, rules,
		st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339), el.Seconds())
}
