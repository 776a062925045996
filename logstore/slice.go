package logstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// purgeEvery is how often Ingest runs Purge.
const purgeEvery = 3_600_000

// dayMs is the width of a slice: one UTC day, the unit of retention.
const dayMs = 86_400_000

// Buckets of a slice file.
var (
	bEvents = []byte("ev") // key ts|seq → sid|ingestionTime|message
	bIndex  = []byte("sx") // nested per stream id: key ts|seq → nothing
	bStats  = []byte("st") // key sid → sliceStat
	bInfo   = []byte("in") // "maxseq" → highest seq in this slice
)

var keyMaxSeq = []byte("maxseq")

// slice is one group's events of one UTC day, in its own bbolt file.
type slice struct {
	day     int64
	path    string
	db      *bolt.DB // nil while closed
	refs    int
	dead    bool // deleted by retention or DeleteLogGroup: close when idle
	lastUse uint64
	stats   map[uint32]*sliceStat
	maxSeq  uint64
	fresh   bool // created by this process and never written: a failed first write removes it
}

// sliceStat sums one stream's events in one slice; stream attributes
// (first/last timestamps, stored bytes) are folds of these, so they are
// written in the same transaction as the events and survive any crash.
type sliceStat struct {
	count, bytes, minTs, maxTs, lastIngest int64
}

func (st *sliceStat) encode() []byte {
	b := make([]byte, 40)
	for i, v := range []int64{st.count, st.bytes, st.minTs, st.maxTs, st.lastIngest} {
		binary.BigEndian.PutUint64(b[i*8:], uint64(v))
	}
	return b
}

func decodeStat(b []byte) *sliceStat {
	if len(b) < 40 {
		return &sliceStat{}
	}
	g := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[i*8:])) }
	return &sliceStat{g(0), g(1), g(2), g(3), g(4)}
}

func (st *sliceStat) add(ts, size, ingest int64) {
	if st.count == 0 || ts < st.minTs {
		st.minTs = ts
	}
	if st.count == 0 || ts > st.maxTs {
		st.maxTs = ts
	}
	st.count++
	st.bytes += size
	if ingest > st.lastIngest {
		st.lastIngest = ingest
	}
}

func dayOf(ts int64) int64 { return ts / dayMs }

func (g *group) slicePath(day int64) string {
	return filepath.Join(g.dir, strconv.FormatInt(day, 10)+".db")
}

// loadSlices reads the stats of every slice file of g at Open.
func (s *Store) loadSlices(g *group) error {
	ents, err := os.ReadDir(g.dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("logstore: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".db")
		if !ok {
			continue
		}
		day, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			continue
		}
		sl := &slice{day: day, path: g.slicePath(day), stats: map[uint32]*sliceStat{}}
		db, err := openSlice(sl.path, s.opts.ReadOnly)
		if err != nil {
			return err
		}
		err = db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bStats); b != nil {
				b.ForEach(func(k, v []byte) error {
					if len(k) == 4 {
						sl.stats[binary.BigEndian.Uint32(k)] = decodeStat(v)
					}
					return nil
				})
			}
			if b := tx.Bucket(bInfo); b != nil {
				if v := b.Get(keyMaxSeq); len(v) == 8 {
					sl.maxSeq = binary.BigEndian.Uint64(v)
				}
			}
			return nil
		})
		db.Close()
		if err != nil {
			return fmt.Errorf("logstore: read %s: %w", sl.path, err)
		}
		g.slices[day] = sl
		if sl.maxSeq > g.seq {
			g.seq = sl.maxSeq
		}
	}
	return nil
}

// openSlice opens a slice's DB. The freelist is synced on every commit: an
// append-only store frees almost nothing, so that costs a page per commit,
// while without it bbolt walks and checks every page of the file on each
// open to rebuild the freelist (0.7 s for a 2 GB slice, paid by every
// CLI query). Files written without it are upgraded on their first open.
//
// With readOnly the file is opened with bbolt's ReadOnly (a shared lock,
// waited for at most a second: the data dir's LOCK already keeps writers
// out) and never upgraded.
func openSlice(path string, readOnly bool) (*bolt.DB, error) {
	o := &bolt.Options{FreelistType: bolt.FreelistMapType}
	if readOnly {
		o.ReadOnly, o.Timeout = true, time.Second
	}
	db, err := bolt.Open(path, 0o644, o)
	if err != nil {
		return nil, fmt.Errorf("logstore: open %s: %w", path, err)
	}
	return db, nil
}

