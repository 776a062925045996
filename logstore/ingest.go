package logstore

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Limits of PutLogEvents (docs/aws-behaviour.md, "Log groups, streams and
// events" and "PutLogEvents").
const (
	MaxBatchEvents  = 10_000
	MaxBatchBytes   = 1_048_576
	EventOverhead   = 26 // bytes counted per event on top of its message
	MaxMessageBytes = MaxBatchBytes - EventOverhead
	maxFuture       = 2 * 3_600_000
	maxPast         = 14 * dayMs
	maxSpan         = dayMs
)

// InputEvent is one event for the internal ingestion path.
type InputEvent struct {
	Stream    string
	Timestamp int64 // ms
	Message   []byte
}

// IngestResult says what Ingest did with a batch.
type IngestResult struct {
	Stored        int
	Invalid       int   // bad stream name, negative timestamp, empty or oversized message
	Expired       int   // older than the group's retention
	Replaced      int   // stored events whose message had invalid UTF-8, stored with U+FFFD in its place
	IngestionTime int64 // ms, the same for the whole batch
	// Duplicates are the indexes in the batch, ascending, of the events
	// IngestOnce did not store because their source had delivered them
	// already (same stream, timestamp and message); nil for Ingest.
	Duplicates []int
}

// ValidateEvent checks one event against AWS's event rules: timestamp >= 0 and
// a non-empty message of at most MaxMessageBytes bytes.
func ValidateEvent(ts int64, msg []byte) error {
	switch {
	case ts < 0:
		return fmt.Errorf("timestamp %d is negative", ts)
	case len(msg) == 0:
		return fmt.Errorf("message is empty")
	case len(msg) > MaxMessageBytes:
		return fmt.Errorf("message is %d bytes, more than %d", len(msg), MaxMessageBytes)
	}
	return nil
}

// Ingest is the internal ingestion path (flow-log delivery, `logs put`): it
// keeps the events' own timestamps, skips the API's batch and age limits,
// and creates the group (never expiring) and streams as needed. Events in any
// order and of any span are accepted. Invalid events and events the group's
// retention has already expired are skipped and counted, never fatal; the
// batch is durable when Ingest returns without error.
func (s *Store) Ingest(groupName string, evs []InputEvent) (IngestResult, error) {
	return s.ingest(groupName, "", evs)
}

// IngestOnce is Ingest for a writer that may hand the same events over
// again, such as flow-log delivery when a capture is converted twice or a
// service restarts over a replay: source names the writer (a flow log id),
// and an event that source already delivered to the group (same stream,
// timestamp and message) is not stored again. Each occurrence counts: a
// batch holding an event twice stores it twice the first time. The events
// skipped are listed in IngestResult.Duplicates and counted in Counters;
// what the source delivered is recorded with the events, in the same
// transaction (once.go).
func (s *Store) IngestOnce(groupName, source string, evs []InputEvent) (IngestResult, error) {
	if source == "" {
		return IngestResult{}, fmt.Errorf("logstore: IngestOnce needs a source")
	}
	return s.ingest(groupName, source, evs)
}

func (s *Store) ingest(groupName, source string, evs []InputEvent) (IngestResult, error) {
	if err := s.readOnly("ingest events"); err != nil {
		return IngestResult{}, err
	}
	if err := ValidateGroupName(groupName); err != nil {
		return IngestResult{}, err
	}
	// Long-running writers (delivery) purge as they go.
	if s.now()-s.lastPurge.Load() >= purgeEvery {
		if err := s.Purge(); err != nil {
			return IngestResult{}, err
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(groupName)
	newGroup := g == nil
	if newGroup {
		var err error
		if g, err = s.createGroup(groupName, GroupOptions{}); err != nil {
			return IngestResult{}, &IngestError{Group: groupName, Err: err}
		}
	}
	res := IngestResult{IngestionTime: s.now()}
	var newNames []string
	seen := map[string]bool{}
	for i := range evs {
		n := evs[i].Stream
		if g.streams[n] == nil && !seen[n] && ValidateStreamName(n) == nil {
			seen[n] = true
			newNames = append(newNames, n)
		}
	}
	if len(newNames) > 0 {
		if err := s.createStreams(g, newNames); err != nil {
			return IngestResult{}, s.undoIngest(g, newGroup, nil, err)
		}
	}
	cut := g.cutoff(res.IngestionTime)
	pend := make([]pending, 0, len(evs))
	var lastName string
	var lastSID uint32
	haveLast := false
	for i := range evs {
		e := &evs[i]
		// Limits apply to the message as stored.
		msg, replaced := NormalizeMessage(e.Message)
		if ValidateEvent(e.Timestamp, msg) != nil {
			res.Invalid++
			continue
		}
		if !haveLast || e.Stream != lastName {
			st := g.streams[e.Stream]
			if st == nil {
				res.Invalid++
				continue
			}
			lastName, lastSID, haveLast = e.Stream, st.meta.ID, true
		}
		if e.Timestamp < cut {
			res.Expired++
			continue
		}
		pend = append(pend, pending{sid: lastSID, ts: e.Timestamp, msg: msg, replaced: replaced, at: i})
	}
	s.stats.invalid.Add(uint64(res.Invalid))
	s.stats.expired.Add(uint64(res.Expired))
	n, err := s.write(g, pend, res.IngestionTime, source)
	res.Stored, res.Replaced = n.stored, n.replaced
	for _, i := range n.dups {
		res.Duplicates = append(res.Duplicates, pend[i].at)
	}
	sort.Ints(res.Duplicates)
	if err != nil {
		if n.stored > 0 {
			// Whole days were committed: they stay, and the error says so.
			return res, &IngestError{Group: groupName, Stored: n.stored, Err: err}
		}
		return res, s.undoIngest(g, newGroup, newNames, err)
	}
	return res, nil
}

// IngestError is Ingest's error when the batch could not be stored. A
// failed Ingest leaves no trace, or says exactly what it left: Stored
// events (the batch's first days, each committed whole before the failure)
// and, when removing them failed too, the group or streams it had created
// for the batch (Left).
type IngestError struct {
	Group  string
	Stored int      // events of the batch stored before the failure
	Left   []string // "log group G" or "log stream S": created for the batch, left empty
	Err    error
}

func (e *IngestError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "logstore: store events in %s: %v", e.Group, e.Err)
	if e.Stored > 0 {
		fmt.Fprintf(&b, "; %d events of the batch (its earliest days) were stored before the failure", e.Stored)
	}
	if len(e.Left) > 0 {
		fmt.Fprintf(&b, "; created for the batch and left empty: %s", strings.Join(e.Left, ", "))
	} else if e.Stored == 0 {
		b.WriteString("; nothing was stored")
	}
	return b.String()
}

func (e *IngestError) Unwrap() error { return e.Err }

// undoIngest removes what a failed Ingest created before storing anything:
// the group (when Ingest created it) or the new streams, in one meta.db
// transaction. What it cannot remove is named in the error. The caller
// holds wmu.
func (s *Store) undoIngest(g *group, newGroup bool, streams []string, cause error) error {
	ie := &IngestError{Group: g.name, Err: cause}
	if !newGroup && len(streams) == 0 {
		return ie
	}
	var made []string
	if !newGroup {
		s.mu.RLock()
		for _, n := range streams {
			if g.streams[n] != nil {
				made = append(made, n)
			}
		}
		s.mu.RUnlock()
		if len(made) == 0 {
			return ie
		}
	}
	err := s.meta.Update(func(tx *bolt.Tx) error {
		if err := s.fault("undo"); err != nil {
			return err
		}
		sb := tx.Bucket(bStreams)
		if newGroup {
			if err := tx.Bucket(bGroups).Delete([]byte(g.name)); err != nil {
				return err
			}
			if sb.Bucket(u64(g.meta.ID)) != nil {
				return sb.DeleteBucket(u64(g.meta.ID))
			}
			return nil
		}
		b := sb.Bucket(u64(g.meta.ID))
		if b == nil {
			return nil
		}
		for _, n := range made {
			if err := b.Delete([]byte(n)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if newGroup {
			ie.Left = append(ie.Left, "log group "+g.name)
		} else {
			for _, n := range made {
				ie.Left = append(ie.Left, "log stream "+n)
			}
		}
		ie.Err = fmt.Errorf("%w (undoing it failed too: %v)", cause, err)
		return ie
	}
	s.mu.Lock()
	if newGroup {
		delete(s.groups, g.name)
		for _, sl := range g.slices {
			sl.dead = true
		}
	} else {
		for _, n := range made {
			if st := g.streams[n]; st != nil {
				delete(g.byID, st.meta.ID)
				delete(g.streams, n)
			}
		}
	}
	s.mu.Unlock()
	if newGroup {
		s.closeIdle(g)
		os.RemoveAll(g.dir)
	}
	return ie
}

type pending struct {
	sid      uint32
	ts       int64
	msg      []byte
	replaced bool // msg is the normalized form of the writer's message
	at       int  // index in the writer's batch
}

// written counts what write stored.
type written struct {
	stored   int
	replaced int   // stored events with a normalized message
	dups     []int // indexes in pend of events their source had delivered (IngestOnce)
}

// write stores events in their day slices, one fsync'd transaction per day
// in day order, and returns what it stored: on an error, the events of the
// days before the failing one. With a source (IngestOnce), events that
// source delivered before are skipped and listed. The caller holds wmu.
func (s *Store) write(g *group, pend []pending, ingest int64, source string) (written, error) {
	var n written
	if len(pend) == 0 {
		return n, nil
	}
	// Group by day, keeping request order within a day so equal timestamps
	// keep their order through the sequence numbers.
	byDay := map[int64][]int{}
	for i := range pend {
		d := dayOf(pend[i].ts)
		byDay[d] = append(byDay[d], i)
	}
	days := make([]int64, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	var err error
	for _, d := range days {
		var dup []bool
		if source != "" {
			dup = make([]bool, len(byDay[d]))
		}
		if err = s.writeDay(g, d, pend, byDay[d], ingest, source, dup); err != nil {
			break
		}
		for j, i := range byDay[d] {
			if dup != nil && dup[j] {
				n.dups = append(n.dups, i)
				continue
			}
			n.stored++
			if pend[i].replaced {
				n.replaced++
			}
		}
	}
	s.stats.ingested.Add(uint64(n.stored))
	s.stats.replaced.Add(uint64(n.replaced))
	s.stats.duplicates.Add(uint64(len(n.dups)))
	return n, err
}

// writeDay stores the events idx of pend in the day's slice in one
// transaction. With a source, dup (one entry per idx) comes back marking
// the events that source delivered before, which are not stored; when it
// delivered them all, nothing is written.
func (s *Store) writeDay(g *group, day int64, pend []pending, idx []int, ingest int64, source string, dup []bool) error {
	sl, err := s.acquire(g, day, true)
	if err != nil {
		return err
	}
	defer s.release(sl)
	seq := g.seq
	if sl.maxSeq > seq {
		seq = sl.maxSeq
	}
	delta := map[uint32]*sliceStat{}
	var sk [4]byte
	// bbolt keeps references to keys and values until the transaction
	// ends, so they come from one arena rather than a reused buffer.
	need := 0
	for _, i := range idx {
		need += 16 + 12 + len(pend[i].msg)
	}
	arena := make([]byte, 0, need)
	err = sl.db.Update(func(tx *bolt.Tx) error {
		if err := s.fault("write day file"); err != nil {
			return err
		}
		ev, err := tx.CreateBucketIfNotExists(bEvents)
		if err != nil {
			return err
		}
		ev.FillPercent = 0.9
		ix, err := tx.CreateBucketIfNotExists(bIndex)
		if err != nil {
			return err
		}
		stb, err := tx.CreateBucketIfNotExists(bStats)
		if err != nil {
			return err
		}
		info, err := tx.CreateBucketIfNotExists(bInfo)
		if err != nil {
			return err
		}
		if source != "" {
			dups, err := skipDelivered(tx, source, pend, idx, dup, seq+1)
			if err != nil {
				return err
			}
			if dups == len(idx) {
				return errNothingNew
			}
		}
		var sb *bolt.Bucket
		var sbID uint32
		q := seq
		minTs, maxTs := int64(math.MaxInt64), int64(math.MinInt64)
		for n, i := range idx {
			if dup != nil && dup[n] {
				continue
			}
			p := &pend[i]
			q++
			minTs, maxTs = min(minTs, p.ts), max(maxTs, p.ts)
			o := len(arena)
			arena = binary.BigEndian.AppendUint64(arena, uint64(p.ts))
			arena = binary.BigEndian.AppendUint64(arena, q)
			arena = binary.BigEndian.AppendUint32(arena, p.sid)
			arena = binary.BigEndian.AppendUint64(arena, uint64(ingest))
			arena = append(arena, p.msg...)
			k, val := arena[o:o+16:o+16], arena[o+16:]
			if err := ev.Put(k, val); err != nil {
				return err
			}
			if sb == nil || sbID != p.sid {
				binary.BigEndian.PutUint32(sk[:], p.sid)
				if sb, err = ix.CreateBucketIfNotExists(sk[:]); err != nil {
					return err
				}
				sb.FillPercent = 0.9
				sbID = p.sid
			}
			if err := sb.Put(k, nil); err != nil {
				return err
			}
			d := delta[p.sid]
			if d == nil {
				d = &sliceStat{}
				if old := sl.stats[p.sid]; old != nil {
					*d = *old
				}
				delta[p.sid] = d
			}
			d.add(p.ts, int64(len(p.msg)), ingest)
		}
		for sid, d := range delta {
			if err := stb.Put(binary.BigEndian.AppendUint32(nil, sid), d.encode()); err != nil {
				return err
			}
		}
		bt, err := tx.CreateBucketIfNotExists(bBatches)
		if err != nil {
			return err
		}
		if err := bt.Put(batchRecord(seq+1, q, minTs, maxTs)); err != nil {
			return err
		}
		seq = q
		return info.Put(keyMaxSeq, u64(q))
	})
	if err == errNothingNew {
		// Rolled back: the day file is as it was, and no event is new.
		s.discardFresh(g, sl)
		return nil
	}
	if err != nil {
		s.discardFresh(g, sl)
		return fmt.Errorf("logstore: write %s: %w", sl.path, err)
	}
	s.mu.Lock()
	sl.fresh = false
	for sid, d := range delta {
		sl.stats[sid] = d
	}
	sl.maxSeq = seq
	g.seq = seq
	s.mu.Unlock()
	s.stats.batches.Add(1)
	return nil
}

// PutEvent is one event of a PutLogEvents request.
type PutEvent struct {
	Timestamp int64  `json:"timestamp"`
	Message   string `json:"message"`
}

// RejectedInfo is PutLogEvents' rejectedLogEventsInfo: only the members that
// apply are set (docs/aws-behaviour.md, "PutLogEvents").
type RejectedInfo struct {
	TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
	ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
	TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
}

// PutResult is the PutLogEvents response.
type PutResult struct {
	NextSequenceToken     string        `json:"nextSequenceToken"`
	RejectedLogEventsInfo *RejectedInfo `json:"rejectedLogEventsInfo,omitempty"`
}

// PutLogEvents is the API-facing ingestion path: it applies the acceptance
// algorithm of docs/aws-behaviour.md, "PutLogEvents" exactly (shape, missing
// group/stream, batch size, chronological order, too old/too new/expired, 24 h
// span). Rejected events are reported in RejectedLogEventsInfo and counted in
// Counters.
func (s *Store) PutLogEvents(groupName, streamName string, evs []PutEvent) (PutResult, error) {
	if err := s.readOnly("put log events"); err != nil {
		return PutResult{}, err
	}
	var vs []violation
	if err := ValidateGroupName(groupName); err != nil {
		return PutResult{}, err
	}
	if err := ValidateStreamName(streamName); err != nil {
		return PutResult{}, err
	}
	switch {
	case len(evs) < 1:
		vs = append(vs, violation{"[]", "logEvents", "have length greater than or equal to 1"})
	case len(evs) > MaxBatchEvents:
		vs = append(vs, violation{fmt.Sprintf("[%d events]", len(evs)), "logEvents", "have length less than or equal to 10000"})
	}
	// Like AWS, name a bounded number of violations rather than one per event.
	for i := 0; i < len(evs) && len(vs) < 10; i++ {
		if len(evs[i].Message) < 1 {
			vs = append(vs, violation{"", "logEvents." + strconv.Itoa(i+1) + ".member.message", "have length greater than or equal to 1"})
		}
		if evs[i].Timestamp < 0 {
			vs = append(vs, violation{strconv.FormatInt(evs[i].Timestamp, 10), "logEvents." + strconv.Itoa(i+1) + ".member.timestamp", "have value greater than or equal to 0"})
		}
	}
	if len(vs) > 0 {
		return PutResult{}, validationError(vs...)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(groupName)
	if g == nil {
		return PutResult{}, ErrGroupNotFound
	}
	st := g.streams[streamName]
	if st == nil {
		return PutResult{}, ErrStreamNotFound
	}
	// The size limit applies to the messages as stored (NormalizeMessage).
	msgs := make([]string, len(evs))
	replaced := make([]bool, len(evs))
	total := 0
	for i := range evs {
		msgs[i], replaced[i] = NormalizeString(evs[i].Message)
		total += len(msgs[i]) + EventOverhead
	}
	if total > MaxBatchBytes {
		return PutResult{}, &APIError{CodeInvalidParameter, fmt.Sprintf("Upload too large: %d bytes exceeds limit of %d", total, MaxBatchBytes)}
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Timestamp < evs[i-1].Timestamp {
			return PutResult{}, ErrNotChronological
		}
	}
	now := s.now()
	cut := g.cutoff(now)
	tooOld, expired, tooNew := 0, 0, len(evs)
	for i := range evs {
		ts := evs[i].Timestamp
		if ts < now-maxPast && tooOld == i {
			tooOld++
		}
		if ts < cut && expired == i {
			expired++
		}
		if ts > now+maxFuture && tooNew == len(evs) {
			tooNew = i
		}
	}
	var rej *RejectedInfo
	if tooOld > 0 || expired > 0 || tooNew < len(evs) {
		rej = &RejectedInfo{}
		if tooOld > 0 {
			rej.TooOldLogEventEndIndex = &tooOld
		}
		if expired > 0 {
			rej.ExpiredLogEventEndIndex = &expired
		}
		if tooNew < len(evs) {
			rej.TooNewLogEventStartIndex = &tooNew
		}
	}
	from := max(tooOld, expired)
	to := max(tooNew, from)
	keep := evs[from:to]
	if len(keep) > 0 && keep[len(keep)-1].Timestamp-keep[0].Timestamp > maxSpan {
		return PutResult{}, ErrSpanTooLong
	}
	// Count each rejected event once, under its first reason.
	s.stats.tooOld.Add(uint64(tooOld))
	s.stats.expired.Add(uint64(from - tooOld))
	s.stats.tooNew.Add(uint64(len(evs) - to))
	pend := make([]pending, len(keep))
	for i := range keep {
		pend[i] = pending{sid: st.meta.ID, ts: keep[i].Timestamp, msg: []byte(msgs[from+i]), replaced: replaced[from+i]}
	}
	if n, err := s.write(g, pend, now, ""); err != nil {
		msg := err.Error()
		if n.stored > 0 {
			msg += fmt.Sprintf("; %d events of the batch (its earliest day) were stored before the failure", n.stored)
		}
		return PutResult{}, &APIError{CodeServiceUnavailable, msg}
	}
	s.mu.RLock()
	tok := s.streamInfo(g, st).UploadSequenceToken
	s.mu.RUnlock()
	return PutResult{NextSequenceToken: tok, RejectedLogEventsInfo: rej}, nil
}
