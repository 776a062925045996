package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const scenarioTopology = "../../examples/scenarios.yaml"

// The interfaces of examples/scenarios.yaml.
const (
	eniWeb     = "eni-0a00000000000000a"
	eniBastion = "eni-0b00000000000000b"
	eniNAT     = "eni-0c00000000000000c"
	eniApp     = "eni-0d00000000000000d"
	eniDB      = "eni-0e00000000000000e"
	eniCache   = "eni-0f00000000000000f"
)

// scenarioRecord is a record of the scenarios' flow log (its LogFormat in
// examples/scenarios.yaml).
type scenarioRecord struct {
	eni, src, dst       string
	srcPort, dstPort    int
	packets, bytes      int64
	start               int64
	action, status      string
	pktSrc, pktDst, dir string
	flags               string
}

func parseScenarioRecords(t *testing.T, text string) []scenarioRecord {
	t.Helper()
	var out []scenarioRecord
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) != 18 {
			t.Fatalf("record %q: %d fields, want the 18 of the scenarios' flow log", line, len(f))
		}
		if f[0] == "version" {
			continue // an object's header
		}
		num := func(s string) int64 {
			if s == "-" {
				return -1
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("record %q: %v", line, err)
			}
			return n
		}
		out = append(out, scenarioRecord{eni: f[2], src: f[3], dst: f[4], srcPort: int(num(f[5])), dstPort: int(num(f[6])),
			packets: num(f[8]), bytes: num(f[9]), start: num(f[10]), action: f[12], status: f[13],
			pktSrc: f[14], pktDst: f[15], dir: f[16], flags: f[17]})
	}
	return out
}

// servicePort is the port of a record's server side: of an ephemeral port
// (32768 and up, where every scenario client's port is) and a lower one,
// the lower.
func (r scenarioRecord) servicePort() int {
	switch {
	case r.srcPort >= 32768 && r.dstPort < 32768:
		return r.dstPort
	case r.dstPort >= 32768 && r.srcPort < 32768:
		return r.srcPort
	}
	return min(r.srcPort, r.dstPort)
}

// countKey is how docs/scenarios.md counts records: interface, service
// port, direction, action.
func countKey(eni string, port int, dir, action string) string {
	return fmt.Sprintf("%s %d %s %s", eni, port, dir, action)
}

// countRecords counts the OK records by countKey; it fails on SKIPDATA.
func countRecords(t *testing.T, recs []scenarioRecord) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range recs {
		switch r.status {
		case "OK":
			out[countKey(r.eni, r.servicePort(), r.dir, r.action)]++
		case "NODATA":
		default:
			t.Fatalf("record %+v", r)
		}
	}
	return out
}

