package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func logsQueryRun(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return execBinary(t, execOptions{Stdin: []byte(stdin)}, args...)
}

// logsQueryFixture is F1-F7 of docs/aws-behaviour.md, "Reference records",
// as `logs put` NDJSON: timestamp = start*1000, one stream per interface.
var logsQueryFixture = []string{
	"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
	"2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK",
	"2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA",
	"2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA",
	"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK",
	"2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK",
	"2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK",
}

func logsQueryStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var nd strings.Builder
	for _, m := range logsQueryFixture {
		f := strings.Fields(m)
		fmt.Fprintf(&nd, `{"timestamp": %s000, "message": %q, "logStream": "%s-all"}`+"\n", f[10], m, f[2])
	}
	if _, stderr, code := logsQueryRun(t, nd.String(), "logs", "put", "--data-dir", dir, "--group", "vpc-flow-logs", "-"); code != 0 {
		t.Fatalf("logs put: %d %s", code, stderr)
	}
	return dir
}

func TestLogsQueryCLI(t *testing.T) {
	dir := logsQueryStore(t)
	q := func(args ...string) (string, string, int) {
		return logsQueryRun(t, "", append([]string{"logs", "query", "--data-dir", dir, "--group", "vpc-flow-logs"}, args...)...)
	}

	t.Run("json is get-query-results", func(t *testing.T) {
		out, stderr, code := q("--output", "json", `filter action="REJECT" | stats count(*) as numRejections by srcAddr | sort numRejections desc | limit 20`)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		total := 0
		for _, m := range logsQueryFixture {
			total += len(m)
		}
		want := `{
    "results": [
        [
            {
                "field": "srcAddr",
                "value": "172.31.9.69"
            },
            {
                "field": "numRejections",
                "value": "1"
            }
        ],
        [
            {
                "field": "srcAddr",
                "value": "172.31.16.139"
            },
            {
                "field": "numRejections",
                "value": "1"
            }
        ]
    ],
    "statistics": {
        "recordsMatched": 2.0,
        "recordsScanned": 7.0,
        "bytesScanned": ` + fmt.Sprint(total) + `.0
    },
    "status": "Complete"
}
`
		if out != want {
			t.Errorf("got\n%s\nwant\n%s", out, want)
		}
	})

	t.Run("table", func(t *testing.T) {
		out, stderr, code := q("stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 2")
		want := "srcAddr                                 dstAddr                                 bytesTransferred\n" +
			"2001:db8:1234:a100:8d6e:3477:df66:f105  2001:db8:1234:a102:3304:8879:34cf:4071  8855\n" +
			"172.31.9.69                             172.31.9.12                             4249\n"
		if code != 0 || out != want {
			t.Errorf("exit %d\n%s\nwant\n%s", code, out, want)
		}
		if stderr != "2 rows; 7 records matched, 7 scanned, 770 bytes scanned\n" {
			t.Errorf("stderr %q", stderr)
		}
	})

	t.Run("records carry @ptr in json only", func(t *testing.T) {
		out, _, code := q("--output", "json", "fields @timestamp, interfaceId | filter logStatus = 'SKIPDATA'")
		var doc struct {
			Results [][]struct{ Field, Value string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || len(doc.Results) != 1 {
			t.Fatalf("exit %d, %v\n%s", code, err, out)
		}
		r := doc.Results[0]
		if len(r) != 3 || r[0].Value != "2015-05-10 18:01:16.000" || r[1].Value != "eni-11111111aaaaaaaaa" || r[2].Field != "@ptr" || r[2].Value == "" {
			t.Errorf("row %v", r)
		}
		tab, _, _ := q("fields @timestamp, interfaceId | filter logStatus = 'SKIPDATA'")
		if strings.Contains(tab, "@ptr") || !strings.Contains(tab, "2015-05-10 18:01:16.000  eni-11111111aaaaaaaaa") {
			t.Errorf("table\n%s", tab)
		}
	})

	t.Run("time range", func(t *testing.T) {
		for _, tc := range []struct {
			start, end string
			want       string
		}{
			{"1418530010", "1418530010", "2"},                     // seconds: the end covers its whole second (F1, F2)
			{"1418530010000", "1418530010000", "2"},               // milliseconds
			{"2015-05-10T18:01:16Z", "2015-05-29T16:30:27Z", "3"}, // RFC 3339: F3, F4, F5
			{"1477913709", "", ""},                                // nothing after F7: the by-less count is 0
		} {
			args := []string{"--start", tc.start}
			if tc.end != "" {
				args = append(args, "--end", tc.end)
			}
			out, stderr, code := q(append(args, "stats count(*) as n")...)
			want := "n\n" + tc.want + "\n"
			if tc.want == "" {
				want = "n\n0\n"
			}
			if code != 0 || out != want {
				t.Errorf("--start %s --end %s: exit %d %s\n%s", tc.start, tc.end, code, stderr, out)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, stderr, code := q("filter action = 'REJECT'\n| stats count(*) by srcAddr | sortt x")
		if code != 2 || !strings.Contains(stderr, "MalformedQueryException: query:2:31: unknown command \"sortt\"") ||
			!strings.Contains(stderr, "\n  | stats count(*) by srcAddr | sortt x\n  "+strings.Repeat(" ", 30)+"^^^^^\n") {
			t.Errorf("malformed: exit %d\n%s", code, stderr)
		}
		_, stderr, code = logsQueryRun(t, "", "logs", "query", "--data-dir", dir, "--group", "nope", "limit 1")
		if code != 1 || !strings.Contains(stderr, "ResourceNotFoundException: Log group 'nope' does not exist") {
			t.Errorf("missing group: exit %d %s", code, stderr)
		}
		for _, args := range [][]string{
			{"logs", "query", "--data-dir", dir, "limit 1"},
			{"logs", "query", "--data-dir", dir, "--group", "vpc-flow-logs"},
			{"logs", "query", "--data-dir", dir, "--group", "vpc-flow-logs", "--start", "yesterday", "limit 1"},
			{"logs", "query", "--data-dir", dir, "--group", "vpc-flow-logs", "--output", "yaml", "limit 1"},
			{"logs", "query", "--data-dir", dir, "--group", "vpc-flow-logs", "--limit", "0", "limit 1"},
		} {
			if _, stderr, code := logsQueryRun(t, "", args...); code != 2 || stderr == "" {
				t.Errorf("%v: exit %d %q, want usage error", args, code, stderr)
			}
		}
	})

	t.Run("help", func(t *testing.T) {
		out, _, code := logsQueryRun(t, "", "logs", "query", "--help")
		if code != 0 || !strings.Contains(out, "get-query-results") || !strings.Contains(out, "Examples:") {
			t.Errorf("help: exit %d\n%s", code, out)
		}
	})
}
