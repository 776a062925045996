package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/packet"
)

// genReadCapture reads a generated file back: frames, captured and wire sizes.
func genReadCapture(t *testing.T, path string) (n int, maxCaptured, maxWire int, macs map[[6]byte]bool) {
	t.Helper()
	r, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	macs = map[[6]byte]bool{}
	var p packet.Packet
	for {
		f, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if reason := packet.Decode(f.LinkType, f.Data, &p); reason != packet.OK {
			t.Fatalf("frame %d: %v", n, reason)
		}
		n++
		maxCaptured = max(maxCaptured, len(f.Data))
		maxWire = max(maxWire, f.WireLen)
		macs[p.SrcMAC] = true
	}
}

func TestGenPcapCLI(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap"), filepath.Join(dir, "c.pcap")
	out, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "3000", "--flows", "100", "--seed", "5", "--out", a)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(out, "wrote "+a+": 3000 packets, ") || !strings.Contains(out, "100 conversations (tcp ") ||
		!strings.Contains(out, "2026-01-01T00:00:00Z to 2026-01-01T00:0") {
		t.Fatalf("summary %q", out)
	}
	runBinary(t, nil, "gen", "pcap", "--packets", "3000", "--flows", "100", "--seed", "5", "--out", b)
	runBinary(t, nil, "gen", "pcap", "--packets", "3000", "--flows", "100", "--seed", "6", "--out", c)
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	dc, _ := os.ReadFile(c)
	if !bytes.Equal(da, db) || bytes.Equal(da, dc) {
		t.Fatal("same seed must give the same bytes, another seed other bytes")
	}
	if st, _ := os.Stat(a); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", st.Mode())
	}
	n, _, _, macs := genReadCapture(t, a)
	if n != 3000 || !macs[[6]byte{2, 0, 0, 0, 0, 1}] || !macs[[6]byte{2, 0, 0, 0, 0, 0xfe}] || len(macs) != 2 {
		t.Fatalf("%d frames, source MACs %v", n, macs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestGenPcapSnapLenAndTopology(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "2000", "--flows", "20", "--snaplen", "96", "--out", path); code != 0 {
		t.Fatal(stderr)
	}
	if n, maxCap, maxWire, _ := genReadCapture(t, path); n != 2000 || maxCap != 96 || maxWire <= 96 {
		t.Fatalf("%d frames, largest captured %d, largest wire %d", n, maxCap, maxWire)
	}

	topo := filepath.Join(dir, "topo.yaml")
	os.WriteFile(topo, []byte(`AccountId: "123456789012"
Region: us-east-1
Vpcs:
  - VpcId: vpc-1
    CidrBlock: 10.9.0.0/16
Subnets:
  - SubnetId: subnet-1
    VpcId: vpc-1
    CidrBlock: 10.9.1.0/24
NetworkInterfaces:
  - NetworkInterfaceId: eni-1
    SubnetId: subnet-1
    VpcId: vpc-1
    MacAddress: 0a:00:00:00:00:01
    PrivateIpAddress: 10.9.1.10
  - NetworkInterfaceId: eni-2
    SubnetId: subnet-1
    VpcId: vpc-1
    MacAddress: 0a:00:00:00:00:02
    PrivateIpAddress: 10.9.1.20
`), 0o644)
	path = filepath.Join(dir, "topo.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--topology", topo, "--packets", "5000", "--flows", "200", "--out", path); code != 0 {
		t.Fatal(stderr)
	}
	_, _, _, macs := genReadCapture(t, path)
	for _, m := range [][6]byte{{0x0a, 0, 0, 0, 0, 1}, {0x0a, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 0xfe}} {
		if !macs[m] {
			t.Fatalf("no frame from %x: %v", m, macs)
		}
	}
}

// TestGenPcapStdout: --out - gives the same bytes as a file, and keeps the
// summary off standard output.
func TestGenPcapStdout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.pcap")
	runBinary(t, nil, "gen", "pcap", "--packets", "500", "--flows", "30", "--out", path)
	out, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "500", "--flows", "30", "--out", "-")
	file, _ := os.ReadFile(path)
	if code != 0 || out != string(file) || !strings.HasPrefix(stderr, "wrote <stdout>: 500 packets") {
		t.Fatalf("exit %d, %d bytes on stdout (file %d), stderr %q", code, len(out), len(file), stderr)
	}
}

func TestGenPcapErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.pcap")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"gen", "pcap"}, 2, "--out is required"},
		{[]string{"gen", "pcap", "--out", out, "--packets", "5", "--flows", "10"}, 2, "--packets (5) must be at least --flows (10)"},
		{[]string{"gen", "pcap", "--out", out, "--flows", "0"}, 2, "--flows must be at least 1"},
		{[]string{"gen", "pcap", "--out", out, "--start", "yesterday"}, 2, "--start: want RFC 3339"},
		{[]string{"gen", "pcap", "--out", out, "--snaplen", "10"}, 2, "--snaplen must be 0"},
		{[]string{"gen", "pcap", "--out", out, "--duration", "0s"}, 2, "--duration must be positive"},
		{[]string{"gen", "pcap", "--out", out, "--packets", "ten"}, 2, "invalid argument"},
		{[]string{"gen", "pcap", "--out", filepath.Join(dir, "no", "such", "dir.pcap")}, 1, "no such file or directory"},
		// a directory is refused before any packet is made (it failed after
		// generating, renaming the finished file over the directory)
		{[]string{"gen", "pcap", "--out", dir, "--packets", "2000000", "--flows", "10"}, 2, "--out \"" + dir + "\" is a directory: name the capture file, e.g. " + filepath.Join(dir, "demo.pcap")},
		{[]string{"gen", "pcap", "--out", out, "--topology", filepath.Join(dir, "missing.yaml")}, 1, "missing.yaml"},
	}
	for _, c := range cases {
		_, stderr, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a failed run left an output file")
	}
}

// TestGenPcapFifo: a named pipe as --out is written to, not replaced by a
// regular file renamed over it (nor is a device such as /dev/null).
func TestGenPcapFifo(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes:", err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	out, stderr, code := runBinary(t, nil, "gen", "pcap", "--packets", "500", "--flows", "30", "--out", fifo)
	if code != 0 || !strings.HasPrefix(out, "wrote "+fifo+": 500 packets") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	want, _, _ := runBinary(t, nil, "gen", "pcap", "--packets", "500", "--flows", "30", "--out", "-")
	select {
	case b := <-got:
		if string(b) != want {
			t.Fatalf("read %d bytes from the pipe, want the %d of --out -", len(b), len(want))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came through the pipe")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("the pipe was replaced: %v %v", st.Mode(), err)
	}
}

func TestGenHelp(t *testing.T) {
	out, _, code := runBinary(t, nil, "gen", "pcap", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--snaplen") || !strings.Contains(out, "Address plan") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// TestGenPcapTopologyStories generates captures of the example topology (the
// demo's settings, and two other seeds), turns them into flow-log records
// with the same topology, and checks that every record tells a story the
// network allows: no 5-tuple is both ACCEPT and REJECT at the same
// interface, and no REJECTed request has a reply record anywhere. A request
// is a record from an ephemeral port (32768 and up, where the generator's
// clients are) to a server port, or an ICMP record: who pings whom is fixed
// per pair of hosts, and in this topology no rule drops an echo reply whose
// request passed (the only ACL with deny rules, the db subnet's, drops
// ICMP both ways, and the db's security group sends nothing).
func TestGenPcapTopologyStories(t *testing.T) {
	dir := t.TempDir()
	for _, seed := range []string{"7", "2", "3"} {
		path := filepath.Join(dir, "gen"+seed+".pcap")
		out, stderr, code := runBinary(t, nil, "gen", "pcap", "--topology", "../../examples/topology.yaml",
			"--packets", "20000", "--flows", "600", "--seed", seed, "--out", path)
		if code != 0 {
			t.Fatalf("gen: exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "the topology's rules refuse ") {
			t.Fatalf("gen summary %q says nothing of refused conversations", out)
		}
		recs, stderr, code := runBinary(t, nil, "pcap", "--stdout", "--topology", "../../examples/topology.yaml", path)
		if code != 0 {
			t.Fatalf("pcap: exit %d: %s", code, stderr)
		}
		type tuple struct{ src, dst, sport, dport, proto string }
		actions := map[string]map[string]bool{} // interface and tuple → actions
		present := map[tuple]bool{}
		var rejected []tuple
		n := 0
		for _, line := range strings.Split(strings.TrimSpace(recs), "\n") {
			f := strings.Fields(line)
			if len(f) != 14 || f[13] != "OK" {
				continue // NODATA
			}
			n++
			tu := tuple{f[3], f[4], f[5], f[6], f[7]}
			key := f[2] + " " + strings.Join(f[3:8], " ")
			if actions[key] == nil {
				actions[key] = map[string]bool{}
			}
			actions[key][f[12]] = true
			present[tu] = true
			sport, _ := strconv.Atoi(tu.sport)
			dport, _ := strconv.Atoi(tu.dport)
			icmp := tu.proto == "1" || tu.proto == "58"
			if f[12] == "REJECT" && (icmp || sport >= 32768 && dport < 32768) {
				rejected = append(rejected, tu)
			}
		}
		if n < 100 || len(rejected) == 0 {
			t.Fatalf("seed %s: %d records, %d rejected requests: too few to tell", seed, n, len(rejected))
		}
		for key, acts := range actions {
			if acts["ACCEPT"] && acts["REJECT"] {
				t.Errorf("seed %s: %s is both ACCEPT and REJECT", seed, key)
			}
		}
		for _, r := range rejected {
			if reply := (tuple{r.dst, r.src, r.dport, r.sport, r.proto}); present[reply] {
				t.Errorf("seed %s: the request %v was rejected, yet its reply has a record", seed, r)
			}
		}
	}
}
