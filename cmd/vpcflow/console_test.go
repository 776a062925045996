package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleAWS runs awscli against serve in the scenarios' region.
func consoleAWS(t *testing.T, p *serveProc, args ...string) {
	t.Helper()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", "http://" + p.addr, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+testKeyID, "AWS_SECRET_ACCESS_KEY="+testSecret,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// screenshots is where the browser test saves its pictures:
// $VPCFLOW_SCREENSHOTS, or the test's temporary directory.
func screenshots(t *testing.T) string {
	if d := os.Getenv("VPCFLOW_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestConsoleBrowser drives the console in headless Chromium against a
// serve playing the SSH brute force 10 times faster than scripted: sign
// in, create a CloudWatch Logs flow log in the wizard, see its records in
// the bastion's stream (live tail), run a SQL query over the network's S3
// flow log and Insights queries over the new group, and see the alarm on
// SSH attempts go to ALARM.
//
// A flow log created while serve runs starts at the next 60-second window,
// so its first records come 60 to 120 s after the wizard's submit: the
// test takes about that long and is bounded at four minutes.
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a capture window on the wall clock")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (.ci/run installs Debian's chromium)")
	}
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("awscli is not installed at /usr/bin/aws (.ci/run installs it)")
	}
	t.Parallel()
	shots := screenshots(t)
	data := filepath.Join(t.TempDir(), "data")
	makeBucket(t, data, "scenario-flow-bucket") // the S3 flow log of examples/scenarios.yaml
	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", data, "--topology", "../../examples/scenarios.yaml",
		"--scenario", "ssh-brute-force", "--speed", "10", "--loop")

	// The role the wizard names, and an alarm on the group it delivers to:
	// more than 20 records a minute to port 22. The brute force makes
	// about 150 a minute on the bastion alone at 10 times (15 connections
	// a scripted minute, each its own flow).
	const group, roleArn, alarm = "/console/flows", "arn:aws:iam::111122223333:role/console-flowlogs", "console-ssh"
	consoleAWS(t, p, "iam", "create-role", "--role-name", "console-flowlogs", "--assume-role-policy-document", trustPolicy)
	consoleAWS(t, p, "iam", "put-role-policy", "--role-name", "console-flowlogs", "--policy-name", "logs", "--policy-document", logsPolicy)
	consoleAWS(t, p, "logs", "create-log-group", "--log-group-name", group)
	consoleAWS(t, p, "logs", "put-metric-filter", "--log-group-name", group, "--filter-name", "ssh",
		"--filter-pattern", "[version, account, eni, src, dst, srcport, dstport=22, protocol, packets, bytes, start, end, action, status]",
		"--metric-transformations", "metricName=SSH,metricNamespace=Console,metricValue=1")
	consoleAWS(t, p, "cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--namespace", "Console", "--metric-name", "SSH",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "20",
		"--comparison-operator", "GreaterThanThreshold")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-gpu", true))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// The browser starts with the first action and lives as long as the
	// context of that action: bctx, not a step's.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	base := "http://" + p.addr
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
		defer scancel()
		if err := chromedp.Do(sctx, steps...); err != nil {
			t.Fatalf("%s: %v\nserve's log:\n%s", what, err, p.log())
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	// waitFor polls a JavaScript predicate; every is how often the page is
	// asked (the pages that query re-run on a click, the others poll
	// themselves).
	waitFor := func(what, predicate string, timeout time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
			page, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
			if png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)); err == nil {
				os.WriteFile(filepath.Join(shots, "failed.png"), png, 0o644)
			}
			t.Fatalf("%s: %v (after %v); the page says:\n%.2000s", what, err, timeout, page)
		}
	}
	// setValue sets a field as typing would end (an input event, then
	// change), without typing long texts key by key.
	setValue := func(sel, v string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const n = document.querySelector(%q); n.value = %q;
			n.dispatchEvent(new Event("input", {bubbles: true})); n.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, v))
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Sign in: / leads to the console, which asks for the key.
	step("open the console", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#accessKeyId")))
	step("a wrong secret", chromedp.SendKeys(chromedp.CSS("#accessKeyId"), testKeyID),
		chromedp.SendKeys(chromedp.CSS("#secretAccessKey"), "wrong"), chromedp.Click(chromedp.CSS("#signin-submit")),
		chromedp.WaitVisible(chromedp.CSS(".error")))
	if got := text(".error"); !strings.Contains(got, "SignInRefused") {
		t.Errorf("a wrong secret: %q, want SignInRefused", got)
	}
	// Enter in the secret's box submits the form, as a keyboard user does.
	step("sign in", setValue("#secretAccessKey", ""),
		chromedp.SendKeys(chromedp.CSS("#secretAccessKey"), testSecret+"\r"),
		chromedp.WaitVisible(chromedp.CSS("nav a[href='#/network']")))
	waitFor("the overview", `document.querySelector("h1") && document.querySelector("h1").textContent === "Overview"`, 10*time.Second)
	if got := text("#identity"); got != "account 111122223333 · us-east-1" {
		t.Errorf("identity: %q", got)
	}

	// The wizard first: its flow log's records are what the test waits for.
	step("the wizard", chromedp.Navigate(base+"/console/#/flowlogs/create"), chromedp.WaitVisible(chromedp.CSS("#create-submit")))
	step("fill the wizard",
		chromedp.SendKeys(chromedp.CSS("#name"), "console-test"),
		chromedp.Click(chromedp.CSS("#interval-60")),
		setValue("#logGroupName", group),
		setValue("#role", roleArn),
		// The format builder: a custom selection adds fields in the order ticked.
		chromedp.Click(chromedp.CSS("#formatKind-custom")),
		chromedp.Click(chromedp.CSS("input[name=field][value='tcp-flags']")),
		chromedp.Click(chromedp.CSS("input[name=field][value='pkt-srcaddr']")))
	if got := text("#format-preview"); !strings.HasSuffix(got, "${action} ${log-status} ${tcp-flags} ${pkt-srcaddr}") {
		t.Errorf("custom format preview: %q", got)
	}
	shot("wizard")
	// Insights discovers the fields of the default format only: the flow
	// log keeps it.
	step("default format", chromedp.Click(chromedp.CSS("#formatKind-default")))
	if got := text("#format-preview"); got != "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}" {
		t.Errorf("default format preview: %q", got)
	}
	step("create the flow log", chromedp.Click(chromedp.CSS("#create-submit")), chromedp.WaitVisible(chromedp.CSS(".notice")))
	created := time.Now()
	if got := text(".notice"); !strings.HasPrefix(got, "Created fl-") {
		t.Fatalf("after submit: %q", got)
	}
	waitFor("the flow log listed", `[...document.querySelectorAll("td")].some((td) => td.textContent === "`+group+`")`, 5*time.Second)
	shot("flowlogs")

	step("the network", chromedp.Navigate(base+"/console/#/network"), chromedp.WaitVisible(chromedp.CSS("details")))
	if got := text("main"); !strings.Contains(got, "eni-0b00000000000000b") || !strings.Contains(got, "bastion") {
		t.Errorf("network page lacks the bastion: %.300q", got)
	}
	shot("network")

	// SQL over the network's own S3 flow log, delivering since serve
	// started: the brute force's actor (docs/scenarios.md).
	step("the SQL page", chromedp.Navigate(base+"/console/#/sql"), chromedp.WaitVisible(chromedp.CSS("#run-sql")),
		setValue("#sql", "SELECT srcaddr, COUNT(*) AS records FROM vpc_flow_logs WHERE dstport = 22 GROUP BY srcaddr ORDER BY records DESC"))
	deadline := time.Now().Add(100 * time.Second)
	for {
		step("run SQL", chromedp.Click(chromedp.CSS("#run-sql")))
		waitFor("SQL answer", `document.querySelector("#sql-results").childElementCount > 0`, 60*time.Second)
		if strings.Contains(text("#sql-results"), "198.51.100.77") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SQL: no record of 198.51.100.77 after 100 s: %q", text("#sql-results"))
		}
		time.Sleep(3 * time.Second)
	}
	shot("sql")

	// The new flow log's records in the bastion's stream, by live tail.
	stream := "eni-0b00000000000000b-all"
	step("the stream", chromedp.Navigate(base+"/console/#/logs/"+url.PathEscape(group)+"/"+stream),
		chromedp.WaitVisible(chromedp.CSS("#tail")), chromedp.Click(chromedp.CSS("#tail")))
	waitFor("records in the stream", `document.querySelector("#events").textContent.includes("198.51.100.77")`,
		time.Until(created.Add(150*time.Second)))
	t.Logf("records in the stream %.0f s after the wizard's submit", time.Since(created).Seconds())
	step("filter", setValue("#pattern", `[version, account, eni, src, dst, srcport, dstport=22, protocol, packets, bytes, start, end, action, status]`),
		chromedp.Click(chromedp.CSS("#tail")), chromedp.Click(chromedp.CSS("#search")))
	waitFor("filtered events", `document.querySelector("#events tr") && [...document.querySelectorAll("#events td.msg")].every((td) => td.textContent.split(" ")[6] === "22")`, 10*time.Second)
	shot("events")

	// Insights: who tries SSH, and a chart of records per minute.
	q := url.QueryEscape("filter dstPort = 22 | stats count(*) as attempts by srcAddr | sort attempts desc")
	step("Insights", chromedp.Navigate(base+"/console/#/insights?group="+url.QueryEscape(group)+"&q="+q),
		chromedp.WaitVisible(chromedp.CSS("#run-query")), chromedp.Click(chromedp.CSS("#run-query")))
	waitFor("Insights rows", `document.querySelector("#results table")`, 30*time.Second)
	if got := text("#results tbody tr"); !strings.HasPrefix(got, "198.51.100.77") {
		t.Errorf("Insights: first row %q, want 198.51.100.77", got)
	}
	step("Insights chart", setValue("#query", "stats count(*) as records by bin(1m)"), chromedp.Click(chromedp.CSS("#run-query")))
	waitFor("a chart", `document.querySelector("#results svg.chart polyline")`, 30*time.Second)
	shot("insights")

	// The alarm on SSH attempts.
	step("alarms", chromedp.Navigate(base+"/console/#/alarms"), chromedp.WaitVisible(chromedp.CSS("#alarms")))
	waitFor("the alarm in ALARM", fmt.Sprintf(`document.querySelector('tr[data-alarm=%q][data-state="ALARM"]')`, alarm), 60*time.Second)
	shot("alarms")

	// Detections judge 10-minute windows of event time: the brute force
	// is no finding yet, and the page says that detection is on.
	step("findings", chromedp.Navigate(base+"/console/#/findings"))
	waitFor("the findings page", `document.querySelector("main .empty") && document.querySelector("main .empty").textContent.startsWith("No findings: nothing suspicious")`, 10*time.Second)

	step("overview", chromedp.Navigate(base+"/console/#/"))
	waitFor("the overview's counters", `document.querySelectorAll(".card").length === 6`, 10*time.Second)
	shot("overview")

	step("dashboards", chromedp.Navigate(base+"/console/#/dashboards?group="+url.QueryEscape(group)))
	waitFor("dashboard charts", `document.querySelectorAll("main svg.chart").length >= 3`, 30*time.Second)
	shot("dashboards")
	t.Logf("screenshots in %s; %.0f s in the browser", shots, time.Since(created).Seconds())
}
