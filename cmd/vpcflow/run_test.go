//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/netnstest"
)

const liveTopology = "../../pipeline/testdata/live.yaml"

// TestRunLive runs the real binary on one end of a veth pair between two
// namespaces (inside one of them, as `ip netns exec` runs it), sends
// datagrams and real pings across, and stops it with SIGTERM: the open
// window is closed and delivered, and the records count exactly what the
// veth counted.
func TestRunLive(t *testing.T) {
	pair := netnstest.NewPair(t, [2]string{"0a:00:00:00:00:0a", "0a:00:00:00:00:0b"}, [2]string{"10.9.0.10", "10.9.0.11"}, 24)
	ping, err := exec.LookPath("ping")
	if err != nil {
		t.Skip("needs iputils' ping (apt-get install iputils-ping)")
	}
	pair.ListenUDP(t, 0, 5000)
	const eniA = "eni-0a000000000000001"
	var stdout, stderr syncBuffer
	cmd := pair.Command(0, vpcflowBinary(t), "run", "--topology", liveTopology, "--interface", pair.End[0].Veth+"="+eniA,
		"--interval", "60", "--stdout", "--format", "${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${dstport} ${protocol} ${packets} ${bytes} ${action} ${log-status}")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "vpcflow run: capturing") {
		if time.Now().After(deadline) {
			t.Fatalf("no start line in 10 s: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := pair.Counters(t, 0)
	pair.SendUDP(t, 1, 40000, 5000, 20, 100)
	if out, err := pair.Command(0, ping, "-c", "3", "-i", "0.2", "-q", "10.9.0.11").CombinedOutput(); err != nil {
		t.Fatalf("ping: %v: %s", err, out)
	}
	got := pair.Counters(t, 0).Sub(before)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("vpcflow run: %v\n%s", err, stderr.String())
	}
	sums := map[string][2]int{}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		f := strings.Fields(l)
		if len(f) != 10 {
			t.Fatalf("record %q", l)
		}
		p, _ := strconv.Atoi(f[6])
		b, _ := strconv.Atoi(f[7])
		k := strings.Join(append(append(f[:6:6], f[8]), f[9]), " ")
		sums[k] = [2]int{sums[k][0] + p, sums[k][1] + b}
	}
	// Pinned to a: its records only. A datagram of 100 bytes is 128 at the
	// IP layer, ping's echo of 56 bytes 84.
	want := map[string][2]int{
		eniA + " ingress 10.9.0.11 10.9.0.10 5000 17 ACCEPT OK": {20, 2560},
		eniA + " egress 10.9.0.10 10.9.0.11 0 1 ACCEPT OK":      {3, 252},
		eniA + " ingress 10.9.0.11 10.9.0.10 0 1 ACCEPT OK":     {3, 252},
	}
	if fmt.Sprint(sums) != fmt.Sprint(want) {
		t.Errorf("records %v\nwant %v\nstdout:\n%s", sums, want, stdout.String())
	}
	frames := got.RxPackets + got.TxPackets
	if frames != 26 || got.RxBytes+got.TxBytes-14*frames != 2560+252+252 {
		t.Errorf("veth counted %+v; want the 26 frames of the records", got)
	}
	wantLine := fmt.Sprintf("  capture %s: 26 frames (%s bytes), 0 dropped by the kernel", pair.End[0].Veth, grouped(got.RxBytes+got.TxBytes))
	if !strings.Contains(stderr.String(), wantLine) {
		t.Errorf("summary without %q:\n%s", wantLine, stderr.String())
	}
}

// TestRunErrors: what `vpcflow run` says when it cannot capture.
func TestRunErrors(t *testing.T) {
	bin := vpcflowBinary(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no interface", []string{"run", "--stdout"}, 2, "--interface: name at least one interface"},
		{"unknown interface", []string{"run", "--stdout", "--interface", "no-such-if0"}, 1, `live capture: no interface "no-such-if0" (interfaces here: `},
		{"ENI not declared", []string{"run", "--stdout", "--topology", liveTopology, "--interface", "lo=eni-0ffffffffffffffff"}, 1, "input lo: ENI eni-0ffffffffffffffff is not in the topology"},
		{"bad pin", []string{"run", "--stdout", "--interface", "lo=a b"}, 2, `--interface "lo=a b": want IF or IF=eni-ID`},
		{"bad snaplen", []string{"run", "--stdout", "--interface", "lo", "--snaplen", "10"}, 2, "live capture on lo: SnapLen: want 64 to 262144 bytes, got 10"},
		{"bad filter", []string{"run", "--stdout", "--interface", "lo", "--bpf", writeFile(t, "1\n6 0 0\n")}, 2, "line 2: want an instruction as 4 numbers"},
	} {
		_, errOut, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, errOut, c.code, c.want)
		}
	}
	if os.Geteuid() != 0 {
		return
	}
	// As an unprivileged user: the missing permission is named.
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--stdout", "--interface", "lo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "live capture on lo needs root or CAP_NET_RAW") {
		t.Errorf("as nobody: %v: %s", err, out)
	}
}

func writeFile(t *testing.T, text string) string {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
