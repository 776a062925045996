package insights

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// flowFixture is F1-F7 of docs/aws-behaviour.md, "Reference records", stored
// as a flow log delivers them: group vpc-flow-logs, one stream per interface, timestamp = start*1000,
// stored (ingested) in label order.
var flowFixture = []string{
	"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
	"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
	"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
	"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
	"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
	"2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
}

// fixtureStarts are the start fields of F1-F7, typed in by hand.
var fixtureStarts = []int64{1418530010, 1418530010, 1431280876, 1431280876, 1432917027, 1432917094, 1477913708}

func fixtureEvents() []Event {
	evs := make([]Event, len(flowFixture))
	for i, m := range flowFixture {
		eni := strings.Fields(m)[2]
		evs[i] = Event{Timestamp: fixtureStarts[i] * 1000, IngestionTime: 1700000000000 + int64(i),
			Group: "vpc-flow-logs", Stream: eni + "-all", Message: []byte(m)}
	}
	return evs
}

// rowsOf renders result rows without @ptr as "col=value" lists.
func rowsOf(res *Result) []string {
	var out []string
	for _, row := range res.Rows {
		var parts []string
		for _, f := range row {
			if f.Field != "@ptr" {
				parts = append(parts, f.Field+"="+f.Value)
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

// testAccount is the account the tests' @log values name.
const testAccount = "123456789012"

func runQuery(t *testing.T, q string, evs []Event, opt Options) *Result {
	t.Helper()
	pq, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q): %v", q, err)
	}
	if opt.AccountID == "" {
		opt.AccountID = testAccount
	}
	res, err := pq.Run(EventsSource(evs), opt)
	if err != nil {
		t.Fatalf("Run(%q): %v", q, err)
	}
	return res
}

func checkRows(t *testing.T, q string, got *Result, want []string) {
	t.Helper()
	g := rowsOf(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s\n got: %q\nwant: %q", q, g, want)
	}
}

// TestSampleQueries runs AWS's sample queries for VPC flow logs over F1-F7,
// with the rows worked out by hand, once on one worker and once on two.
func TestSampleQueries(t *testing.T) {
	const v6a, v6b = "2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:db8:1234:a102:3304:8879:34cf:4071"
	tests := []struct {
		q    string
		want []string
	}{
		{"stats sum(packets) as packetsTransferred by srcAddr, dstAddr | sort packetsTransferred desc | limit 15", []string{
			"srcAddr=" + v6a + " dstAddr=" + v6b + " packetsTransferred=54",
			"srcAddr=172.31.9.69 dstAddr=172.31.9.12 packetsTransferred=20",
			"srcAddr=172.31.16.139 dstAddr=172.31.16.21 packetsTransferred=20",
			"srcAddr=172.31.16.139 dstAddr=203.0.113.12 packetsTransferred=4",
			"srcAddr=203.0.113.12 dstAddr=172.31.16.139 packetsTransferred=4",
		}},
		{"stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10", []string{
			"srcAddr=" + v6a + " dstAddr=" + v6b + " bytesTransferred=8855",
			"srcAddr=172.31.9.69 dstAddr=172.31.9.12 bytesTransferred=4249",
			"srcAddr=172.31.16.139 dstAddr=172.31.16.21 bytesTransferred=4249",
			"srcAddr=172.31.16.139 dstAddr=203.0.113.12 bytesTransferred=336",
			"srcAddr=203.0.113.12 dstAddr=172.31.16.139 bytesTransferred=336",
		}},
		{`filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`, []string{
			"srcAddr=172.31.9.69 numRejections=1",
			"srcAddr=172.31.16.139 numRejections=1",
		}},
		{"filter protocol=17 | stats count(*) by srcAddr", nil},
		{"filter protocol=1 | stats count(*) by srcAddr", []string{
			"srcAddr=172.31.16.139 count(*)=1",
			"srcAddr=203.0.113.12 count(*)=1",
		}},
		{`filter logStatus="SKIPDATA" | stats count(*) by bin(1h) as t | sort t`, []string{
			"t=2015-05-10 18:00:00.000 count(*)=1",
		}},
		{`filter isIpv4InSubnet(srcAddr, "172.31.0.0/16") | stats sum(bytes) as bytesTransferred by dstAddr | sort bytesTransferred desc | limit 15`, []string{
			"dstAddr=172.31.9.12 bytesTransferred=4249",
			"dstAddr=172.31.16.21 bytesTransferred=4249",
			"dstAddr=203.0.113.12 bytesTransferred=336",
		}},
		{"fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol, bytes | filter interfaceId = 'eni-1235b8ca123456789' | sort @timestamp desc | dedup srcAddr, dstAddr, srcPort, dstPort, protocol | limit 20", []string{
			"@timestamp=2016-10-31 11:35:08.000 srcAddr=" + v6a + " dstAddr=" + v6b + " srcPort=34892 dstPort=22 protocol=6 bytes=8855",
			"@timestamp=2015-05-29 16:31:34.000 srcAddr=172.31.16.139 dstAddr=203.0.113.12 srcPort=0 dstPort=0 protocol=1 bytes=336",
			"@timestamp=2015-05-29 16:30:27.000 srcAddr=203.0.113.12 dstAddr=172.31.16.139 srcPort=0 dstPort=0 protocol=1 bytes=336",
			"@timestamp=2015-05-10 18:01:16.000",
			"@timestamp=2014-12-14 04:06:50.000 srcAddr=172.31.9.69 dstAddr=172.31.9.12 srcPort=49761 dstPort=3389 protocol=6 bytes=4249",
			"@timestamp=2014-12-14 04:06:50.000 srcAddr=172.31.16.139 dstAddr=172.31.16.21 srcPort=20641 dstPort=22 protocol=6 bytes=4249",
		}},
		{"parse @message /(?<NetworkInterface>eni-.*?) / | display NetworkInterface, @message", []string{
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[6],
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[5],
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[4],
			"NetworkInterface=eni-11111111aaaaaaaaa @message=" + flowFixture[3],
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[2],
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[1],
			"NetworkInterface=eni-1235b8ca123456789 @message=" + flowFixture[0],
		}},
	}
	for _, workers := range []int{1, 2} {
		for _, tc := range tests {
			res := runQuery(t, tc.q, fixtureEvents(), Options{Workers: workers})
			checkRows(t, tc.q, res, tc.want)
			if res.Statistics.RecordsScanned != 7 {
				t.Errorf("%s: recordsScanned = %v, want 7", tc.q, res.Statistics.RecordsScanned)
			}
		}
	}
}

// TestFlowLogSampleQueries runs the sample queries of docs/aws-behaviour.md,
// "Logs Insights", on F1-F7.
func TestFlowLogSampleQueries(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"# top destinations of traffic from one subnet\nfilter isIpv4InSubnet(srcAddr, \"10.1.2.0/24\")\n| stats sum(bytes) as bytesTransferred by dstAddr\n| sort bytesTransferred desc | limit 15", nil},
		{"# sources with the most rejected flows\nfilter action = \"REJECT\"\n| stats count(*) as rejections by srcAddr\n| sort rejections desc | limit 20",
			[]string{"srcAddr=172.31.9.69 rejections=1", "srcAddr=172.31.16.139 rejections=1"}},
		{"# hours in which records were skipped\nfilter logStatus = \"SKIPDATA\" | stats count(*) by bin(1h) as hour | sort hour",
			[]string{"hour=2015-05-10 18:00:00.000 count(*)=1"}},
	}
	for _, tc := range tests {
		checkRows(t, tc.q, runQuery(t, tc.q, fixtureEvents(), Options{}), tc.want)
	}
	// The custom-format parse example: 14 globbed fields named as written.
	q := `parse @message "* * * * * * * * * * * * * *" as version, account_id, interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, end, action, log_status | filter log_status = "SKIPDATA" | display interface_id, start, log_status`
	checkRows(t, q, runQuery(t, q, fixtureEvents(), Options{}), []string{"interface_id=eni-11111111aaaaaaaaa start=1431280876 log_status=SKIPDATA"})
}