// scenarioCounts are the records each scenario gives over its default 10
// minutes at rate 1, whatever the seed, worked out from the scripts as
// docs/scenarios.md does (every conversation starts and ends within one
// 60 s window, so a flow is one record): a TCP session or an answered
// query is two records on each monitored end, one each way; a refused
// connection one REJECT record on the interface that refused it (its
// three SYNs are one flow) and, between two interfaces, an ACCEPT on the
// sender's; a NAT gateway shows four records per connection.
func scenarioCounts() map[string]map[string]int {
	c := map[string]map[string]int{
		// 120 requests: client ↔ web on 443, web ↔ app on 8080, app ↔ db
		// on 5432
		"web-tier": {
			countKey(eniWeb, 443, "ingress", "ACCEPT"): 120, countKey(eniWeb, 443, "egress", "ACCEPT"): 120,
			countKey(eniWeb, 8080, "egress", "ACCEPT"): 120, countKey(eniWeb, 8080, "ingress", "ACCEPT"): 120,
			countKey(eniApp, 8080, "ingress", "ACCEPT"): 120, countKey(eniApp, 8080, "egress", "ACCEPT"): 120,
			countKey(eniApp, 5432, "egress", "ACCEPT"): 120, countKey(eniApp, 5432, "ingress", "ACCEPT"): 120,
			countKey(eniDB, 5432, "ingress", "ACCEPT"): 120, countKey(eniDB, 5432, "egress", "ACCEPT"): 120,
		},
		// 150 failed logins on the bastion (its group takes SSH from
		// anywhere), 60 attempts on the web server refused by its group
		"ssh-brute-force": {
			countKey(eniBastion, 22, "ingress", "ACCEPT"): 150, countKey(eniBastion, 22, "egress", "ACCEPT"): 150,
			countKey(eniWeb, 22, "ingress", "REJECT"): 60,
		},
		// 80 and 443 answer the scan (SYN and RST in, SYN-ACK out), the
		// other 998 ports are refused; the sweep's 60 SYNs leave the web
		// server, and the app's and the cache's groups refuse the two
		// that reach them
		"port-scan": {
			countKey(eniWeb, 80, "ingress", "ACCEPT"): 1, countKey(eniWeb, 80, "egress", "ACCEPT"): 1,
			countKey(eniWeb, 443, "ingress", "ACCEPT"): 1, countKey(eniWeb, 443, "egress", "ACCEPT"): 1,
			countKey(eniWeb, 22, "egress", "ACCEPT"):  60,
			countKey(eniApp, 22, "ingress", "REJECT"): 1, countKey(eniCache, 22, "ingress", "REJECT"): 1,
		},
		// 10 posts, and the upload over the 5 windows of minutes 5 to 9
		"exfiltration": {
			countKey(eniWeb, 443, "egress", "ACCEPT"): 10 + 5, countKey(eniWeb, 443, "ingress", "ACCEPT"): 10 + 5,
		},
		// 60 fetches
		"nat-egress": {
			countKey(eniApp, 443, "egress", "ACCEPT"): 60, countKey(eniApp, 443, "ingress", "ACCEPT"): 60,
			countKey(eniNAT, 443, "ingress", "ACCEPT"): 120, countKey(eniNAT, 443, "egress", "ACCEPT"): 120,
		},
		// the 240 queries to the VPC's resolver give nothing; 10 to
		// 192.0.2.53
		"dns": {
			countKey(eniWeb, 53, "egress", "ACCEPT"): 10, countKey(eniWeb, 53, "ingress", "ACCEPT"): 10,
		},
		// 120 connections refused by the cache's group
		"misconfigured-sg": {
			countKey(eniApp, 6379, "egress", "ACCEPT"): 120, countKey(eniCache, 6379, "ingress", "REJECT"): 120,
		},
	}
	for p := 1; p <= 1000; p++ {
		if p != 80 && p != 443 {
			c["port-scan"][countKey(eniWeb, p, "ingress", "REJECT")] = 1
		}
	}
	return c
}

// genScenarioRecords runs gen pcap --scenario and vpcflow pcap --stdout over
// the capture, and returns the capture's path and the records.
func genScenarioRecords(t *testing.T, dir string, args ...string) (string, []scenarioRecord) {
	t.Helper()
	path := filepath.Join(dir, "scenario.pcap")
	args = append([]string{"gen", "pcap", "--topology", scenarioTopology, "--snaplen", "96", "--out", path}, args...)
	if out, errOut, code := runBinary(t, nil, args...); code != 0 || !strings.HasPrefix(out, "wrote "+path+": ") {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
	}
	out, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--topology", scenarioTopology, "--stdout", path)
	if code != 0 {
		t.Fatalf("pcap: exit %d: %s", code, errOut)
	}
	return path, parseScenarioRecords(t, out)
}

// TestScenarioRecordCounts: each scenario, generated by the binary and
// converted by it, gives the records docs/scenarios.md counts, seed after
// seed; all of them together give the sum.
func TestScenarioRecordCounts(t *testing.T) {
	t.Parallel()
	want := scenarioCounts()
	names := []string{"web-tier", "ssh-brute-force", "port-scan", "exfiltration", "nat-egress", "dns", "misconfigured-sg"}
	sum := map[string]int{}
	for i, name := range names {
		for k, n := range want[name] {
			sum[k] += n
		}
		t.Run(name, func(t *testing.T) {
			_, recs := genScenarioRecords(t, t.TempDir(), "--scenario", name, "--seed", strconv.Itoa(i+11))
			checkCounts(t, countRecords(t, recs), want[name])
		})
	}
	t.Run("all", func(t *testing.T) {
		_, recs := genScenarioRecords(t, t.TempDir(), "--scenario", strings.Join(names, ","))
		checkCounts(t, countRecords(t, recs), sum)
	})
}

func checkCounts(t *testing.T, got, want map[string]int) {
	t.Helper()
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	bad := 0
	for _, k := range keys {
		if got[k] != want[k] {
			if bad++; bad <= 20 {
				t.Errorf("%s: %d records, want %d", k, got[k], want[k])
			}
		}
	}
}

