package record

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// benchLines builds n realistic default-format lines: a few ENIs, many peers,
// some NODATA and IPv6.
func benchLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		eni := fmt.Sprintf("eni-%017x", i%8)
		switch {
		case i%50 == 0:
			fmt.Fprintf(&b, "2 123456789012 %s - - - - - - - 1700000000 1700000060 - NODATA\n", eni)
		case i%10 == 0:
			fmt.Fprintf(&b, "2 123456789012 %s 2001:db8:1::%x 2001:db8:2::5 %d 443 6 %d %d 1700000000 1700000060 ACCEPT OK\n",
				eni, i%4096, 1024+i%60000, 1+i%90, 40+i%90000)
		default:
			fmt.Fprintf(&b, "2 123456789012 %s 10.%d.%d.%d 172.31.16.21 %d 443 6 %d %d 1700000000 1700000060 %s OK\n",
				eni, i%256, (i/256)%256, i%250+1, 1024+i%60000, 1+i%90, 40+i%90000, []string{"ACCEPT", "REJECT"}[i%7/6])
		}
	}
	return b.Bytes()
}

const benchN = 100_000

// BenchmarkParse measures decoding default-format lines from memory into
// records, excluding gzip and output encoding.
func BenchmarkParse(b *testing.B) {
	data := benchLines(benchN)
	dec := NewDecoder()
	var r Record
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rest := data
		for len(rest) > 0 {
			j := bytes.IndexByte(rest, '\n')
			if err := dec.Decode(DefaultFormat, rest[:j], &r); err != nil {
				b.Fatal(err)
			}
			rest = rest[j+1:]
		}
	}
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParseReader is BenchmarkParse through the Reader (header
// detection, line splitting, counters).
func BenchmarkParseReader(b *testing.B) {
	data := benchLines(benchN)
	var r Record
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd := NewReader(bytes.NewReader(data), "bench", nil)
		for {
			if err := rd.Next(&r); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "lines/s")
}

// naiveRecord is what a straightforward parser produces.
type naiveRecord struct {
	account, eni, action, status string
	src, dst                     netip.Addr
	ints                         [8]int64
}

// BenchmarkParseBaselineFields is the naive baseline: strings.Fields, strconv
// and netip.ParseAddr per line.
func BenchmarkParseBaselineFields(b *testing.B) {
	data := benchLines(benchN)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var r naiveRecord
	for i := 0; i < b.N; i++ {
		for _, line := range strings.Split(string(data[:len(data)-1]), "\n") {
			f := strings.Fields(line)
			if len(f) != 14 {
				b.Fatal("fields")
			}
			r.account, r.eni, r.action, r.status = f[1], f[2], f[12], f[13]
			r.src, _ = netip.ParseAddr(f[3])
			r.dst, _ = netip.ParseAddr(f[4])
			for k, idx := range []int{0, 5, 6, 7, 8, 9, 10, 11} {
				r.ints[k], _ = strconv.ParseInt(f[idx], 10, 64)
			}
		}
	}
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "lines/s")
}

func decodedRecords(b *testing.B) []Record {
	data := benchLines(benchN)
	rd := NewReader(bytes.NewReader(data), "bench", nil)
	recs := make([]Record, 0, benchN)
	for {
		var r Record
		if err := rd.Next(&r); err == io.EOF {
			return recs
		} else if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
}

// BenchmarkEncodeText measures records to default-format text lines.
func BenchmarkEncodeText(b *testing.B) {
	recs := decodedRecords(b)
	buf := make([]byte, 0, 16<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for k := range recs {
			buf = AppendText(buf, DefaultFormat, &recs[k])
			buf = append(buf, '\n')
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeTextBaselineSprintf is the naive encoder: fmt.Sprintf.
func BenchmarkEncodeTextBaselineSprintf(b *testing.B) {
	recs := decodedRecords(b)
	var sb strings.Builder
	b.ReportAllocs()
	b.ResetTimer()
	dash := func(v int64) string {
		if v < 0 {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	addr := func(a netip.Addr) string {
		if !a.IsValid() {
			return "-"
		}
		return a.String()
	}
	for i := 0; i < b.N; i++ {
		sb.Reset()
		for k := range recs {
			r := &recs[k]
			sb.WriteString(fmt.Sprintf("%d %s %s %s %s %s %s %s %s %s %d %d %s %s\n", r.Version, r.AccountID, r.InterfaceID,
				addr(r.SrcAddr), addr(r.DstAddr), dash(r.SrcPort), dash(r.DstPort), dash(r.Protocol), dash(r.Packets),
				dash(r.Bytes), r.Start, r.End, r.Action, r.LogStatus))
		}
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeJSON measures records to NDJSON.
func BenchmarkEncodeJSON(b *testing.B) {
	recs := decodedRecords(b)
	buf := make([]byte, 0, 32<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for k := range recs {
			buf = AppendJSON(buf, DefaultFormat, &recs[k])
			buf = append(buf, '\n')
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "records/s")
}

// hotRecords is a few records that stay in the caches, as the one record
// the fan-out refills for every flow: encoding then costs its own CPU, not
// the memory traffic of reading 100 000 records of 1 KB each.
func hotRecords(b *testing.B) []Record {
	return decodedRecords(b)[:64]
}

// BenchmarkEncodeTextHot measures the CPU of records to default-format
// text lines.
func BenchmarkEncodeTextHot(b *testing.B) {
	recs := hotRecords(b)
	buf := make([]byte, 0, 16<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for k := range benchN {
			buf = AppendText(buf, DefaultFormat, &recs[k%len(recs)])
			buf = append(buf, '\n')
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEncodeTextHotBaselineAccessors is BenchmarkEncodeTextHot with
// the general encoder: each field through its accessor, numbers and
// addresses through strconv and netip.
func BenchmarkEncodeTextHotBaselineAccessors(b *testing.B) {
	recs := hotRecords(b)
	buf := make([]byte, 0, 16<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for k := range benchN {
			r := &recs[k%len(recs)]
			for j, fd := range DefaultFormat.Fields() {
				if j > 0 {
					buf = append(buf, ' ')
				}
				buf = appendValueAccessor(buf, fd, r)
			}
			buf = append(buf, '\n')
		}
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.N*benchN)/b.Elapsed().Seconds(), "records/s")
}

func appendValueAccessor(dst []byte, fd Field, r *Record) []byte {
	acc := &access[fd]
	switch infos[fd].Kind {
	case KindInt32, KindInt64:
		if v := *acc.num(r); v >= 0 {
			return strconv.AppendInt(dst, v, 10)
		}
	case KindAddr:
		if a := *acc.addr(r); a.IsValid() {
			return a.AppendTo(dst)
		}
	case KindEnum:
		return append(dst, enumString(fd, *acc.enum(r))...)
	default:
		if s := *acc.str(r); s != "" {
			return append(dst, s...)
		}
	}
	return append(dst, '-')
}
