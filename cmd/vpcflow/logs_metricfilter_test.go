package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Records L1-L4 of docs/aws-behaviour.md, "Reference records", and the
// rejected-SSH pattern.
const (
	mfL1  = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 22 6 1 40 1563108188 1563108227 REJECT OK"
	mfL2  = "2 086112738802 eni-0d5d75b41f9befe9e 182.68.238.8 172.31.83.158 42227 22 6 1 44 1563109030 1563109067 REJECT OK"
	mfL3  = "2 086112738802 eni-0d5d75b41f9befe9e 42.171.23.181 172.31.83.158 52417 22 6 24 4065 1563191069 1563191121 ACCEPT OK"
	mfL4  = "2 086112738802 eni-0d5d75b41f9befe9e 61.177.172.128 172.31.83.158 39611 80 6 1 40 1563108188 1563108227 REJECT OK"
	mfSSH = `[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`
	mfD1  = `127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534`
)

// Expected outputs are written by hand in the AWS CLI's layout
// (json.dumps with indent=4).
const mfAWSExample = `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        },
        {
            "eventNumber": 2,
            "eventMessage": "[ERROR] 400 BAD REQUEST",
            "extractedValues": {}
        }
    ]
}
`

const mfSSHOut = `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "` + mfL1 + `",
            "extractedValues": {
                "$version": "2",
                "$account": "086112738802",
                "$eni": "eni-0d5d75b41f9befe9e",
                "$source": "61.177.172.128",
                "$destination": "172.31.83.158",
                "$srcport": "39611",
                "$destport": "22",
                "$protocol": "6",
                "$packets": "1",
                "$bytes": "40",
                "$windowstart": "1563108188",
                "$windowend": "1563108227",
                "$action": "REJECT",
                "$flowlogstatus": "OK"
            }
        },
        {
            "eventNumber": 2,
            "eventMessage": "` + mfL2 + `",
            "extractedValues": {
                "$version": "2",
                "$account": "086112738802",
                "$eni": "eni-0d5d75b41f9befe9e",
                "$source": "182.68.238.8",
                "$destination": "172.31.83.158",
                "$srcport": "42227",
                "$destport": "22",
                "$protocol": "6",
                "$packets": "1",
                "$bytes": "44",
                "$windowstart": "1563109030",
                "$windowend": "1563109067",
                "$action": "REJECT",
                "$flowlogstatus": "OK"
            }
        }
    ]
}
`

const mfD1Out = `{
    "matches": [
        {
            "eventNumber": 1,
            "eventMessage": "127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534",
            "extractedValues": {
                "$1": "127.0.0.1",
                "$2": "Prod",
                "$3": "frank",
                "$4": "10/Oct/2000:13:25:15 -0700",
                "$request": "GET /index.html HTTP/1.0",
                "$status_code": "404",
                "$7": "1534"
            }
        }
    ]
}
`

const mfNoMatches = "{\n    \"matches\": []\n}\n"