// TestScenarioRecordFields looks into records the counts do not tell
// apart, with values worked out by hand from the scripts.
func TestScenarioRecordFields(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	truthFile := filepath.Join(dir, "truth.json")
	_, recs := genScenarioRecords(t, dir, "--scenario", "nat-egress,exfiltration,ssh-brute-force,misconfigured-sg", "--truth", truthFile)
	nat := map[string]int{}
	attempts := map[string]int64{} // SSH connection records from the attacker, by interface
	var upOut, upIn [2]int64       // packets, bytes of the upload, each way
	for _, r := range recs {
		switch {
		case r.status != "OK":
		case r.eni == eniNAT:
			// the four legs of every fetch, as AWS's NAT gateway example
			// shows them (docs/aws-behaviour.md)
			x := r.dst
			if r.dir == "ingress" {
				x = r.src
			}
			if r.src == "10.0.1.20" {
				x = r.pktDst
			} else if r.dst == "10.0.1.20" {
				x = r.pktSrc
			}
			form := strings.NewReplacer(x, "X").Replace(fmt.Sprintf("%s %s %s %s %s", r.dir, r.src, r.dst, r.pktSrc, r.pktDst))
			nat[form]++
			if x != "192.0.2.80" && x != "198.51.100.30" {
				t.Errorf("NAT gateway record to or from %s: %+v", x, r)
			}
		case r.eni == eniWeb && r.dst == "203.0.113.200":
			upOut[0] += r.packets
			upOut[1] += r.bytes
		case r.eni == eniWeb && r.src == "203.0.113.200":
			upIn[0] += r.packets
			upIn[1] += r.bytes
		case r.src == "198.51.100.77" && r.dstPort == 22:
			attempts[r.eni]++
			if r.eni == eniBastion && (r.flags != "3" || r.packets != 9) {
				t.Errorf("bastion record %+v", r)
			}
		case r.eni == eniBastion:
			// the attacker's side opens and closes (SYN|FIN), the
			// bastion's answers and closes (SYN-ACK|FIN); 9 and 10 packets
			if r.dir == "ingress" && (r.flags != "3" || r.packets != 9) || r.dir == "egress" && (r.flags != "19" || r.packets != 10) {
				t.Errorf("bastion record %+v", r)
			}
		case r.eni == eniCache:
			// three SYNs, 44 bytes each
			if r.action != "REJECT" || r.flags != "2" || r.packets != 3 || r.bytes != 3*44 {
				t.Errorf("cache record %+v", r)
			}
		}
	}
	wantNAT := map[string]int{
		"ingress 10.0.1.20 10.0.0.100 10.0.1.20 X": 60,
		"egress 10.0.0.100 X 10.0.0.100 X":         60,
		"ingress X 10.0.0.100 X 10.0.0.100":        60,
		"egress 10.0.0.100 10.0.1.20 X 10.0.1.20":  60,
	}
	checkCounts(t, nat, wantNAT)
	// out: SYN (44 bytes), ACK, 107 280 full segments (1500), FIN, ACK;
	// in: SYN-ACK, an ACK for every two segments, FIN
	if want := [2]int64{107284, 44 + 107280*1500 + 3*40}; upOut != want {
		t.Errorf("upload: %v packets and bytes out, want %v", upOut, want)
	}
	if want := [2]int64{1 + 53640 + 1, 44 + 53641*40}; upIn != want {
		t.Errorf("upload: %v packets and bytes in, want %v", upIn, want)
	}

	// the ground truth written beside the capture agrees with the records
	var truth []struct {
		Kind, Actor, Target, Interface string
		Port                           int
		Count                          int64
	}
	data, err := os.ReadFile(truthFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &truth); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range truth {
		got = append(got, fmt.Sprintf("%s %s->%s %s:%d %d", d.Kind, d.Actor, d.Target, d.Interface, d.Port, d.Count))
	}
	want := []string{
		fmt.Sprintf("ssh-brute-force 198.51.100.77->10.0.0.5 %s:22 %d", eniBastion, attempts[eniBastion]),
		fmt.Sprintf("ssh-brute-force 198.51.100.77->10.0.0.10 %s:22 %d", eniWeb, attempts[eniWeb]),
		fmt.Sprintf("exfiltration 10.0.0.10->203.0.113.200 %s:443 %d", eniWeb, upOut[1]),
	}
	if !slices.Equal(got, want) || attempts[eniBastion] != 150 || attempts[eniWeb] != 60 {
		t.Errorf("truth %q, want %q (150 and 60 attempts)", got, want)
	}
}

