package logstore

import (
	"encoding/binary"
	"errors"
	"hash/crc64"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// A writer that may hand the same events over again (flow-log delivery:
// `vpcflow pcap` run twice over one capture, `vpcflow serve` restarted over
// a replay) names itself, its source, and goes through IngestOnce. Each
// day file then keeps, in bucket bDelivered, what every source delivered
// there: per source, stream and UTC minute of the timestamp, the sorted
// 64-bit hashes of the events (timestamp and message as stored). An event
// is the same as one already delivered when its source, stream, timestamp
// and message are; a batch stores only the events its source has not
// delivered yet, counted per occurrence, so a batch holding a line twice
// stores it twice the first time and never a third time.
//
// The marker is written in the transaction that writes the events it
// describes (a minute never spans two days, so one day file holds both):
// no crash can leave events without their marker or a marker without its
// events. Markers are keyed by minute rather than by capture window
// because every window (60 or 600 s, aligned) is made of whole minutes:
// a minute's events are all of one window, and the store needs no
// interval. Hashes cost 8 bytes per event in the day file; the first
// delivery of a minute reads one missing key and writes one value.

var bDelivered = []byte("dv") // sid (4) | minute start (8, ms) | source → event hashes (8 bytes each)

const minuteMs = 60_000

// errNothingNew rolls back a day's transaction whose events were all
// delivered before: nothing to write, so nothing to sync.
var errNothingNew = errors.New("logstore: every event already delivered")

func deliveredKey(sid uint32, minute int64, source string) []byte {
	k := make([]byte, 0, 12+len(source))
	k = binary.BigEndian.AppendUint32(k, sid)
	k = binary.BigEndian.AppendUint64(k, uint64(minute))
	return append(k, source...)
}

// eventHash is the CRC-64 (ECMA) of the timestamp and the message:
// stable across processes and versions, as the markers outlive them, and
// faster than FNV-1a (99 against 170 ns for a 110-byte line). A CRC tells
// apart every two messages of one length that differ only within 8
// consecutive bytes (one number of a record line), so those never collide;
// others do with probability 2^-64.
func eventHash(ts int64, msg []byte) uint64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(ts))
	return crc64.Update(crc64.Update(0, crcTable, b[:]), crcTable, msg)
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// skipDelivered marks the events of one day's batch that source delivered
// before (dup[n] for idx[n]) and records the others in the day's markers,
// inside the day's write transaction. It returns how many it marked. A
// marker's hashes are kept sorted, so a delivery that continues a minute
// (a window split over two runs) looks each event up in it without
// reading it into a map.
func skipDelivered(tx *bolt.Tx, source string, pend []pending, idx []int, dup []bool) (int, error) {
	dv, err := tx.CreateBucketIfNotExists(bDelivered)
	if err != nil {
		return 0, err
	}
	type part struct {
		sid    uint32
		minute int64
	}
	parts := map[part][]int{} // positions in idx
	var order []part
	for n, i := range idx {
		p := part{pend[i].sid, pend[i].ts - pend[i].ts%minuteMs}
		if parts[p] == nil {
			order = append(order, p)
		}
		parts[p] = append(parts[p], n)
	}
	sort.Slice(order, func(a, b int) bool {
		if order[a].sid != order[b].sid {
			return order[a].sid < order[b].sid
		}
		return order[a].minute < order[b].minute
	})
	dups := 0
	var added []uint64
	for _, p := range order {
		k := deliveredKey(p.sid, p.minute, source)
		old := dv.Get(k)
		nOld := len(old) / 8
		at := func(i int) uint64 { return binary.BigEndian.Uint64(old[8*i:]) }
		var used map[uint64]int // occurrences of a hash in old matched by this batch
		added = added[:0]
		for _, n := range parts[p] {
			e := &pend[idx[n]]
			h := eventHash(e.ts, e.msg)
			if lo := sort.Search(nOld, func(i int) bool { return at(i) >= h }); lo < nOld && at(lo) == h {
				hi := lo + 1
				for hi < nOld && at(hi) == h {
					hi++
				}
				if used == nil {
					used = map[uint64]int{}
				}
				if used[h] < hi-lo {
					used[h]++
					dup[n] = true
					dups++
					continue
				}
			}
			added = append(added, h)
		}
		if len(added) == 0 {
			continue
		}
		slices.Sort(added)
		val := make([]byte, 0, len(old)+8*len(added))
		i := 0
		for _, h := range added { // merge: the value stays sorted
			for ; i < nOld && at(i) <= h; i++ {
				val = binary.BigEndian.AppendUint64(val, at(i))
			}
			val = binary.BigEndian.AppendUint64(val, h)
		}
		val = append(val, old[8*i:8*nOld]...)
		if err := dv.Put(k, val); err != nil {
			return 0, err
		}
	}
	return dups, nil
}

// deleteDelivered removes the markers of stream sid from a day file (the
// stream is deleted: its events are gone, a new delivery is new).
func deleteDelivered(tx *bolt.Tx, sid uint32) error {
	dv := tx.Bucket(bDelivered)
	if dv == nil {
		return nil
	}
	prefix := binary.BigEndian.AppendUint32(nil, sid)
	var dead [][]byte
	c := dv.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) >= 4 && binary.BigEndian.Uint32(k) == sid; k, _ = c.Next() {
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := dv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// purgeDelivered removes the markers of minutes that end at or before cut
// (retention deleted their events): a later delivery of those events,
// under a longer retention, is new again.
func purgeDelivered(tx *bolt.Tx, cut int64) error {
	dv := tx.Bucket(bDelivered)
	if dv == nil {
		return nil
	}
	var dead [][]byte
	err := dv.ForEach(func(k, _ []byte) error {
		if len(k) >= 12 && int64(binary.BigEndian.Uint64(k[4:]))+minuteMs <= cut {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range dead {
		if err := dv.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