func TestMetricFilterTestCLI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flows := write("flows.log", mfL1+"\n"+mfL2+"\n"+mfL3+"\n"+mfL4) // no final newline
	crlf := write("crlf.log", "[ERROR] 400 BAD REQUEST\r\n[ERROR] 400 BAD REQUEST\r\n[INFO] 200 OK\r\n")
	multi := write("multi.json", `[
  "{\"latency\": 150,\n \"path\": \"/a\"}",
  "{\"latency\": 50}",
  "plain text"
]`)
	tests := []struct {
		name   string
		stdin  string
		args   []string
		stdout string
		stderr []string
		code   int
	}{
		{"AWS example on stdin", "[ERROR] 400 BAD REQUEST\n[ERROR] 400 BAD REQUEST\n[INFO] 200 OK\n",
			[]string{"--pattern", "ERROR"}, mfAWSExample, nil, 0},
		{"AWS example with -", "[ERROR] 400 BAD REQUEST\n[ERROR] 400 BAD REQUEST\n[INFO] 200 OK\n",
			[]string{"--pattern", "ERROR", "-"}, mfAWSExample, nil, 0},
		{"CRLF file", "", []string{"--pattern", "ERROR", crlf}, mfAWSExample, nil, 0},
		{"SSH filter on L1-L4", "", []string{"--pattern", mfSSH, flows}, mfSSHOut, nil, 0},
		{"D1 with ...", mfD1 + "\n", []string{"--pattern", `[..., request=*.html*, status_code=4*,]`}, mfD1Out, nil, 0},
		{"no match", mfL3 + "\n", []string{"--pattern", `REJECT`}, mfNoMatches, nil, 0},
		{"empty input", "", []string{"--pattern", `REJECT`}, mfNoMatches, nil, 0},
		{"empty lines keep line numbers", "\nb\n\n[ERROR] 400 BAD REQUEST\n", []string{"--pattern", "ERROR"},
			"{\n    \"matches\": [\n        {\n            \"eventNumber\": 4,\n            \"eventMessage\": \"[ERROR] 400 BAD REQUEST\",\n            \"extractedValues\": {}\n        }\n    ]\n}\n",
			[]string{"<stdin>: skipped 2 empty line(s)"}, 0},
		{"JSON messages, multi-line", "", []string{"--pattern", `{ $.latency > 100 }`, "--messages-json", multi},
			"{\n    \"matches\": [\n        {\n            \"eventNumber\": 1,\n            \"eventMessage\": \"{\\\"latency\\\": 150,\\n \\\"path\\\": \\\"/a\\\"}\",\n            \"extractedValues\": {}\n        }\n    ]\n}\n", nil, 0},
		{"JSON non-strings skipped", `["ERROR 1", 7, null, "ERROR 2"]`, []string{"--pattern", "ERROR", "--messages-json", "-"},
			"{\n    \"matches\": [\n        {\n            \"eventNumber\": 1,\n            \"eventMessage\": \"ERROR 1\",\n            \"extractedValues\": {}\n        },\n        {\n            \"eventNumber\": 4,\n            \"eventMessage\": \"ERROR 2\",\n            \"extractedValues\": {}\n        }\n    ]\n}\n",
			[]string{"<stdin>:1:13: element 2 is a number", "<stdin>:1:16: element 3 is null", "skipped 2 array element(s)"}, 1},
		{"JSON syntax error", "[\"a\",\n  x]", []string{"--pattern", "a", "--messages-json", "-"}, "",
			[]string{"<stdin>:2:3: invalid JSON"}, 1},
		{"JSON not an array", `{"a":1}`, []string{"--pattern", "a", "--messages-json", "-"}, "",
			[]string{"<stdin>:1:1: want a JSON array of strings"}, 1},
		{"invalid delimited pattern", "", []string{"--pattern", `[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`}, "",
			[]string{"An error occurred (InvalidParameterException) when calling the TestMetricFilter operation: Invalid filter pattern", "column 62: condition on \"bytes\""}, 2},
		{"JSON pattern without }", "", []string{"--pattern", `{ $.eventType = "UpdateTrail"`}, "",
			[]string{"InvalidParameterException", "If a filter pattern starts with '{' it must end with '}'", "column 30"}, 2},
		{"star in a term", "", []string{"--pattern", `ERR*`}, "",
			[]string{"Invalid character(s) in term 'ERR*'", "column 4"}, 2},
		{"bad regex", "", []string{"--pattern", `%something!%`}, "",
			[]string{"Invalid filter pattern", "column 11"}, 2},
		{"missing --pattern", "x\n", nil, "", []string{"--pattern is required"}, 2},
		{"FILE and --messages-json", "", []string{"--pattern", "x", "--messages-json", multi, flows}, "", []string{"not both"}, 2},
		{"two files", "", []string{"--pattern", "x", flows, flows}, "", nil, 2},
		{"missing file", "", []string{"--pattern", "x", filepath.Join(dir, "nope")}, "", []string{"no such file"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"logs", "metric-filter", "test"}, tc.args...)
			out, errOut, code := runBinary(t, []byte(tc.stdin), args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errOut)
			}
			if out != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.stdout)
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr %q does not contain %q", errOut, s)
				}
			}
		})
	}
}

