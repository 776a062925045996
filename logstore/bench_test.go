package logstore

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// benchEvents makes n flow-log-like events over 16 streams, one per second
// in timestamp order, as delivery writes them.
func benchEvents(n int) []InputEvent {
	evs := make([]InputEvent, n)
	for i := range evs {
		eni := fmt.Sprintf("eni-0a1b2c3d4e5f6%04d", i%16)
		evs[i] = InputEvent{Stream: eni + "-all", Timestamp: t0 + int64(i)*10,
			Message: []byte(fmt.Sprintf("2 123456789012 %s 10.0.%d.%d 198.51.100.%d %d 443 6 %d %d 1767225600 1767225660 ACCEPT OK",
				eni, i%200, i%250, i%100, 30000+i%30000, 1+i%20, 40+i%9000))}
	}
	return evs
}

const benchBatch = 1000

// BenchmarkIngest measures the internal ingestion path, batched and fsync'd,
// against two baselines in the same run: the bare bbolt cost of one put per
// event in one transaction per batch, and an fsync'd append-only file.
// store-once is the delivery path (IngestOnce: each event hashed and
// recorded per source, stream and minute), store-once-again the same
// batches delivered a second time (nothing new: read, compare, no sync).
func BenchmarkIngest(b *testing.B) {
	evs := benchEvents(200_000)
	ingest := func(b *testing.B, s *Store, i int, source string) int {
		n := 0
		for j := 0; j < len(evs); j += benchBatch {
			batch := append([]InputEvent(nil), evs[j:j+benchBatch]...)
			for k := range batch { // later rounds continue in time
				batch[k].Timestamp += int64(i) * int64(len(evs)) * 10
			}
			var err error
			if source == "" {
				_, err = s.Ingest("/bench", batch)
			} else {
				_, err = s.IngestOnce("/bench", source, batch)
			}
			if err != nil {
				b.Fatal(err)
			}
			n += benchBatch
		}
		return n
	}
	open := func(b *testing.B) *Store {
		s, err := Open(b.TempDir(), Options{Account: testAccount, Region: testRegion, Now: func() time.Time { return time.UnixMilli(t0) }})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	for _, source := range []string{"", "fl-1"} {
		name := "store"
		if source != "" {
			name = "store-once"
		}
		b.Run(name, func(b *testing.B) {
			s := open(b)
			defer s.Close()
			b.ResetTimer()
			n := 0
			for i := 0; i < b.N; i++ {
				n += ingest(b, s, i, source)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
	b.Run("store-once-again", func(b *testing.B) {
		s := open(b)
		defer s.Close()
		ingest(b, s, 0, "fl-1")
		b.ResetTimer()
		n := 0
		for i := 0; i < b.N; i++ {
			n += ingest(b, s, 0, "fl-1")
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		if st := s.Counters(); st.Ingested != uint64(len(evs)) {
			b.Fatalf("%d events stored, want %d", st.Ingested, len(evs))
		}
	})
	b.Run("baseline-bbolt-bare", func(b *testing.B) {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o644, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		b.ResetTimer()
		n, seq := 0, uint64(0)
		for i := 0; i < b.N; i++ {
			for j := 0; j < len(evs); j += benchBatch {
				err := db.Update(func(tx *bolt.Tx) error {
					bk, _ := tx.CreateBucketIfNotExists([]byte("ev"))
					for _, e := range evs[j : j+benchBatch] {
						seq++
						k := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(e.Timestamp+int64(i)*int64(len(evs))*10)), seq)
						if err := bk.Put(k, e.Message); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				n += benchBatch
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("baseline-append-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "append.log"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.ResetTimer()
		n := 0
		buf := make([]byte, 0, 256*benchBatch)
		for i := 0; i < b.N; i++ {
			for j := 0; j < len(evs); j += benchBatch {
				buf = buf[:0]
				for _, e := range evs[j : j+benchBatch] {
					buf = strconv.AppendInt(buf, e.Timestamp, 10)
					buf = append(buf, ' ')
					buf = append(buf, e.Message...)
					buf = append(buf, '\n')
				}
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				n += benchBatch
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkScan measures Scan over 1 M stored events (LOGSTORE_BENCH_EVENTS
// overrides, e.g. 10000000 for the Insights target) against the bare bbolt
// cursor walk over the same files (the floor of any bbolt layout) and a loop
// over the events in memory.
func BenchmarkScan(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("LOGSTORE_BENCH_EVENTS")); err == nil && v > 0 {
		n = (v + 9_999) / 10_000 * 10_000
	}
	dir := b.TempDir()
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion, Now: func() time.Time { return time.UnixMilli(t0) }})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	evs := benchEvents(n)
	for j := 0; j < n; j += 10_000 {
		if _, err := s.Ingest("/bench", evs[j:j+10_000]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("store", func(b *testing.B) {
		cnt := 0
		var bytes int
		for i := 0; i < b.N; i++ {
			err := s.Scan("/bench", 0, 1<<62, func(e Event) error {
				cnt++
				bytes += len(e.Message) + len(e.Stream)
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if cnt != n*b.N {
			b.Fatalf("scanned %d", cnt)
		}
		b.ReportMetric(float64(cnt)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("baseline-bbolt-cursor", func(b *testing.B) {
		g := s.groups["/bench"]
		cnt := 0
		for i := 0; i < b.N; i++ {
			for _, day := range g.days() {
				sl, _ := s.acquire(g, day, false)
				sl.db.View(func(tx *bolt.Tx) error {
					c := tx.Bucket(bEvents).Cursor()
					for k, v := c.First(); k != nil; k, v = c.Next() {
						cnt += len(v) & 1
						cnt++
					}
					return nil
				})
				s.release(sl)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("baseline-memory", func(b *testing.B) {
		cnt := 0
		var bytes int
		for i := 0; i < b.N; i++ {
			for j := range evs {
				cnt++
				bytes += len(evs[j].Message) + len(evs[j].Stream)
			}
		}
		b.ReportMetric(float64(cnt)/b.Elapsed().Seconds(), "events/s")
	})
}
