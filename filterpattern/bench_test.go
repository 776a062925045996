package filterpattern

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"testing"
)

// benchPattern is a space-delimited pattern with two comparisons over the
// default flow-log format, the case the throughput goal is stated for.
const benchPattern = `[version, account, eni, source, destination, srcport, destport=22, protocol, packets, bytes>=1000, windowstart, windowend, action, flowlogstatus]`

// benchRegexp is the regular-expression translation of benchPattern, the
// baseline: the numeric test bytes>=1000 becomes "an integer of at least 4
// digits without leading zero", exact for the integer fields flow logs hold.
var benchRegexp = regexp.MustCompile(`^[\t\n\r ]*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+22\s+\S+\s+\S+\s+[1-9][0-9]{3,}\s+\S+\s+\S+\s+\S+\s+\S`)

// flowLines builds n default-format records with a realistic mix of ports,
// sizes, NODATA records and IPv6 addresses.
func flowLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	ports := []int{22, 22, 80, 443, 3389, 53, 8080, 22}
	lines := make([][]byte, n)
	for i := range lines {
		start := 1700000000 + r.IntN(100000)
		switch r.IntN(20) {
		case 0:
			lines[i] = fmt.Appendf(nil, "2 123456789012 eni-0a1b2c3d4e5f%05d - - - - - - - %d %d - NODATA", r.IntN(100), start, start+60)
			continue
		case 1:
			lines[i] = fmt.Appendf(nil, "2 123456789012 eni-0a1b2c3d4e5f%05d 2001:db8::%x 2001:db8::%x %d %d 6 %d %d %d %d ACCEPT OK",
				r.IntN(100), r.IntN(65536), r.IntN(65536), r.IntN(65536), ports[r.IntN(len(ports))], 1+r.IntN(50), 40+r.IntN(20000), start, start+60)
			continue
		}
		action := "ACCEPT"
		if r.IntN(3) == 0 {
			action = "REJECT"
		}
		lines[i] = fmt.Appendf(nil, "2 123456789012 eni-0a1b2c3d4e5f%05d 10.0.%d.%d 172.31.%d.%d %d %d 6 %d %d %d %d %s OK",
			r.IntN(100), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), 1024+r.IntN(60000), ports[r.IntN(len(ports))],
			1+r.IntN(50), 40+r.IntN(20000), start, start+60, action)
	}
	return lines
}

// TestBenchBaselineAgrees makes sure the benchmark compares equal work.
func TestBenchBaselineAgrees(t *testing.T) {
	p := MustCompile(benchPattern)
	matched := 0
	for _, l := range flowLines(20000) {
		a, b := p.Match(l), benchRegexp.Match(l)
		if a != b {
			t.Fatalf("pattern %v, regexp %v on %q", a, b, l)
		}
		if a {
			matched++
		}
	}
	if matched == 0 || matched == 20000 {
		t.Fatalf("matched %d of 20000: the benchmark data should mix both outcomes", matched)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	lines := flowLines(1000)
	for _, pat := range []string{benchPattern, sshPattern, `[..., action="REJECT", status="OK"]`, `[version, account, ..., bytes>100, start, end, action, status]`, `REJECT -3389`} {
		p := MustCompile(pat)
		allocs := testing.AllocsPerRun(10, func() {
			for _, l := range lines {
				p.Match(l)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per 1000 lines, want 0", pat, allocs)
		}
	}
}

func benchLines(b *testing.B, match func([]byte) bool) {
	lines := flowLines(10000)
	var bytes int64
	for _, l := range lines {
		bytes += int64(len(l))
	}
	b.ReportAllocs()
	b.SetBytes(bytes / int64(len(lines)))
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if match(lines[i%len(lines)]) {
			n++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	_ = n
}

// BenchmarkDelimited measures the goal case; BenchmarkDelimitedRegexpBaseline
// runs the regular-expression translation in the same run.
func BenchmarkDelimited(b *testing.B) {
	p := MustCompile(benchPattern)
	benchLines(b, p.Match)
}

func BenchmarkDelimitedRegexpBaseline(b *testing.B) { benchLines(b, benchRegexp.Match) }

func BenchmarkEllipsisTail(b *testing.B) {
	p := MustCompile(`[..., action="REJECT", status="OK"]`)
	benchLines(b, p.Match)
}

func BenchmarkEllipsisTailRegexpBaseline(b *testing.B) {
	re := regexp.MustCompile(`\sREJECT\s+OK[\t\n\r ]*$`)
	benchLines(b, re.Match)
}

func BenchmarkTerms(b *testing.B) {
	p := MustCompile(`REJECT -3389`)
	benchLines(b, p.Match)
}