func TestMetricFilterHelp(t *testing.T) {
	out, _, code := runBinary(t, nil, "logs", "metric-filter", "test", "--help")
	if code != 0 || !strings.Contains(out, "test-metric-filter") || !strings.Contains(out, "Examples:") {
		t.Errorf("help (exit %d):\n%s", code, out)
	}
	out, _, code = runBinary(t, nil, "logs", "metric-filter", "--help")
	if code != 0 || !strings.Contains(out, "test ") {
		t.Errorf("parent help (exit %d):\n%s", code, out)
	}
}

// TestMetricFilterTestMatchesAWSCLI has the real AWS CLI print a
// TestMetricFilter response (hand-written here, as AWS would send it for the
// D1 vector and a message with characters that need escaping) and checks
// that our command prints the same bytes. Skipped when no AWS CLI is
// installed.
func TestMetricFilterTestMatchesAWSCLI(t *testing.T) {
	aws := "/usr/bin/aws"
	if _, err := os.Stat(aws); err != nil {
		if aws, err = exec.LookPath("aws"); err != nil {
			t.Skip("no AWS CLI")
		}
	}
	odd := "tab\there \"q\" back\\slash é \u0001 <&> end"
	response := `{"matches":[{"eventNumber":1,"eventMessage":"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534","extractedValues":{"$ip":"127.0.0.1","$user":"Prod","$username":"frank","$timestamp":"10/Oct/2000:13:25:15 -0700","$request":"GET /index.html HTTP/1.0","$status_code":"404","$bytes":"1534"}},` +
		`{"eventNumber":2,"eventMessage":"tab\there \"q\" back\\slash \u00e9 \u0001 <&> end","extractedValues":{"$ip":"tab","$user":"here","$username":"q","$timestamp":"back\\slash","$request":"\u00e9","$status_code":"\u0001","$bytes":"<&> end"}}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "Logs_20140328.TestMetricFilter" {
			http.Error(w, "unexpected target", 400)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte(response))
	}))
	defer srv.Close()
	cmd := exec.Command(aws, "--endpoint-url", srv.URL, "logs", "test-metric-filter",
		"--filter-pattern", "[ip, user, username, timestamp, request, status_code, bytes]", "--log-event-messages", mfD1, odd)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	want, err := cmd.Output()
	if err != nil {
		t.Skipf("AWS CLI did not run: %v", err)
	}
	got, errOut, code := runBinary(t, []byte(mfD1+"\n"+odd+"\n"), "logs", "metric-filter", "test",
		"--pattern", "[ip, user, username, timestamp, request, status_code, bytes]")
	if code != 0 || got != string(want) {
		t.Errorf("ours (exit %d, %s):\n%s\nAWS CLI:\n%s", code, errOut, got, want)
	}
}

// FuzzMetricFilterMessagesJSON checks that --messages-json input never
// panics and that a valid array of non-empty strings reads back exactly.
func FuzzMetricFilterMessagesJSON(f *testing.F) {
	for _, s := range []string{`[]`, `["a","b\nc"]`, `[1, "x", null]`, `[`, `{"a":1}`, `["a"] x`, "[\"\\u00e9\", \"\"]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var errb strings.Builder
		msgs, skipped, err := readMessagesJSON(strings.NewReader(in), "<fuzz>", &errb)
		var want []string
		if json.Unmarshal([]byte(in), &want) != nil || err != nil {
			return
		}
		var nonEmpty []string
		for _, s := range want {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		if len(msgs) != len(nonEmpty) || skipped != len(want)-len(nonEmpty) {
			t.Fatalf("%q: read %d messages, skipped %d; want %d and %d", in, len(msgs), skipped, len(nonEmpty), len(want)-len(nonEmpty))
		}
		for i, m := range msgs {
			if m.msg != nonEmpty[i] {
				t.Fatalf("%q: message %d = %q, want %q", in, i, m.msg, nonEmpty[i])
			}
		}
	})
}
