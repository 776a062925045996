package detect

import (
	"net/netip"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// TestOnJudgedAndCollectorFor is what a stream relies on: each judged
// window reports, once, the findings it created or updated, with its
// start and end; a Collector of those findings alone, fed the window's
// records, finds their evidence.
func TestOnJudgedAndCollectorFor(t *testing.T) {
	// 20 SSH attempts from 203.0.113.9 in window [0, 600) and 25 in
	// [600, 1200); an ordinary web request in each (not evidence).
	var fs []Flow
	for i := range 20 {
		fs = append(fs, rec("eni-a", "203.0.113.9", "10.0.0.5", int32(50000+i), 22, 12, 2400, int64(20*i), accept))
	}
	for i := range 25 {
		fs = append(fs, rec("eni-a", "203.0.113.9", "10.0.0.5", int32(51000+i), 22, 12, 2400, 600+int64(20*i), accept))
	}
	fs = append(fs, rec("eni-a", "198.51.100.1", "10.0.0.5", 40000, 443, 12, 2400, 5, accept),
		rec("eni-a", "198.51.100.1", "10.0.0.5", 40001, 443, 12, 2400, 605, accept))
	e, err := New(DefaultConfiguration())
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		start, end int64
		ids        []string
		count      int
		evidence   int
		omitted    int
	}
	var calls []call
	e.OnJudged(func(start, end int64, reported []*Finding) {
		c := call{start: start, end: end}
		for _, f := range reported {
			c.ids = append(c.ids, f.ID)
			c.count = f.Service.Count
		}
		col := e.CollectorFor(reported, 5)
		for i := range fs {
			if fs[i].Start >= start && fs[i].Start < end && col.Match(&fs[i]) {
				col.Add(fs[i].Start, Evidence{Source: "s", Record: "r"})
			}
		}
		col.Finish()
		for _, f := range reported {
			c.evidence, c.omitted = len(f.Evidence), f.EvidenceOmitted
		}
		calls = append(calls, c)
	})
	for i := range fs {
		e.Observe(&fs[i])
	}
	// The watermark is 1080: window 0 ends at 600, + 1200 of lateness:
	// nothing judged yet.
	if len(calls) != 0 {
		t.Fatalf("judged before the lateness passed: %+v", calls)
	}
	e.Advance(1800) // 1800 - 1200 = 600: window [0, 600) is judged
	e.Flush()       // and [600, 1200)
	if len(calls) != 2 {
		t.Fatalf("calls %+v, want two windows", calls)
	}
	want := []call{{0, 600, nil, 1, 5, 15}, {600, 1200, nil, 2, 5, 20}}
	for i, c := range calls {
		if c.start != want[i].start || c.end != want[i].end || len(c.ids) != 1 || c.ids[0] != calls[0].ids[0] ||
			c.count != want[i].count || c.evidence != want[i].evidence || c.omitted != want[i].omitted {
			t.Errorf("call %d: %+v, want start %d end %d, one finding (the same), count %d, evidence %d + %d omitted",
				i, c, want[i].start, want[i].end, want[i].count, want[i].evidence, want[i].omitted)
		}
	}
	// The records carry the account but no region.
	if id := DetectorID("111122223333", ""); e.Findings()[0].Service.DetectorID != id || len(id) != 32 {
		t.Errorf("finding's detector %s, DetectorID %s", e.Findings()[0].Service.DetectorID, id)
	}
}

// TestConverterMasksMissingFields: a record built in memory carries every
// field, but the Flow of it in a format holds only the format's fields, as
// the same record read back from its delivered text would.
func TestConverterMasksMissingFields(t *testing.T) {
	f := record.MustFormat("${interface-id} ${srcaddr} ${dstaddr} ${start}")
	r := record.Record{InterfaceID: "eni-a", AccountID: "111122223333", InstanceID: "i-a", VPCID: "vpc-a",
		SrcAddr: netip.MustParseAddr("10.0.0.1"), DstAddr: netip.MustParseAddr("10.0.0.2"), SrcPort: 1, DstPort: 2,
		Protocol: 6, Packets: 3, Bytes: 4, Start: 100, End: 160, Action: record.ActionAccept,
		FlowDirection: record.Ingress, LogStatus: record.StatusOK}
	var c Converter
	var fl Flow
	c.Flow(f, &r, &fl)
	want := Flow{Interface: "eni-a", Src: r.SrcAddr, Dst: r.DstAddr, SrcPort: -1, DstPort: -1, Protocol: -1,
		Packets: -1, Bytes: -1, Start: 100, End: -1, Have: FieldInterface | FieldSrcAddr | FieldDstAddr | FieldStart}
	if fl != want {
		t.Errorf("flow %+v\nwant %+v", fl, want)
	}
	// The default format (version 2) has neither instance-id, vpc-id nor
	// flow-direction.
	c.Flow(record.DefaultFormat, &r, &fl)
	if fl.Instance != "" || fl.VPC != "" || fl.Account != "111122223333" || fl.Direction != record.DirectionNone || fl.Packets != 3 || fl.End != 160 {
		t.Errorf("default format: %+v", fl)
	}
}
