package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/region"
)

// liveFlags are the flags of live capture, shared by `vpcflow run` and
// `vpcflow serve`.
type liveFlags struct {
	interfaces   []string
	bpf          string
	snapLen      int
	readers      int
	blockTimeout time.Duration
}

const liveFlagsHelp = `Interfaces (--interface IF[=ENI], repeat or comma-separate):
  IF          frames are attributed by MAC, then by IP address, to the
              declared ENIs, as in captures: one frame can give an egress
              record on its sender and an ingress record on its receiver
  IF=eni-ID   every frame of IF belongs to that ENI alone: egress when it
              comes from the ENI's addresses (else from its or IF's MAC),
              ingress otherwise; use it when IF's MAC is not the ENI's, and
              when several captured interfaces see the same frames

Live capture uses AF_PACKET sockets: Linux, and root or CAP_NET_RAW
(sudo setcap cap_net_raw+ep ./vpcflow). Windows close on the wall clock a
grace after their end (twice --block-timeout: the kernel hands frames over
a ring block at a time). Frames the kernel drops because a ring is full are
counted (summary, vpcflow_capture_kernel_drops_total) and the affected
windows get SKIPDATA records, as AWS writes when it could not capture
everything. --bpf takes a compiled classic BPF program, as printed by
'tcpdump -ddd EXPR' (vpcflow compiles no filter expressions itself).`

func addLiveFlags(c *cobra.Command, f *liveFlags) {
	d := live.DefaultConfiguration()
	fl := c.Flags()
	fl.StringSliceVar(&f.interfaces, "interface", nil, "live interface to capture, IF or IF=eni-ID (repeat or comma-separate)")
	fl.StringVar(&f.bpf, "bpf", "", "file with a classic BPF program for the kernel to keep frames by, as printed by tcpdump -ddd EXPR")
	fl.IntVar(&f.snapLen, "snaplen", d.SnapLen, "bytes kept of each frame (flow logs need the headers only)")
	fl.IntVar(&f.readers, "readers", d.Readers, "sockets per interface in a PACKET_FANOUT group, one reader goroutine each")
	fl.DurationVar(&f.blockTimeout, "block-timeout", d.BlockTimeout, "how long the kernel fills a ring block before handing it over; windows close twice that after their end")
}

// liveInterfaces turns the live flags into the interfaces to capture.
func liveInterfaces(f *liveFlags) ([]region.LiveInterface, error) {
	cfg, err := liveBase(f)
	if err != nil {
		return nil, err
	}
	var out []region.LiveInterface
	seen := map[string]bool{}
	for _, s := range f.interfaces {
		name, eni, pinned := strings.Cut(s, "=")
		if name == "" || pinned && !isToken(eni) {
			return nil, usageErrorf("--interface %q: want IF or IF=eni-ID", s)
		}
		if seen[name] {
			return nil, usageErrorf("--interface %s given twice", name)
		}
		seen[name] = true
		c := cfg
		c.Interface = name
		if err := c.Validate(); err != nil {
			return nil, usageErrorf("%v", err)
		}
		out = append(out, region.LiveInterface{Capture: c, ENI: eni})
	}
	return out, nil
}

// liveBase is the capture configuration of the live flags, less the
// interface.
func liveBase(f *liveFlags) (live.Configuration, error) {
	cfg := live.DefaultConfiguration()
	cfg.SnapLen, cfg.Readers = f.snapLen, f.readers
	cfg.BlockTimeout = f.blockTimeout
	if f.bpf != "" {
		text, err := os.ReadFile(f.bpf)
		if err != nil {
			return cfg, usageErrorf("--bpf: %v", err)
		}
		if cfg.Filter, err = live.ParseFilter(string(text)); err != nil {
			return cfg, usageErrorf("--bpf %s: %v", f.bpf, err)
		}
	}
	return cfg, nil
}

// printCapture prints the counters of each live interface.
func printCapture(w io.Writer, stats []live.Stats) {
	for _, c := range stats {
		fmt.Fprintf(w, "  capture %s: %s frames (%s bytes), %s dropped by the kernel (ring full %s times)\n", c.Interface,
			grouped(c.Frames), grouped(c.Bytes), grouped(c.KernelDrops), grouped(c.QueueFreezes))
	}
}