func TestStatistics(t *testing.T) {
	res := runQuery(t, `filter action = "REJECT"`, fixtureEvents(), Options{})
	total := 0
	for _, m := range flowFixture {
		total += len(m)
	}
	want := Statistics{RecordsMatched: 2, RecordsScanned: 7, BytesScanned: float64(total)}
	if res.Statistics != want {
		t.Errorf("statistics = %+v, want %+v", res.Statistics, want)
	}
	// Default columns @timestamp, @message ([Choice]), then @ptr.
	if len(res.Rows) != 2 || res.Rows[0][0].Field != "@timestamp" || res.Rows[0][1].Field != "@message" || res.Rows[0][2].Field != "@ptr" {
		t.Errorf("rows = %v", res.Rows)
	}
}

// TestJSON checks the get-query-results document: shape, field order,
// doubles and nulls left out.
func TestJSON(t *testing.T) {
	res := runQuery(t, `filter logStatus = "NODATA" | fields interfaceId, srcAddr | stats count(*) as n by interfaceId`, fixtureEvents(), Options{})
	want := `{"results":[[{"field":"interfaceId","value":"eni-1235b8ca123456789"},{"field":"n","value":"1"}]],"statistics":{"recordsMatched":1.0,"recordsScanned":7.0,"bytesScanned":` +
		strconv.Itoa(len(strings.Join(flowFixture, ""))) + `.0},"status":"Complete"}`
	got, _ := json.Marshal(res)
	if string(got) != want {
		t.Errorf("json\n got %s\nwant %s", got, want)
	}
	empty := runQuery(t, `filter action = "nothing"`, fixtureEvents(), Options{})
	wantIndent := "{\n    \"results\": [],\n    \"statistics\": {\n        \"recordsMatched\": 0.0,\n        \"recordsScanned\": 7.0,\n        \"bytesScanned\": " +
		strconv.Itoa(len(strings.Join(flowFixture, ""))) + ".0\n    },\n    \"status\": \"Complete\"\n}\n"
	if g := string(empty.JSON()); g != wantIndent {
		t.Errorf("indented json\n got %s\nwant %s", g, wantIndent)
	}
}
