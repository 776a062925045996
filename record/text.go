package record

import (
	"bytes"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// FieldError reports a value that does not fit its field.
type FieldError struct {
	Field Field
	Want  string // what was expected, e.g. "integer 0-65535"
	Got   string // the offending text
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("field %q: want %s, got %q", e.Field.Name(), e.Want, e.Got)
}

// CountError reports a line with the wrong number of fields.
type CountError struct{ Want, Got int }

func (e *CountError) Error() string { return fmt.Sprintf("want %d fields, got %d", e.Want, e.Got) }

// maxInterned bounds the decoder's string table so that a file with millions
// of distinct IDs cannot grow it without limit; past it, strings are copied.
const maxInterned = 1 << 14

// Decoder turns text lines into records. It keeps a bounded table of the
// strings it has seen (account, interface, VPC ids repeat on nearly every
// line), so steady-state decoding does not allocate. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	intern map[string]string
	toks   []int // start/end offsets of the tokens of the current line
}

// NewDecoder returns a Decoder with an empty string table.
func NewDecoder() *Decoder {
	return &Decoder{intern: make(map[string]string, 256)}
}

// str returns b as a string, from the intern table when it was seen before.
// It reports false for invalid UTF-8, which no flow log carries and which
// NDJSON could not represent faithfully.
func (d *Decoder) str(b []byte) (string, bool) {
	if s, ok := d.intern[string(b)]; ok { // no allocation: map index by converted []byte
		return s, true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	s := string(b)
	if len(d.intern) < maxInterned {
		d.intern[s] = s
	}
	return s, true
}

func isSep(c byte) bool { return c == ' ' || c == '\t' }

// split records the token offsets of line in d.toks and returns their number.
func (d *Decoder) split(line []byte) int {
	d.toks = d.toks[:0]
	i := 0
	for i < len(line) {
		for i < len(line) && isSep(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && !isSep(line[j]) {
			j++
		}
		d.toks = append(d.toks, i, j)
		i = j
	}
	return len(d.toks) / 2
}

// trimEOL drops a final LF and CR.
func trimEOL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// Decode parses one text line (with or without its line ending) in format f
// into r. Fields are separated by runs of spaces or tabs. Every field of r
// that f does not contain is made absent. On error r holds partial data.
func (d *Decoder) Decode(f *Format, line []byte, r *Record) error {
	line = trimEOL(line)
	if got := d.split(line); got != len(f.fields) {
		return &CountError{Want: len(f.fields), Got: got}
	}
	r.Reset()
	for i, fd := range f.fields {
		if err := d.decodeField(fd, line[d.toks[2*i]:d.toks[2*i+1]], r); err != nil {
			return err
		}
	}
	return nil
}

// decodeField stores the text value tok of field fd in r.
func (d *Decoder) decodeField(fd Field, tok []byte, r *Record) error {
	if len(tok) == 1 && tok[0] == '-' {
		return nil // r was reset: already absent
	}
	info := &infos[fd]
	acc := &access[fd]
	switch info.Kind {
	case KindInt32, KindInt64:
		v, ok := parseUint(tok)
		if !ok || v < info.Min || v > info.Max {
			return &FieldError{Field: fd, Want: wantInt(info), Got: string(tok)}
		}
		*acc.num(r) = v
	case KindAddr:
		addr, ok := parseAddr(tok)
		if !ok {
			return &FieldError{Field: fd, Want: "IPv4 or IPv6 address or -", Got: string(tok)}
		}
		*acc.addr(r) = addr
	case KindEnum:
		for i, v := range info.Values {
			if string(tok) == v {
				*acc.enum(r) = uint8(i + 1)
				return nil
			}
		}
		return &FieldError{Field: fd, Want: strings.Join(info.Values, ", ") + " or -", Got: string(tok)}
	default:
		// A carriage return inside a line is no separator (only space and
		// tab are), so it would be part of the value: refused, as the JSON
		// form refuses white space in a value, so both forms take the same
		// records.
		if bytes.IndexByte(tok, '\r') >= 0 {
			return &FieldError{Field: fd, Want: "a value without white space", Got: string(tok)}
		}
		v, ok := d.str(tok)
		if !ok {
			return &FieldError{Field: fd, Want: "UTF-8 text", Got: string(tok)}
		}
		*acc.str(r) = v
	}
	return nil
}

func wantInt(info *Info) string {
	if info.Max == maxI64 || info.Max == maxI32 {
		return "non-negative integer or -"
	}
	return fmt.Sprintf("integer %d-%d or -", info.Min, info.Max)
}

// parseUint parses a decimal number without sign; it rejects overflow.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (maxI64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseAddr parses an IPv4 address by hand (the common case, no allocation)
// and anything else with netip. Zoned IPv6 addresses are rejected: flow logs
// never carry zones, and a zone would keep a reference to the line buffer.
func parseAddr(b []byte) (netip.Addr, bool) {
	if a, ok := parseIPv4(b); ok {
		return a, true
	}
	for _, c := range b {
		if c == ':' {
			addr, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(b), len(b)))
			if err != nil || addr.Zone() != "" {
				return netip.Addr{}, false
			}
			return addr, true
		}
	}
	return netip.Addr{}, false
}

