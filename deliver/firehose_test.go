package deliver

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

func firehoseFlowLog(stream string) *flowlog.FlowLog {
	return &flowlog.FlowLog{ID: "fl-0a1b2c3d4e5f67891", OwnerID: "111122223333", Region: "eu-west-1", Format: record.DefaultFormat,
		DestinationType: flowlog.DestFirehose, DeliveryStream: stream,
		LogDestination: "arn:aws:firehose:eu-west-1:111122223333:deliverystream/" + stream}
}

// A delivery stream's records reach its RecordSink one by one, and its
// store as uncompressed objects of LF-terminated lines, cut at the size
// bound and at every window, under Firehose's default S3 key
// (YYYY/MM/dd/HH/STREAM-1-YYYY-MM-DD-HH-MM-SS-UUID, the oldest record's
// arrival in UTC). A stream mapped to nothing is AWS's "Access error".
func TestFirehose(t *testing.T) {
	store, pub := &memStore{}, &lineSink{}
	r := &Router{Firehose: func(name string) *FirehoseTarget {
		if name == "flows" {
			return &FirehoseTarget{Records: pub, Store: store, MaxObjectBytes: 200}
		}
		return nil
	}}
	fl := firehoseFlowLog("flows")
	if err := r.Check(fl); err != nil {
		t.Fatal(err)
	}
	// 1709969700 = 2024-03-09T07:35:00Z
	at := time.Date(2024, 3, 9, 7, 35, 1, 0, time.FixedZone("x", 3600))
	var want []string
	for i := range 5 {
		rc := rec("eni-a", 1709969700, 1709969760, int64(i+1))
		if i == 0 {
			// the router makes its firehose at the first record; its clock is fixed after
			if err := r.Write(fl, &rc); err != nil {
				t.Fatal(err)
			}
			r.fh.bufs["flows"].first = at
			r.fh.now = func() time.Time { return at }
		} else if err := r.Write(fl, &rc); err != nil {
			t.Fatal(err)
		}
		want = append(want, "2 111122223333 eni-a - - - - - "+string(rune('1'+i))+" - 1709969700 1709969760 - OK")
	}
	// Each line is 63 bytes with its LF: the 4th passes 200 and cuts.
	if len(store.objs) != 1 {
		t.Fatalf("%d objects after 4 records of 63 bytes and a bound of 200", len(store.objs))
	}
	if err := r.Flush(fl, 1709969760); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	keyRE := regexp.MustCompile(`^2024/03/09/06/flows-1-2024-03-09-06-35-01-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	var all []string
	for k, b := range store.objs {
		if !keyRE.MatchString(k) {
			t.Errorf("key %q", k)
		}
		all = append(all, string(b))
	}
	if len(all) != 2 {
		t.Fatalf("%d objects, want 2", len(all))
	}
	joined := all[0] + all[1]
	if len(all[0]) < len(all[1]) {
		joined = all[1] + all[0]
	}
	if joined != strings.Join(want, "\n")+"\n" {
		t.Errorf("objects:\n%s\nwant\n%s", joined, strings.Join(want, "\n"))
	}
	if len(pub.lines) != 5 || pub.lines[4] != "fl-0a1b2c3d4e5f67891 eni-a "+want[4] {
		t.Errorf("published %q", pub.lines)
	}
	if got := r.Stats().FirehoseObjects; len(got) != 2 {
		t.Errorf("stats list %v", got)
	}

	other := firehoseFlowLog("elsewhere")
	var de *flowlog.DeliveryError
	if err := r.Check(other); !errors.As(err, &de) || de.Message != flowlog.DeliveryAccessError || !strings.Contains(err.Error(), "--firehose elsewhere=") {
		t.Errorf("unmapped stream: %v", err)
	}
}
