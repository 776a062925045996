package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const recordsTestdata = "../../record/testdata"

func TestRecordsParseFormatRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(recordsTestdata + "/*/*.log")
	if len(files) < 5 {
		t.Fatalf("found only %d sample files", len(files))
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("  ")) || !bytes.HasSuffix(raw, []byte("\n")) {
			continue // not canonical: covered by the record package's canonical round trip
		}
		header := string(raw[:bytes.IndexByte(raw, '\n')])
		args := []string{"records", "format", "--format", header, "--header"}
		if header[0] >= '0' && header[0] <= '9' { // no header: default format
			args = []string{"records", "format"}
		}
		ndjson, errOut, code := runBinary(t, nil, "records", "parse", path)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: parse exit %d: %s", path, code, errOut)
		}
		back, errOut, code := runBinary(t, []byte(ndjson), args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: format exit %d: %s", path, code, errOut)
		}
		if back != string(raw) {
			t.Errorf("%s: round trip differs:\n%s\nvs\n%s", path, back, raw)
		}
	}
}

func TestRecordsParseOutput(t *testing.T) {
	// The first and third lines of the AWS default-format sample, by hand.
	out, _, code := runBinary(t, nil, "records", "parse", recordsTestdata+"/aws/records-default-v2.log")
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(out, "\n")
	want0 := `{"version":2,"account-id":"123456789010","interface-id":"eni-1235b8ca123456789","srcaddr":"172.31.16.139","dstaddr":"172.31.16.21","srcport":20641,"dstport":22,"protocol":6,"packets":20,"bytes":4249,"start":1418530010,"end":1418530070,"action":"ACCEPT","log-status":"OK"}`
	want2 := `{"version":2,"account-id":"123456789010","interface-id":"eni-1235b8ca123456789","srcaddr":null,"dstaddr":null,"srcport":null,"dstport":null,"protocol":null,"packets":null,"bytes":null,"start":1431280876,"end":1431280934,"action":null,"log-status":"NODATA"}`
	if lines[0] != want0 || lines[2] != want2 {
		t.Errorf("got\n%s\n%s", lines[0], lines[2])
	}
}

func TestRecordsParseInputs(t *testing.T) {
	dir := t.TempDir()
	const text = "srcaddr dstport\n10.0.0.1 443\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	gzPath := filepath.Join(dir, "f.log.gz")
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	plain := filepath.Join(dir, "f.txt")
	os.WriteFile(plain, []byte(text), 0o644)
	want := `{"srcaddr":"10.0.0.1","dstport":443}` + "\n"
	for _, args := range [][]string{{gzPath}, {plain}, {"-"}} {
		out, errOut, code := runBinary(t, []byte(text), append([]string{"records", "parse"}, args...)...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%v: code %d out %q err %q", args, code, out, errOut)
		}
	}
}

func TestRecordsParseBadLines(t *testing.T) {
	in := "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 180 100 160 ACCEPT OK\n" +
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 99999 6 3 180 100 160 ACCEPT OK\n" +
		"garbage\n" +
		"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 180 100 160 REJECT OK\n"
	wantErr := `<stdin>:2: field "dstport": want integer 0-65535 or -, got "99999"` + "\n" +
		`<stdin>:3: want 14 fields, got 1 (no header line seen, so the default format applies)` + "\n"
	out, errOut, code := runBinary(t, []byte(in), "records", "parse", "-")
	if code != 1 || strings.Count(out, "\n") != 2 || errOut != wantErr+"2 records, 2 bad lines\n" {
		t.Errorf("code %d\nout %s\nerr %s", code, out, errOut)
	}
	out, errOut, code = runBinary(t, []byte(in), "records", "parse", "--skip-bad", "-")
	if code != 0 || strings.Count(out, "\n") != 2 || errOut != wantErr+"2 records, 2 bad lines skipped\n" {
		t.Errorf("skip-bad: code %d\nout %s\nerr %s", code, out, errOut)
	}
	// A file error names the file and the others are still processed.
	out, errOut, code = runBinary(t, []byte(in), "records", "parse", "/nonexistent.log", "-")
	if code != 1 || !strings.Contains(errOut, "/nonexistent.log") || strings.Count(out, "\n") != 2 {
		t.Errorf("missing file: code %d err %s", code, errOut)
	}
}

func TestRecordsUsageErrors(t *testing.T) {
	_, errOut, code := runBinary(t, nil, "records", "parse", "--format", "${srcaddr} ${dstadr}", "-")
	if code != 2 || !strings.Contains(errOut, `unknown field (did you mean dstaddr?): "dstadr" at offset 11`) {
		t.Errorf("code %d err %s", code, errOut)
	}
	_, errOut, code = runBinary(t, nil, "records", "parse", "--bogus")
	if code != 2 || !strings.Contains(errOut, "unknown flag") {
		t.Errorf("code %d err %s", code, errOut)
	}
}

func TestRecordsFormatErrors(t *testing.T) {
	in := `{"srcport":443}` + "\n" + `{"srcport":"x"}` + "\nnot json\n"
	out, errOut, code := runBinary(t, []byte(in), "records", "format", "--format", "srcport", "--header")
	if code != 1 || out != "srcport\n443\n" ||
		!strings.Contains(errOut, `<stdin>:2: field "srcport": want integer 0-65535 or -, got "x"`) ||
		!strings.Contains(errOut, `<stdin>:3: want a JSON object`) {
		t.Errorf("code %d out %q err %s", code, out, errOut)
	}
}

func TestRecordsFields(t *testing.T) {
	out, _, code := runBinary(t, nil, "records", "fields")
	if code != 0 {
		t.Fatal(code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 62 { // header + 61 fields
		t.Errorf("%d lines", len(lines))
	}
	for _, want := range []string{"tcp-flags", "reject-reason", "packets-lost-ttl-expired", "x-rule"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s", want)
		}
	}
	fields := strings.Fields(lines[18]) // tcp-flags is the 18th field of AWS's table
	if fields[0] != "tcp-flags" || fields[1] != "3" || fields[2] != "int32" {
		t.Errorf("tcp-flags row %q", lines[18])
	}
}
