package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/lab"
)

// TestServeLabFlood (opt-in: VPCFLOW_LAB_FLOOD=1, about 20 s) floods UDP
// datagrams from one instance of lab/testdata/agree.yaml to another of its
// subnet (allowed by their groups) for a bounded time: first in a lab that
// `lab up` built, nothing capturing (the baseline rate the kernel forwards
// at on this host), then under serve --lab, which captures both ports
// (every datagram is two frames). It reports the send rate under capture
// as a ratio of the baseline, the frames serve captured per second and per
// core of its CPU time, and what the kernel dropped from the capture
// rings (those windows are SKIPDATA). Nothing is asserted about speed.
func TestServeLabFlood(t *testing.T) {
	if os.Getenv("VPCFLOW_LAB_FLOOD") != "1" {
		t.Skip("opt-in: VPCFLOW_LAB_FLOOD=1 floods a lab for about 20 s")
	}
	if err := lab.Check(); err != nil {
		t.Skipf("%v", err)
	}
	const dur = 8 * time.Second
	const a1, a2 = "eni-0d00000000000000a1", "eni-0d00000000000000a2"
	file := "../../lab/testdata/agree.yaml"

	// flood sends 64-byte datagrams from a1 to a2:9000 (drained there)
	// for dur and returns how many it sent.
	flood := func(id string) int64 {
		t.Helper()
		var rx net.PacketConn
		if err := lab.Do(lab.Namespace(id, a2), func() (err error) { rx, err = net.ListenPacket("udp", "10.4.1.11:9000"); return err }); err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		go func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := rx.ReadFrom(buf); err != nil {
					return
				}
			}
		}()
		var c net.Conn
		if err := lab.Do(lab.Namespace(id, a1), func() (err error) { c, err = net.Dial("udp", "10.4.1.11:9000"); return err }); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var sent atomic.Int64
		msg := make([]byte, 64)
		end := time.Now().Add(dur)
		for time.Now().Before(end) {
			for range 256 {
				if _, err := c.Write(msg); err == nil {
					sent.Add(1)
				}
			}
		}
		return sent.Load()
	}

	base := fmt.Sprintf("f%d", os.Getpid()%100000)
	t.Cleanup(func() { lab.Down(base, nil) })
	if out, errOut, code := runBinary(t, nil, "lab", "up", "--topology", file, "--lab-id", base, "--detach"); code != 0 {
		t.Fatalf("lab up: %d\n%s%s", code, out, errOut)
	}
	baseline := flood(base)
	if _, err := lab.Down(base, nil); err != nil {
		t.Fatal(err)
	}

	id := fmt.Sprintf("g%d", os.Getpid()%100000)
	t.Cleanup(func() { lab.Down(id, nil) })
	dir := t.TempDir()
	p := startServeEnv(t, nil, "--data-dir", filepath.Join(dir, "data"), "--topology", file, "--lab", "--lab-id", id)
	cpu0 := cpuSeconds(t, p.cmd.Process.Pid)
	m0 := captureMetrics(t, p)
	start := time.Now()
	sent := flood(id)
	time.Sleep(500 * time.Millisecond) // the rings drain
	elapsed := time.Since(start)
	cpu := cpuSeconds(t, p.cmd.Process.Pid) - cpu0
	m1 := captureMetrics(t, p)
	p.stop(t)
	frames, drops := m1[0]-m0[0], m1[1]-m0[1]
	t.Logf("flood of 64-byte UDP datagrams over a lab veth for %v: baseline (no capture) %.0f datagrams/s; "+
		"under serve --lab %.0f datagrams/s (%.2f x baseline); serve captured %.0f frames (%.0f frames/s, 2 per datagram), "+
		"%.2f CPU-seconds: %.0f frames/s per core; kernel drops %d (%.3f%% of the frames)",
		dur, float64(baseline)/dur.Seconds(), float64(sent)/dur.Seconds(), float64(sent)/float64(baseline),
		frames, frames/elapsed.Seconds(), cpu, frames/cpu, int64(drops), 100*drops/(frames+drops))
}

// cpuSeconds is the user and system time of process pid.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// captureMetrics sums serve's capture frames and kernel drops over its
// live interfaces.
func captureMetrics(t *testing.T, p *serveProc) [2]float64 {
	t.Helper()
	var out [2]float64
	sc := bufio.NewScanner(strings.NewReader(p.get(t, "/metrics")))
	for sc.Scan() {
		l := sc.Text()
		for i, name := range []string{"vpcflow_capture_frames_total{", "vpcflow_capture_kernel_drops_total{"} {
			if strings.HasPrefix(l, name) {
				f := strings.Fields(l)
				v, _ := strconv.ParseFloat(f[len(f)-1], 64)
				out[i] += v
			}
		}
	}
	return out
}