// acquire returns g's slice for day with an open DB and a reference the
// caller must release. With create false a missing slice gives nil.
func (s *Store) acquire(g *group, day int64, create bool) (*slice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := g.slices[day]
	if sl == nil {
		if !create {
			return nil, nil
		}
		if err := s.readOnly("create day file"); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(g.dir, 0o755); err != nil {
			return nil, fmt.Errorf("logstore: %w", err)
		}
		sl = &slice{day: day, path: g.slicePath(day), stats: map[uint32]*sliceStat{}}
	}
	if sl.db == nil {
		_, statErr := os.Stat(sl.path)
		isNew := os.IsNotExist(statErr)
		db, err := openSlice(sl.path, s.opts.ReadOnly)
		if err == nil && isNew {
			if ferr := s.fault("open day file"); ferr != nil {
				db.Close()
				db, err = nil, fmt.Errorf("logstore: open %s: %w", sl.path, ferr)
			}
		}
		if err != nil {
			if isNew {
				// bbolt writes a new file's first pages at open: on a
				// full disk a partial file would be left that no later
				// Open of the store could read.
				os.Remove(sl.path)
			}
			return nil, err
		}
		if isNew {
			// The new file's directory entry must be durable before any
			// write in it is acknowledged.
			syncDir(g.dir)
			syncDir(filepath.Dir(g.dir))
			sl.fresh = true
		}
		sl.db = db
		s.open++
	}
	g.slices[day] = sl
	sl.refs++ // before evict, which must not pick this slice
	s.evict()
	s.tick++
	sl.lastUse = s.tick
	return sl, nil
}

// discardFresh removes a day file this process created whose first write
// failed, so the failure leaves no file behind; the caller holds the only
// reference, which it still releases.
func (s *Store) discardFresh(g *group, sl *slice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !sl.fresh || sl.refs != 1 || sl.db == nil || g.slices[sl.day] != sl {
		return
	}
	sl.db.Close()
	sl.db = nil
	s.open--
	delete(g.slices, sl.day)
	os.Remove(sl.path)
	os.Remove(g.dir) // only if that was the group's only day file
}

// release drops a reference taken by acquire.
func (s *Store) release(sl *slice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl.refs--
	if sl.refs == 0 && sl.dead && sl.db != nil {
		sl.db.Close()
		sl.db = nil
		s.open--
		os.Remove(sl.path)
	}
}

// evict closes least recently used idle slices above the open limit; the
// caller holds mu.
func (s *Store) evict() {
	for s.open > s.opts.MaxOpenSlices {
		var lru *slice
		for _, g := range s.groups {
			for _, sl := range g.slices {
				if sl.db != nil && sl.refs == 0 && (lru == nil || sl.lastUse < lru.lastUse) {
					lru = sl
				}
			}
		}
		if lru == nil {
			return
		}
		lru.db.Close()
		lru.db = nil
		s.open--
	}
}