func parseIPv4(b []byte) (netip.Addr, bool) {
	var out [4]byte
	n := 0 // octets done
	i := 0
	for n < 4 {
		start := i
		v := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 3 {
			v = v*10 + int(b[i]-'0')
			i++
		}
		digits := i - start
		if digits == 0 || v > 255 || (digits > 1 && b[start] == '0') {
			return netip.Addr{}, false
		}
		out[n] = byte(v)
		n++
		if n < 4 {
			if i >= len(b) || b[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
	}
	if i != len(b) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(out), true
}

// AppendText appends the text line of r in format f, without line ending:
// values joined by single spaces, "-" for absent values.
//
// It runs once per record on the path from a closed window to its objects,
// so it reads the fields at the offsets the format holds (see value)
// rather than through the accessors, and formats numbers and IPv4
// addresses itself.
func AppendText(dst []byte, f *Format, r *Record) []byte {
	p := unsafe.Pointer(r)
	for i := range f.values {
		if i > 0 {
			dst = append(dst, ' ')
		}
		v := &f.values[i]
		// The common cases inline, the rest through append.
		switch v.kind {
		case KindInt32, KindInt64:
			if n := *(*int64)(unsafe.Add(p, v.off)); uint64(n) < 10 {
				dst = append(dst, byte('0'+n))
				continue
			}
		case KindString:
			if s := *(*string)(unsafe.Add(p, v.off)); s != "" {
				dst = append(dst, s...)
				continue
			}
		}
		dst = v.append(dst, r)
	}
	return dst
}

// Text returns the text line of r in format f.
func Text(f *Format, r *Record) string { return string(AppendText(nil, f, r)) }

// AppendValue appends the text value of field fd of r ("-" when absent).
func AppendValue(dst []byte, fd Field, r *Record) []byte {
	return values[fd].append(dst, r)
}

// kindNone marks the zero Field in values.
const kindNone Kind = 255

// value is how the text of one field is read from a Record: the field's
// kind and the offset of its storage, taken from its accessor once.
type value struct {
	kind  Kind
	off   uintptr
	words []string // KindEnum: the text of each value, "-" for 0
}

var values = func() (out [numFields]value) {
	var r Record
	base := uintptr(unsafe.Pointer(&r))
	out[fieldNone].kind = kindNone // not a field: "-", never a read
	for fd := Field(1); fd < numFields; fd++ {
		acc := &access[fd]
		v := value{kind: infos[fd].Kind}
		switch v.kind {
		case KindInt32, KindInt64:
			v.off = uintptr(unsafe.Pointer(acc.num(&r))) - base
		case KindAddr:
			v.off = uintptr(unsafe.Pointer(acc.addr(&r))) - base
		case KindEnum:
			v.off = uintptr(unsafe.Pointer(acc.enum(&r))) - base
			v.words = append([]string{"-"}, infos[fd].Values...)
		default:
			v.off = uintptr(unsafe.Pointer(acc.str(&r))) - base
		}
		out[fd] = v
	}
	return out
}()

func (v *value) append(dst []byte, r *Record) []byte {
	p := unsafe.Add(unsafe.Pointer(r), v.off)
	switch v.kind {
	case KindInt32, KindInt64:
		if n := *(*int64)(p); n >= 0 {
			return AppendUint(dst, uint64(n))
		}
	case KindAddr:
		if a := *(*netip.Addr)(p); a.IsValid() {
			return AppendAddr(dst, a)
		}
	case KindEnum:
		if e := *(*uint8)(p); int(e) < len(v.words) {
			return append(dst, v.words[e]...)
		}
	case KindString:
		if s := *(*string)(p); s != "" {
			return append(dst, s...)
		}
	}
	return append(dst, '-')
}

// digitPairs holds "00" to "99", for writing numbers two digits at a time.
const digitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" +
	"60616263646566676869" + "70717273747576777879" + "80818283848586878889" + "90919293949596979899"

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// AppendUint appends the decimal text of v, as strconv.AppendUint does,
// writing the digits in place instead of through a scratch buffer.
func AppendUint(dst []byte, v uint64) []byte {
	if v < 10 {
		return append(dst, byte('0'+v))
	}
	n := bits.Len64(v) * 1233 >> 12 // log10(2) ~ 1233/4096: n or n-1 digits
	if v >= pow10[n] {
		n++
	}
	l := len(dst)
	if cap(dst)-l < n {
		dst = append(dst, make([]byte, n)...)
	}
	dst = dst[:l+n]
	b := dst[l:]
	i := n
	for v >= 100 {
		q := v / 100
		d := (v - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[d], digitPairs[d+1]
		v = q
	}
	if v >= 10 {
		d := v * 2
		b[0], b[1] = digitPairs[d], digitPairs[d+1]
	} else {
		b[0] = byte('0' + v)
	}
	return dst
}

// AppendAddr appends the text of a, as a.AppendTo does; IPv4 addresses, the
// usual case, are written here without netip's general path.
func AppendAddr(dst []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return a.AppendTo(dst)
	}
	b := a.As4()
	dst = appendOctet(dst, b[0])
	dst = append(dst, '.')
	dst = appendOctet(dst, b[1])
	dst = append(dst, '.')
	dst = appendOctet(dst, b[2])
	dst = append(dst, '.')
	return appendOctet(dst, b[3])
}

func appendOctet(dst []byte, v byte) []byte {
	switch {
	case v >= 100:
		return append(dst, '0'+v/100, '0'+v/10%10, '0'+v%10)
	case v >= 10:
		return append(dst, '0'+v/10, '0'+v%10)
	}
	return append(dst, '0'+v)
}

// IsAbsent reports whether field fd of r is absent ("-").
func IsAbsent(fd Field, r *Record) bool {
	acc := &access[fd]
	switch infos[fd].Kind {
	case KindInt32, KindInt64:
		return *acc.num(r) < 0
	case KindAddr:
		return !acc.addr(r).IsValid()
	case KindEnum:
		return *acc.enum(r) == 0
	}
	return *acc.str(r) == ""
}

// Int returns the value of integer field fd of r, Absent when absent.
func Int(fd Field, r *Record) int64 {
	if p := access[fd].num; p != nil {
		return *p(r)
	}
	return Absent
}
