package sql

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// The benchmark data set: a synthetic capture of 2 M packets in 200 k
// conversations turned into flow-log objects (60 s windows) by the real
// binary, once per run.
var (
	benchOnce sync.Once
	benchDir  string
)

func benchData(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpcflow-sql-bench")
		if err != nil {
			b.Fatal(err)
		}
		tempDirs = append(tempDirs, dir)
		pcap := filepath.Join(dir, "bench.pcap")
		runVpcflow(b, "gen", "pcap", "--packets", "2000000", "--flows", "200000", "--seed", "1", "--out", pcap)
		runVpcflow(b, "pcap", "--quiet", "--interval", "60", "--out", filepath.Join(dir, "out"), pcap)
		os.Remove(pcap)
		benchDir = filepath.Join(dir, "out")
	})
	if benchDir == "" {
		b.Skip("no benchmark data")
	}
	return benchDir
}

type talker struct {
	src, dst netip.Addr
	bytes    int64
}

// BenchmarkTopTalkers: the top-talkers query of AWS's Athena guide (bytes
// per address pair, top 20; docs/aws-behaviour.md, "Athena tables and
// queries") over every object of the data set. The baseline reads the
// same gzip objects with vpcflow's own record reader into a Go map.
func BenchmarkTopTalkers(b *testing.B) {
	dir := benchData(b)
	tb, err := Open(context.Background(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer tb.Close()
	rows := tb.Rows
	b.Logf("%d objects, %d records", len(tb.Files), rows)

	b.Run("duckdb", func(b *testing.B) {
		for b.Loop() {
			r, err := tb.Query(context.Background(), `SELECT srcaddr, dstaddr, SUM(bytes) AS total_bytes FROM flowlogs
				WHERE log_status = 'OK' GROUP BY srcaddr, dstaddr ORDER BY total_bytes DESC LIMIT 20`)
			if err != nil || len(r.Rows) != 20 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("baseline-go-reader", func(b *testing.B) {
		for b.Loop() {
			if top := goTopTalkers(b, tb.Files); len(top) != 20 {
				b.Fatal(len(top))
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

func goTopTalkers(b *testing.B, files []string) []talker {
	sums := map[[2]netip.Addr]int64{}
	var rec record.Record
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		zr, err := gzip.NewReader(f)
		if err != nil {
			b.Fatal(err)
		}
		rd := record.NewReader(zr, p, nil)
		for {
			err := rd.Next(&rec)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if rec.LogStatus == record.StatusOK {
				sums[[2]netip.Addr{rec.SrcAddr, rec.DstAddr}] += rec.Bytes
			}
		}
		f.Close()
	}
	top := make([]talker, 0, len(sums))
	for k, v := range sums {
		top = append(top, talker{k[0], k[1], v})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].bytes > top[j].bytes })
	return top[:min(20, len(top))]
}

// BenchmarkOpen: finding the objects, reading their headers and the check
// scan (row count, rejected lines, gzip integrity), against the baseline
// of only decompressing every object in Go.
func BenchmarkOpen(b *testing.B) {
	dir := benchData(b)
	files, err := findObjects(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("open-checked", func(b *testing.B) {
		for b.Loop() {
			tb, err := Open(context.Background(), dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			tb.Close()
		}
	})
	b.Run("open-nocheck", func(b *testing.B) {
		for b.Loop() {
			tb, err := Open(context.Background(), dir, Options{NoCheck: true})
			if err != nil {
				b.Fatal(err)
			}
			tb.Close()
		}
	})
	b.Run("baseline-gunzip", func(b *testing.B) {
		for b.Loop() {
			for _, f := range files {
				if _, err := verifyGzip(f); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
