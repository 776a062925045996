package record

import (
	"math"
	"net/netip"
	"strconv"
	"testing"
)

// AppendUint and AppendAddr are written by hand for speed; strconv and
// netip, which they replace, are the reference.

func TestAppendUint(t *testing.T) {
	vals := []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 1767225600, math.MaxInt64, math.MaxUint64}
	for p := uint64(1); p <= 1e19; p *= 10 { // every length, at its edges
		vals = append(vals, p-1, p, p+1)
		if p == 1e19 {
			break
		}
	}
	for _, v := range vals {
		for _, prefix := range []string{"", "x "} {
			if got, want := string(AppendUint([]byte(prefix), v)), prefix+strconv.FormatUint(v, 10); got != want {
				t.Errorf("AppendUint(%q, %d) = %q, want %q", prefix, v, got, want)
			}
		}
	}
}

func TestAppendAddr(t *testing.T) {
	for _, s := range []string{"0.0.0.0", "10.0.1.10", "255.255.255.255", "1.20.100.9", "192.0.2.1",
		"::", "::1", "2001:db8::10", "::ffff:10.0.0.1", "fe80::1:2:3:4"} {
		a := netip.MustParseAddr(s)
		if got, want := string(AppendAddr([]byte("x "), a)), "x "+a.String(); got != want {
			t.Errorf("AppendAddr(%s) = %q, want %q", s, got, want)
		}
	}
}

func FuzzAppendUint(f *testing.F) {
	f.Add(uint64(0), []byte{})
	f.Add(uint64(math.MaxUint64), []byte("abc"))
	f.Fuzz(func(t *testing.T, v uint64, prefix []byte) {
		want := strconv.AppendUint(append([]byte(nil), prefix...), v, 10)
		// A full slice, so the digits go to a new array, and one with room.
		full := append([]byte(nil), prefix...)[:len(prefix):len(prefix)]
		roomy := append(make([]byte, 0, len(prefix)+20), prefix...)
		for _, dst := range [][]byte{full, roomy} {
			if got := AppendUint(dst, v); string(got) != string(want) {
				t.Fatalf("AppendUint(%q, %d) = %q, want %q", prefix, v, got, want)
			}
		}
	})
}

func FuzzAppendAddr(f *testing.F) {
	f.Add([]byte{10, 0, 1, 10}, false)
	f.Add([]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}, true)
	f.Fuzz(func(t *testing.T, b []byte, v6 bool) {
		var a netip.Addr
		switch {
		case v6 && len(b) >= 16:
			a = netip.AddrFrom16([16]byte(b[:16]))
		case len(b) >= 4:
			a = netip.AddrFrom4([4]byte(b[:4]))
		default:
			return
		}
		if got, want := string(AppendAddr(nil, a)), a.String(); got != want {
			t.Fatalf("AppendAddr(%v) = %q, want %q", b, got, want)
		}
	})
}

// FuzzAppendText: AppendText, with its shortcuts (fields at offsets, small
// numbers and strings inline), writes what the accessors and strconv give
// field by field, whatever the values.
func FuzzAppendText(f *testing.F) {
	f.Add(int64(1767225600), int64(1767225600), int64(443), int64(443), int64(-1), int64(12), "eni-1")
	f.Add(int64(-1), int64(-1), int64(0), int64(9), int64(10), int64(10), "")
	format := MustFormat("${srcport} ${dstport} ${start} ${end} ${packets} ${bytes} ${version} ${interface-id} ${end} ${tcp-flags} ${start}")
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g int64, s string) {
		r := empty
		r.SrcPort, r.DstPort, r.Start, r.End, r.Packets, r.Bytes, r.Version, r.InterfaceID, r.TCPFlags = a, b, c, d, e, g, a, s, c
		var want []byte
		for i, fd := range format.Fields() {
			if i > 0 {
				want = append(want, ' ')
			}
			want = appendValueAccessor(want, fd, &r)
		}
		if got := AppendText(nil, format, &r); string(got) != string(want) {
			t.Fatalf("got  %q\nwant %q", got, want)
		}
	})
}

// TestAppendNotAField: the zero Field, which no parsed format holds, is
// written "-" rather than read from a record.
func TestAppendNotAField(t *testing.T) {
	r := empty
	r.Version, r.AccountID = 5, "111122223333"
	if got := string(AppendValue(nil, Field(0), &r)); got != "-" {
		t.Errorf("AppendValue(Field(0)) = %q, want -", got)
	}
	if got := string(AppendText(nil, NewFormat(Version, Field(0), AccountID), &r)); got != "5 - 111122223333" {
		t.Errorf("AppendText = %q, want %q", got, "5 - 111122223333")
	}
}
