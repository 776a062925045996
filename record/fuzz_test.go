package record

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.log")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(string(b))
		}
	}
	f.Add("srcaddr dstaddrr\n1 2\n")
	f.Add("2 1 eni-1 ::1 1.2.3.4 0 0 58 1 1 1 1 REJECT OK\r\n")
}

// FuzzReader feeds arbitrary files to the line reader: it must never panic,
// every line must end as a record or an error, and every record must survive
// a text and a JSON round trip unchanged.
func FuzzReader(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, in string) {
		rd := NewReader(strings.NewReader(in), "fuzz", nil)
		dec := NewDecoder()
		for {
			var r Record
			err := rd.Next(&r)
			if err == io.EOF {
				break
			}
			if err != nil {
				if _, ok := err.(*LineError); !ok {
					t.Fatalf("non-line error %T %v", err, err)
				}
				continue
			}
			format := rd.Format()
			text := AppendText(nil, format, &r)
			var back Record
			if err := dec.Decode(format, text, &back); err != nil {
				t.Fatalf("re-decode of %q: %v", text, err)
			}
			if !reflect.DeepEqual(back, r) {
				t.Fatalf("text round trip changed %q", text)
			}
			js := AppendJSON(nil, format, &r)
			var fromJSON Record
			if err := dec.DecodeJSON(format, js, &fromJSON); err != nil {
				t.Fatalf("JSON %s: %v", js, err)
			}
			if got := AppendText(nil, format, &fromJSON); string(got) != string(text) {
				t.Fatalf("JSON round trip: %q != %q", got, text)
			}
		}
		if rd.Records+rd.Bad > rd.Line() {
			t.Fatalf("more outcomes (%d) than lines (%d)", rd.Records+rd.Bad, rd.Line())
		}
	})
}

// FuzzDecodeJSON: arbitrary JSON never panics the decoder.
func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"version":2,"srcaddr":"10.0.0.1","srcport":443}`)
	f.Add(`{"srcport":"1e5","action":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		var r Record
		dec := NewDecoder()
		format := MustFormat("${version} ${srcaddr} ${srcport} ${action} ${instance-id} ${packets}")
		if dec.DecodeJSON(format, []byte(in), &r) == nil {
			text := AppendText(nil, format, &r)
			if strings.Count(string(text), " ") != format.Len()-1 {
				t.Fatalf("decoded JSON gives a line with the wrong field count: %q", text)
			}
		}
	})
}

// FuzzParseFormat: any string either parses to a format that prints back to
// an equivalent format, or gives an error.
func FuzzParseFormat(f *testing.F) {
	f.Add(DefaultFormat.String())
	f.Add("${srcaddr ${x}")
	f.Add("srcaddr  ${dstaddr}")
	f.Fuzz(func(t *testing.T, in string) {
		fm, err := ParseFormat(in)
		if err != nil {
			return
		}
		again, err := ParseFormat(fm.String())
		if err != nil || again.String() != fm.String() || again.Version() != fm.Version() {
			t.Fatalf("%q: reparse %v", in, err)
		}
	})
}
