package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs `vpcflow demo` as a user does: it prints the console's
// address and a key, the key signs in, the two flow logs, the metric filter
// and the alarm are there, records reach the CloudWatch Logs group within
// about a minute, and Ctrl-C removes the temporary data dir.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a capture window on the wall clock")
	}
	t.Parallel()
	cmd := exec.Command(vpcflowBinary(t), "demo", "--listen", "127.0.0.1:0")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log strings.Builder
	ready := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)

		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.HasPrefix(sc.Text(), "vpcflow demo: data in ") {
				close(ready)
			}
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	output := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("demo exited: %s", output())
	case <-time.After(30 * time.Second):
		t.Fatalf("demo printed no key: %s", output())
	}
	out := output()
	m := regexp.MustCompile(`(?m)^vpcflow demo: open (http://127\.0\.0\.1:\d+/) and sign in with\n  access key id      (AKIA[A-Z0-9]{16})\n  secret access key  (\S{40})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no console address and key in:\n%s", out)
	}
	base, key, secret := m[1], m[2], m[3]
	dm := regexp.MustCompile(`(?m)^vpcflow demo: data in (\S+) \(removed at exit; keep it with --data-dir\)$`).FindStringSubmatch(out)
	if dm == nil {
		t.Fatalf("no data dir line in:\n%s", out)
	}
	if !strings.Contains(out, "scenarios web-tier, ssh-brute-force, port-scan, exfiltration, nat-egress, dns, misconfigured-sg (10m0s at rate 1, seed 1, from 2026-01-01T00:00:00Z; x10, looped) and simulator (50 packets/s); 2 flow log(s)") {
		t.Errorf("sources line: %s", out)
	}

	checkREADMEDemo(t, out)

	// Sign in with the printed key, as the page does.
	post := func(name, cookie string, in any, v any) *http.Response {
		t.Helper()
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", base+"console/api/"+name, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Vpcflow-Console", "1")
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		if v != nil {
			if err := json.Unmarshal(body, v); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		return resp
	}
	resp := post("signin", "", map[string]string{"accessKeyId": key, "secretAccessKey": secret}, nil)
	cookie := ""
	for _, c := range resp.Cookies() {
		cookie = c.Name + "=" + c.Value
	}
	var fl struct {
		FlowLogs []struct {
			DestinationType, LogGroupName, Destination, Role string
			MaxAggregationInterval                           int
		}
	}
	post("flowlogs", cookie, struct{}{}, &fl)
	kinds := map[string]bool{}
	for _, f := range fl.FlowLogs {
		if f.MaxAggregationInterval != 60 {
			t.Errorf("flow log %+v: interval %d, want 60", f, f.MaxAggregationInterval)
		}
		kinds[f.DestinationType+" "+f.Destination+f.LogGroupName] = true
	}
	if len(fl.FlowLogs) != 2 || !kinds["s3 arn:aws:s3:::scenario-flow-bucket"] || !kinds["cloud-watch-logs /vpcflow/demo"] {
		t.Errorf("flow logs: %+v", fl.FlowLogs)
	}
	var al struct {
		Alarms []struct{ AlarmName, MetricName string }
	}
	post("alarms", cookie, struct{}{}, &al)
	if len(al.Alarms) != 1 || al.Alarms[0].AlarmName != "ssh-brute-force" || al.Alarms[0].MetricName != "SSHConnectionAttempts" {
		t.Errorf("alarms: %+v", al.Alarms)
	}

	// The first window's records: windows are 60 s, so within 75 s.
	deadline := time.Now().Add(75 * time.Second)
	for {
		var ev struct{ Events []struct{ Message string } }
		post("events", cookie, map[string]any{"group": "/vpcflow/demo", "descending": true, "limit": 10}, &ev)
		if len(ev.Events) > 0 {
			if f := strings.Fields(ev.Events[0].Message); len(f) != 14 || f[1] != "111122223333" {
				t.Errorf("an event in the default format of account 111122223333: %q", ev.Events[0].Message)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event in /vpcflow/demo after 75 s:\n%s", output())
		}
		time.Sleep(2 * time.Second)
	}

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("demo did not stop on SIGINT:\n%s", output())
	}
	if _, err := os.Stat(dm[1]); !os.IsNotExist(err) {
		t.Errorf("the temporary data dir %s is still there (%v)", dm[1], err)
	}
}

// checkREADMEDemo compares the output README.md shows for `vpcflow demo`
// with what demo printed, times, keys, directories and ports aside.
func checkREADMEDemo(t *testing.T, out string) {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "go run ./cmd/vpcflow demo\n```\n\n```\n")
	block, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README.md: no output block after `go run ./cmd/vpcflow demo`")
	}
	norm := func(s string) []string {
		for _, r := range []struct{ re, with string }{
			{`time=\S+`, "time=T"},
			{`AKIA[A-Z0-9]{16}`, "KEY"},
			{`(aws_secret_access_key |secret access key  )\S{40}`, "${1}SECRET"},
			{`/tmp/vpcflow-demo-\d+`, "DIR"},
			{`127\.0\.0\.1:\d+`, "ADDR"},
		} {
			s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
			if !strings.Contains(l, "alarm state changed") {
				lines = append(lines, l)
			}
		}
		return lines
	}
	want, got := norm(block), norm(out)
	if len(got) > len(want) {
		got = got[:len(want)]
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Errorf("README.md's demo output:\n%s\n\ndemo printed:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}