// closeIdle closes the idle slices of a group being removed.
func (s *Store) closeIdle(g *group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sl := range g.slices {
		if sl.refs == 0 && sl.db != nil {
			sl.db.Close()
			sl.db = nil
			s.open--
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Purge deletes the day files that every group's retention has fully
// expired. Expired events in a partly expired day are already hidden from
// reads; they go with their file. Open and PutRetentionPolicy call Purge,
// and Ingest does at most once an hour.
func (s *Store) Purge() error {
	if err := s.readOnly("purge expired events"); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.now()
	s.lastPurge.Store(now)
	var partial []partialPurge
	if err := s.purgeFiles(now, &partial); err != nil {
		return err
	}
	for _, p := range partial {
		if err := s.purgeDay(p.g, p.day, p.cut); err != nil {
			return err
		}
	}
	return nil
}

// partialPurge is a day file that retention has expired only in part.
type partialPurge struct {
	g   *group
	day int64
	cut int64
}

// purgeFiles deletes wholly expired day files and lists the partly expired
// ones; the caller holds wmu.
func (s *Store) purgeFiles(now int64, partial *[]partialPurge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.groups {
		cut := g.cutoff(now)
		if cut <= 0 {
			continue
		}
		for day, sl := range g.slices {
			if (day+1)*dayMs > cut {
				if day*dayMs < cut {
					*partial = append(*partial, partialPurge{g, day, cut})
				}
				continue
			}
			delete(g.slices, day)
			sl.dead = true
			if sl.refs == 0 {
				if sl.db != nil {
					sl.db.Close()
					sl.db = nil
					s.open--
				}
				if err := os.Remove(sl.path); err != nil && !os.IsNotExist(err) {
					return fmt.Errorf("logstore: purge: %w", err)
				}
			}
		}
	}
	return nil
}

// deleteStreamEvents removes one stream's events from one slice; caller holds wmu.
func (s *Store) deleteStreamEvents(g *group, day int64, sid uint32) error {
	sl, err := s.acquire(g, day, false)
	if err != nil || sl == nil {
		return err
	}
	defer s.release(sl)
	var sk [4]byte
	binary.BigEndian.PutUint32(sk[:], sid)
	err = sl.db.Update(func(tx *bolt.Tx) error {
		if err := deleteDelivered(tx, sid); err != nil {
			return err
		}
		ix := tx.Bucket(bIndex)
		if ix == nil || ix.Bucket(sk[:]) == nil {
			return nil
		}
		ev := tx.Bucket(bEvents)
		if err := ix.Bucket(sk[:]).ForEach(func(k, _ []byte) error { return ev.Delete(k) }); err != nil {
			return err
		}
		if err := ix.DeleteBucket(sk[:]); err != nil {
			return err
		}
		return tx.Bucket(bStats).Delete(sk[:])
	})
	if err != nil {
		return fmt.Errorf("logstore: delete stream events: %w", err)
	}
	s.mu.Lock()
	delete(sl.stats, sid)
	s.mu.Unlock()
	return nil
}

// evKey is the 16-byte key of an event: timestamp then per-group sequence,
// both big-endian so byte order is (timestamp, sequence) order.
func evKey(b []byte, ts int64, seq uint64) []byte {
	binary.BigEndian.PutUint64(b[0:], uint64(ts))
	binary.BigEndian.PutUint64(b[8:], seq)
	return b[:16]
}

func keyTs(k []byte) int64   { return int64(binary.BigEndian.Uint64(k)) }
func keySeq(k []byte) uint64 { return binary.BigEndian.Uint64(k[8:]) }

var _ = math.MaxInt64

// purgeDay deletes the events before cut from one day file and corrects the
// stats of the streams they belonged to; the caller holds wmu.
func (s *Store) purgeDay(g *group, day, cut int64) error {
	sl, err := s.acquire(g, day, false)
	if err != nil || sl == nil {
		return err
	}
	defer s.release(sl)
	s.mu.RLock()
	stats := make(map[uint32]*sliceStat, len(sl.stats))
	for sid, st := range sl.stats {
		c := *st
		stats[sid] = &c
	}
	s.mu.RUnlock()
	touched := map[uint32]bool{}
	err = sl.db.Update(func(tx *bolt.Tx) error {
		if err := purgeDelivered(tx, cut); err != nil {
			return err
		}
		ev, ix, stb := tx.Bucket(bEvents), tx.Bucket(bIndex), tx.Bucket(bStats)
		if ev == nil || ix == nil || stb == nil {
			return nil
		}
		var dead [][]byte
		c := ev.Cursor()
		for k, v := c.First(); k != nil && keyTs(k) < cut; k, v = c.Next() {
			if len(v) < 12 {
				continue
			}
			sid := binary.BigEndian.Uint32(v)
			if st := stats[sid]; st != nil {
				st.count--
				st.bytes -= int64(len(v) - 12)
			}
			touched[sid] = true
			dead = append(dead, append(append([]byte(nil), k...), v[:4]...))
		}
		for _, d := range dead {
			if err := ev.Delete(d[:16]); err != nil {
				return err
			}
			if b := ix.Bucket(d[16:20]); b != nil {
				if err := b.Delete(d[:16]); err != nil {
					return err
				}
			}
		}
		for sid := range touched {
			st := stats[sid]
			if st == nil {
				continue
			}
			key := binary.BigEndian.AppendUint32(nil, sid)
			if b := ix.Bucket(key); b != nil {
				if k, _ := b.Cursor().First(); k != nil {
					st.minTs = keyTs(k)
				}
			}
			if st.count <= 0 {
				delete(stats, sid)
				if err := stb.Delete(key); err != nil {
					return err
				}
				continue
			}
			if err := stb.Put(key, st.encode()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logstore: purge %s: %w", sl.path, err)
	}
	s.mu.Lock()
	sl.stats = stats
	s.mu.Unlock()
	return nil
}
