package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumeLines reads n messages' values from topic (or fails after a
// minute), counting each.
func consumeLines(t *testing.T, addr, topic string, n int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	got, total := map[string]int{}, 0
	for total < n && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			got[string(r.Value)]++
			total++
		})
	}
	if total != n {
		t.Fatalf("topic %s: %d messages, want %d", topic, total, n)
	}
	return got
}

// `vpcflow serve --firehose NAME=DEST --publish URL`: the records of a
// kinesis-data-firehose flow log reach the directory or Kafka topic its
// delivery stream is mapped to, each once, and --publish gets every record
// of every flow log. The records expected are `vpcflow pcap --stdout`'s of
// the same capture and topology: ACCEPT records through stream to-dir,
// REJECT records through stream to-kafka.
func TestServeFirehose(t *testing.T) {
	ping, err := os.ReadFile("../../examples/ping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	topo := filepath.Join(dir, "net.yaml")
	fh := func(traffic, stream string) string {
		return `  - ResourceIds: [eni-0a1b2c3d4e5f60718]
    ResourceType: NetworkInterface
    TrafficType: ` + traffic + `
    LogDestinationType: kinesis-data-firehose
    LogDestination: arn:aws:firehose:eu-west-1:111122223333:deliverystream/` + stream + `
    MaxAggregationInterval: 60
`
	}
	os.WriteFile(topo, []byte(string(ping)+"FlowLogs:\n"+fh("ACCEPT", "to-dir")+fh("REJECT", "to-kafka")), 0o644)
	capPath := filepath.Join(dir, "cap.pcap")
	if _, stderr, code := runBinary(t, nil, "gen", "pcap", "--topology", topo, "--packets", "20000", "--flows", "3000", "--out", capPath); code != 0 {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := runBinary(t, nil, "pcap", "--topology", topo, "--stdout", capPath)
	if code != 0 {
		t.Fatalf("pcap --stdout: exit %d: %s", code, stderr)
	}
	wantAll, wantAccept, wantReject := map[string]int{}, map[string]int{}, map[string]int{}
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		wantAll[l]++
		switch {
		case strings.Contains(l, " ACCEPT OK"):
			wantAccept[l]++
		case strings.Contains(l, " REJECT OK"):
			wantReject[l]++
		default:
			t.Fatalf("record neither ACCEPT nor REJECT: %q", l)
		}
	}
	if len(wantAccept) == 0 || len(wantReject) == 0 {
		t.Fatalf("%d ACCEPT and %d REJECT records: want both", len(wantAccept), len(wantReject))
	}

	addr := startBroker(t, 2, "fh", "fh-all")
	out := filepath.Join(dir, "to-dir")
	p := startServeEnv(t, []string{"AWS_ACCESS_KEY_ID=" + testKeyID, "AWS_SECRET_ACCESS_KEY=" + testSecret},
		"--data-dir", filepath.Join(dir, "data"), "--topology", topo, "--replay", capPath,
		"--firehose", "to-dir="+out, "--firehose", "to-kafka=kafka://"+addr+"/fh", "--publish", "kafka://"+addr+"/fh-all")
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.log(), "sources ended") {
		if time.Now().After(deadline) {
			t.Fatalf("the replay did not end: %s", p.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	n := 0
	for _, c := range wantAll {
		n += c
	}
	// /metrics counts what Kafka acknowledged, per topic.
	for metricValue(t, p, "vpcflow_kafka_messages_total", `result="produced",topic="fh-all"`) != float64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("/metrics: %v records produced to fh-all, want %d", metricValue(t, p, "vpcflow_kafka_messages_total", `result="produced",topic="fh-all"`), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Through the EC2 API: a flow log to a stream mapped to nothing is
	// FAILED with "Access error", as AWS marks one it cannot deliver to.
	if _, err := os.Stat(awsCLI); err == nil {
		var created struct{ FlowLogIds []string }
		awsOK(t, p, &created, "ec2", "create-flow-logs", "--resource-type", "NetworkInterface", "--resource-ids", "eni-0a1b2c3d4e5f60718",
			"--traffic-type", "ALL", "--log-destination-type", "kinesis-data-firehose",
			"--log-destination", "arn:aws:firehose:eu-west-1:111122223333:deliverystream/nowhere")
		var described struct {
			FlowLogs []struct{ LogDestinationType, LogDestination, DeliverLogsStatus, DeliverLogsErrorMessage string }
		}
		for {
			awsOK(t, p, &described, "ec2", "describe-flow-logs", "--flow-log-ids", created.FlowLogIds[0])
			if len(described.FlowLogs) == 1 && described.FlowLogs[0].DeliverLogsStatus == "FAILED" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the flow log to an unmapped stream: %+v", described.FlowLogs)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if f := described.FlowLogs[0]; f.LogDestinationType != "kinesis-data-firehose" || f.DeliverLogsErrorMessage != "Access error" ||
			f.LogDestination != "arn:aws:firehose:eu-west-1:111122223333:deliverystream/nowhere" {
			t.Errorf("described %+v", f)
		}
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.exited
	if !strings.Contains(p.log(), "published: "+grouped(uint64(n))+" records to Kafka ("+grouped(uint64(n))+" acknowledged, 0 failed") {
		t.Errorf("serve's summary lacks --publish's counts of %d records: %s", n, p.log())
	}

	gotDir := map[string]int{}
	objs := 0
	for key, b := range filesUnder(t, out) {
		objs++
		parts := strings.Split(key, "/")
		if len(parts) != 5 || !strings.HasPrefix(parts[4], "to-dir-1-") {
			t.Errorf("object key %q: want YYYY/MM/dd/HH/to-dir-1-...", key)
		}
		for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			gotDir[l]++
		}
	}
	sameCounts(t, "stream to-dir's objects", gotDir, wantAccept)
	sameCounts(t, "stream to-kafka's topic", consumeLines(t, addr, "fh", len(wantReject)), wantReject)
	sameCounts(t, "--publish's topic", consumeLines(t, addr, "fh-all", n), wantAll)
	t.Logf("%d ACCEPT records in %d objects, %d REJECT records to Kafka, %d published", len(wantAccept), objs, len(wantReject), n)
}

func sameCounts(t *testing.T, what string, got, want map[string]int) {
	t.Helper()
	bad := 0
	for l, n := range want {
		if got[l] != n {
			bad++
			if bad < 4 {
				t.Errorf("%s: %q %d times, want %d", what, l, got[l], n)
			}
		}
	}
	for l, n := range got {
		if want[l] == 0 {
			bad++
			if bad < 4 {
				t.Errorf("%s: %q %d times, want none", what, l, n)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d records differ", what, bad)
	}
}
