package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/detect"
)

// TestAWSCLIGuardDuty drives `aws guardduty` against the real binary: serve
// replays a capture of the ssh-brute-force scenario (`vpcflow gen pcap
// --scenario ssh-brute-force` over examples/scenarios.yaml) at full speed,
// detects on the records as they are delivered, and answers GuardDuty's
// API. Expected values come from docs/scenarios.md's truth table, not from
// the detector: 198.51.100.77 tries SSH 150 times on the bastion
// (10.0.0.5, eni-0b00000000000000b, i-0b00000000000000b) and 60 times on a
// web server (10.0.0.10, eni-0a00000000000000a, i-0a00000000000000a), all
// within the first 10 minutes, so two findings of count 1. Then the
// findings are checked against `vpcflow detect` over the delivered
// objects, archived, and read again after a restart.
func TestAWSCLIGuardDuty(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	t.Parallel()
	dir := t.TempDir()
	// The scenarios' network, moved to eu-west-1 where the awscli helper
	// signs.
	src, err := os.ReadFile("../../examples/scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	topo := filepath.Join(dir, "scenarios.yaml")
	if err := os.WriteFile(topo, []byte(strings.ReplaceAll(string(src), "us-east-1", "eu-west-1")), 0o644); err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(dir, "attack.pcap")
	if _, errOut, code := runBinary(t, nil, "gen", "pcap", "--topology", topo,
		"--scenario", "ssh-brute-force", "--out", pcap); code != 0 {
		t.Fatalf("gen pcap: %d %s", code, errOut)
	}
	data := filepath.Join(dir, "data")
	bucket := filepath.Join(data, "buckets", "scenario-flow-bucket")
	if err := os.MkdirAll(bucket, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret}
	p := startServeEnv(t, env, "--data-dir", data, "--topology", topo, "--replay", pcap, "--speed", "max")
	settled := func() bool {
		var h struct{ FindingsSettled bool }
		if err := json.Unmarshal([]byte(p.get(t, "/healthz")), &h); err != nil {
			t.Fatal(err)
		}
		return h.FindingsSettled
	}
	for deadline := time.Now().Add(time.Minute); !settled(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("detection never settled: %s", p.log())
		}
	}

	var dets struct{ DetectorIds []string }
	awsOK(t, p, &dets, "guardduty", "list-detectors")
	if len(dets.DetectorIds) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(dets.DetectorIds[0]) {
		t.Fatalf("list-detectors: %+v, want one id of 32 hex digits", dets)
	}
	det := dets.DetectorIds[0]
	var gd struct{ Status, ServiceRole, CreatedAt string }
	awsOK(t, p, &gd, "guardduty", "get-detector", "--detector-id", det)
	if gd.Status != "ENABLED" || !strings.HasPrefix(gd.ServiceRole, "arn:aws:iam::111122223333:role/") {
		t.Errorf("get-detector: %+v", gd)
	}

	sshType := `{"Criterion":{"type":{"Eq":["UnauthorizedAccess:EC2/SSHBruteForce"]}}}`
	var list struct {
		FindingIds []string
		NextToken  string
	}
	awsOK(t, p, &list, "guardduty", "list-findings", "--detector-id", det, "--finding-criteria", sshType)
	if len(list.FindingIds) != 2 {
		t.Fatalf("list-findings by type: %+v, want the two brute forces", list)
	}
	var got struct{ Findings []*detect.Finding }
	awsOK(t, p, &got, "guardduty", "get-findings", "--detector-id", det, "--finding-ids", list.FindingIds[0], list.FindingIds[1])
	want := map[string]string{"eni-0b00000000000000b": "i-0b00000000000000b 10.0.0.5", "eni-0a00000000000000a": "i-0a00000000000000a 10.0.0.10"}
	byENI := map[string]*detect.Finding{}
	for _, f := range got.Findings {
		ni := f.Resource.InstanceDetails.NetworkInterfaces
		nca := f.Service.Action.NetworkConnectionAction
		if len(ni) != 1 || nca == nil || nca.RemoteIPDetails == nil || nca.LocalPortDetails == nil || nca.LocalIPDetails == nil {
			t.Fatalf("finding %+v lacks its interface or connection", f)
		}
		byENI[ni[0].NetworkInterfaceID] = f
		if f.Type != detect.TypeSSHBruteForce || f.Resource.InstanceDetails.InstanceID+" "+nca.LocalIPDetails.IPAddressV4 != want[ni[0].NetworkInterfaceID] ||
			nca.RemoteIPDetails.IPAddressV4 != "198.51.100.77" || nca.LocalPortDetails.Port != 22 || nca.ConnectionDirection != "INBOUND" ||
			f.Service.ResourceRole != "TARGET" || f.Service.Count != 1 || f.Service.DetectorID != det || f.Service.Archived ||
			f.AccountID != "111122223333" || f.Region != "eu-west-1" || f.Severity != 2 {
			t.Errorf("get-findings: %+v\naction %+v", f, nca)
		}
		// Conversations start from 00:00:00 to 00:09:56 (docs/scenarios.md).
		if f.Service.EventFirstSeen < "2026-01-01T00:00:00Z" || f.Service.EventLastSeen > "2026-01-01T00:10:30Z" {
			t.Errorf("events %s to %s, want within the scenario's first 10 minutes", f.Service.EventFirstSeen, f.Service.EventLastSeen)
		}
	}
	if len(byENI) != 2 || byENI["eni-0b00000000000000b"] == nil || byENI["eni-0a00000000000000a"] == nil {
		t.Fatalf("findings on %v, want the bastion's and the web server's interfaces", byENI)
	}

	// The batch command over the objects serve delivered gives the same
	// findings (ids, counts, events, updates).
	out, errOut, code := runBinary(t, nil, "detect", "--quiet", "--account", "111122223333", "--region", "eu-west-1", bucket)
	if code != 0 {
		t.Fatalf("vpcflow detect: %d %s", code, errOut)
	}
	var batch struct{ Findings []*detect.Finding }
	if err := json.Unmarshal([]byte(out), &batch); err != nil {
		t.Fatal(err)
	}
	var allIDs struct{ FindingIds []string }
	awsOK(t, p, &allIDs, "guardduty", "list-findings", "--detector-id", det)
	if len(allIDs.FindingIds) != len(batch.Findings) {
		t.Errorf("serve has %d findings, vpcflow detect %d", len(allIDs.FindingIds), len(batch.Findings))
	}
	for _, b := range batch.Findings {
		if b.Type != detect.TypeSSHBruteForce {
			continue
		}
		s := byENI[b.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID]
		if s == nil || s.ID != b.ID || s.Service.Count != b.Service.Count || s.Service.EventFirstSeen != b.Service.EventFirstSeen ||
			s.Service.EventLastSeen != b.Service.EventLastSeen || s.UpdatedAt != b.UpdatedAt || s.CreatedAt != b.CreatedAt {
			t.Errorf("vpcflow detect: %+v\nserve: %+v", b, s)
		}
	}

	// Archived, the bastion's finding leaves the current findings.
	bastion := byENI["eni-0b00000000000000b"].ID
	current := `{"Criterion":{"service.archived":{"Eq":["false"]},"type":{"Eq":["UnauthorizedAccess:EC2/SSHBruteForce"]}}}`
	awsOK(t, p, nil, "guardduty", "archive-findings", "--detector-id", det, "--finding-ids", bastion)
	awsOK(t, p, &list, "guardduty", "list-findings", "--detector-id", det, "--finding-criteria", current)
	if len(list.FindingIds) != 1 || list.FindingIds[0] != byENI["eni-0a00000000000000a"].ID {
		t.Errorf("current findings after archiving %s: %v", bastion, list.FindingIds)
	}
	_, errOut, code = aws(t, p, "guardduty", "get-findings", "--detector-id", strings.Repeat("0", 32), "--finding-ids", bastion)
	if code == 0 || !strings.Contains(errOut, "An error occurred (BadRequestException) when calling the GetFindings operation: The request is rejected because the input detectorId is not owned by the current account.") {
		t.Errorf("get-findings of another detector: exit %d, %s", code, errOut)
	}
	m := p.get(t, "/metrics")
	if !strings.Contains(m, `vpcflow_findings_total{type="UnauthorizedAccess:EC2/SSHBruteForce"} 2`) {
		t.Errorf("metrics lack two SSH findings created:\n%s", grepLines(m, "vpcflow_findings_total"))
	}
	// The front counts the calls by operation: get-findings twice above
	// (one refused), archive-findings once.
	for _, want := range []string{`vpcflow_api_requests_total{action="GetFindings",service="guardduty",status="200"} 1`,
		`vpcflow_api_requests_total{action="GetFindings",service="guardduty",status="400"} 1`,
		`vpcflow_api_requests_total{action="ArchiveFindings",service="guardduty",status="200"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(m, `service="guardduty"`))
		}
	}
	p.stop(t)

	// After a restart without the replay, the findings are there, the
	// bastion's still archived.
	p = startServeEnv(t, env, "--data-dir", data, "--topology", topo)
	defer p.stop(t)
	awsOK(t, p, &list, "guardduty", "list-findings", "--detector-id", det, "--finding-criteria", sshType)
	ids := slices.Sorted(slices.Values(list.FindingIds))
	wantIDs := slices.Sorted(slices.Values([]string{bastion, byENI["eni-0a00000000000000a"].ID}))
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("after a restart: %v, want %v", ids, wantIDs)
	}
	awsOK(t, p, &got, "guardduty", "get-findings", "--detector-id", det, "--finding-ids", bastion)
	if len(got.Findings) != 1 || !got.Findings[0].Service.Archived || got.Findings[0].Service.Count != 1 {
		t.Errorf("the bastion's finding after a restart: %+v", got.Findings)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestGuardDutyLikeMoto puts the same awscli commands to serve and to
// moto_server (moto 5.2, which answers GuardDuty's detector actions but no
// finding action): get-detector gives the members moto gives (moto adds
// features), with the same values where they are fixed, and a detector of
// another account is refused with the same error line.
func TestGuardDutyLikeMoto(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	motoBin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server is not installed")
	}
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	motoAddr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(motoAddr)
	moto := exec.Command(motoBin, "-H", "127.0.0.1", "-p", port)
	if err := moto.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { moto.Process.Kill(); moto.Wait() })
	m := &serveProc{addr: motoAddr}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", motoAddr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("moto_server never listened")
		}
	}
	var created struct{ DetectorId string }
	awsOK(t, m, &created, "guardduty", "create-detector", "--enable")

	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", filepath.Join(t.TempDir(), "data"), "--account", "111122223333", "--region", "eu-west-1")
	defer p.stop(t)
	var dets struct{ DetectorIds []string }
	awsOK(t, p, &dets, "guardduty", "list-detectors")
	if len(dets.DetectorIds) != 1 {
		t.Fatalf("list-detectors: %+v", dets)
	}

	var ours, theirs map[string]any
	awsOK(t, p, &ours, "guardduty", "get-detector", "--detector-id", dets.DetectorIds[0])
	awsOK(t, m, &theirs, "guardduty", "get-detector", "--detector-id", created.DetectorId)
	for k, v := range ours {
		tv, ok := theirs[k]
		if !ok {
			t.Errorf("get-detector: %s is not in moto's answer %v", k, theirs)
			continue
		}
		switch k {
		case "Status", "FindingPublishingFrequency", "Tags":
			if fmt.Sprint(v) != fmt.Sprint(tv) {
				t.Errorf("get-detector %s: %v, moto %v", k, v, tv)
			}
		case "CreatedAt", "UpdatedAt":
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(v)); err != nil {
				t.Errorf("get-detector %s %v: %v", k, v, err)
			}
		}
	}
	for k := range theirs {
		if _, ok := ours[k]; !ok && k != "Features" {
			t.Errorf("get-detector lacks moto's %s", k)
		}
	}
	other := strings.Repeat("0", 32)
	_, ourErr, ourCode := aws(t, p, "guardduty", "get-detector", "--detector-id", other)
	_, motoErr, motoCode := aws(t, m, "guardduty", "get-detector", "--detector-id", other)
	if ourCode == 0 || ourCode != motoCode || strings.TrimSpace(ourErr) != strings.TrimSpace(motoErr) {
		t.Errorf("another detector: exit %d %q, moto exit %d %q", ourCode, ourErr, motoCode, motoErr)
	}
}