// TestScenarioCLIErrors: usage errors exit 2, a topology without what a
// scenario needs exits 1, each with the reason.
func TestScenarioCLIErrors(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "x.pcap")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"gen", "pcap", "--out", out, "--scenario", "dns"}, 2, "--scenario needs --topology"},
		{[]string{"gen", "pcap", "--out", out, "--topology", scenarioTopology, "--scenario", "ssh"}, 2, "did you mean ssh-brute-force?"},
		{[]string{"gen", "pcap", "--out", out, "--topology", scenarioTopology, "--scenario", "dns", "--packets", "10"}, 2, "--packets and --flows do not apply"},
		{[]string{"gen", "pcap", "--out", out, "--topology", scenarioTopology, "--scenario", "dns", "--scenario-rate", "0"}, 2, "--scenario-rate 0"},
		{[]string{"gen", "pcap", "--out", out, "--scenario-rate", "2"}, 2, "--scenario-rate applies only with --scenario"},
		{[]string{"gen", "pcap", "--out", out, "--truth", out + ".json"}, 2, "--truth applies only with --scenario"},
		{[]string{"gen", "pcap", "--out", out, "--topology", "../../examples/topology.yaml", "--scenario", "misconfigured-sg"}, 1, "security group is named cache"},
		{[]string{"serve", "--scenario", "dns", "--sim"}, 2, "--sim runs on the clock: give the scenarios a --speed"},
		{[]string{"serve", "--scenario-rate", "2"}, 2, "--scenario-rate applies only with --scenario"},
		{[]string{"serve", "--scenario", "dns,dns"}, 2, "dns named twice"},
	} {
		_, errOut, code := runBinary(t, nil, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run wrote its capture")
	}
}

// objectLines returns the record lines of every object under dir, header
// lines left out, sorted.
func objectLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, data := range tree(t, dir) {
		for _, l := range strings.Split(strings.TrimSuffix(gunzipText(t, data), "\n"), "\n") {
			if !strings.HasPrefix(l, "version ") {
				lines = append(lines, l)
			}
		}
	}
	slices.Sort(lines)
	return lines
}

// TestServeScenarioMatchesPcap: every scenario played by serve at full
// speed (on packet time) delivers the record lines that 'vpcflow pcap'
// writes for 'vpcflow gen pcap --scenario' with the same seed, in the same
// objects.
func TestServeScenarioMatchesPcap(t *testing.T) {
	t.Parallel()
	names := "web-tier,ssh-brute-force,port-scan,exfiltration,nat-egress,dns,misconfigured-sg"
	dir := t.TempDir()
	pcapPath := filepath.Join(dir, "all.pcap")
	if _, errOut, code := runBinary(t, nil, "gen", "pcap", "--topology", scenarioTopology, "--scenario", names, "--seed", "4", "--snaplen", "96", "--out", pcapPath); code != 0 {
		t.Fatalf("gen: %d %s", code, errOut)
	}
	out := filepath.Join(dir, "flowlogs")
	if _, errOut, code := runBinary(t, nil, "pcap", "--quiet", "--topology", scenarioTopology, "--out", out, pcapPath); code != 0 {
		t.Fatalf("pcap: %d %s", code, errOut)
	}
	want := objectLines(t, out)
	if len(want) < 3000 {
		t.Fatalf("pcap wrote %d records", len(want))
	}

	data := t.TempDir()
	makeBucket(t, data, "scenario-flow-bucket")
	p := startServe(t, "--data-dir", data, "--topology", scenarioTopology, "--scenario", names, "--sim-seed", "4")
	deadline := time.Now().Add(60 * time.Second)
	var h health
	for h = p.health(t); !h.SourcesEnded && time.Now().Before(deadline); h = p.health(t) {
		time.Sleep(50 * time.Millisecond)
	}
	if !h.SourcesEnded || h.Records != uint64(len(want)) {
		t.Fatalf("health %+v; want the sources ended and %d records", h, len(want))
	}
	p.stop(t)
	if !strings.Contains(p.log(), "scenarios "+strings.ReplaceAll(names, ",", ", ")+" (10m0s at rate 1, seed 4, from 2026-01-01T00:00:00Z; max speed)") {
		t.Errorf("start line: %s", p.log())
	}
	bucket := filepath.Join(data, "buckets", "scenario-flow-bucket")
	if got := objectLines(t, bucket); !slices.Equal(got, want) {
		t.Fatalf("serve delivered %d record lines, pcap wrote %d; they differ", len(got), len(want))
	}
	got, wantObjects := tree(t, bucket), tree(t, out)
	for k := range wantObjects {
		if _, ok := got[k]; !ok {
			t.Errorf("object %s of pcap not delivered by serve", k)
		}
	}
}
