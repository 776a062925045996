package logstore

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// maxPageBytes bounds a GetLogEvents/FilterLogEvents page to 1 MB
// (docs/aws-behaviour.md, "CloudWatch Logs API"), counting each event as its
// message plus EventOverhead.
const maxPageBytes = 1_048_576

// OutputEvent is an event as GetLogEvents returns it.
type OutputEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

// GetInput is GetLogEvents' request. Nil times mean unbounded.
type GetInput struct {
	Group, Stream      string
	StartTime, EndTime *int64 // window StartTime <= timestamp < EndTime
	Limit              int    // 1-10000; 0 means 10000
	StartFromHead      bool
	NextToken          string // "f/..." or "b/..." from a previous page
}

// GetOutput is GetLogEvents' response.
type GetOutput struct {
	Events            []OutputEvent `json:"events"`
	NextForwardToken  string        `json:"nextForwardToken"`
	NextBackwardToken string        `json:"nextBackwardToken"`
}

// GetLogEvents reads one stream a page at a time (docs/aws-behaviour.md,
// "CloudWatch Logs API"): without a token the oldest (StartFromHead) or newest
// Limit events of the window; with "f/K" those strictly after K, with "b/K"
// those strictly before K. Events in a page are ascending.
func (s *Store) GetLogEvents(in GetInput) (GetOutput, error) {
	limit, err := checkLimit(in.Limit, 10_000)
	if err != nil {
		return GetOutput{}, err
	}
	lo, hi := int64(0), int64(math.MaxInt64)
	if in.StartTime != nil {
		lo = max(lo, *in.StartTime)
	}
	if in.EndTime != nil {
		hi = *in.EndTime
	}
	forward := in.StartFromHead
	var pos [16]byte
	if in.NextToken != "" {
		dir, digits, ok := strings.Cut(in.NextToken, "/")
		k, kok := parseEventKey(digits)
		if !ok || !kok || dir != "f" && dir != "b" {
			return GetOutput{}, ErrInvalidToken
		}
		forward, pos = dir == "f", k
	} else if forward {
		evKey(pos[:], lo, 0)
	} else {
		evKey(pos[:], hi, 0)
	}
	g := s.lookup(in.Group)
	if g == nil {
		return GetOutput{}, ErrGroupNotFound
	}
	s.mu.RLock()
	st := g.streams[in.Stream]
	cut := g.cutoff(s.now())
	days := g.days()
	s.mu.RUnlock()
	if st == nil {
		return GetOutput{}, ErrStreamNotFound
	}
	lo = max(lo, cut)
	var evs []OutputEvent
	var first, last [16]byte
	size := 0
	visit := func(k, v []byte) bool {
		ts := keyTs(k)
		if ts < lo || ts >= hi {
			return true // outside the window, keep walking towards it
		}
		if len(evs) == limit || len(evs) > 0 && size+len(v)-12+EventOverhead > maxPageBytes {
			return false
		}
		size += len(v) - 12 + EventOverhead
		evs = append(evs, OutputEvent{Timestamp: ts, IngestionTime: int64(binary.BigEndian.Uint64(v[4:])), Message: string(v[12:])})
		if len(evs) == 1 {
			copy(first[:], k)
		}
		copy(last[:], k)
		return true
	}
	if err := s.walkStream(g, days, st.meta.ID, pos, forward, lo, hi, visit); err != nil {
		return GetOutput{}, err
	}
	out := GetOutput{Events: evs}
	if !forward {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
		}
		first, last = last, first
	}
	if out.Events == nil {
		out.Events = []OutputEvent{}
	}
	if len(evs) == 0 {
		// At an end the token sent comes back, which is how clients stop.
		k := keyString(pos[:])
		out.NextForwardToken, out.NextBackwardToken = "f/"+k, "b/"+k
		if in.NextToken != "" {
			if forward {
				out.NextForwardToken = in.NextToken
			} else {
				out.NextBackwardToken = in.NextToken
			}
		}
		return out, nil
	}
	out.NextForwardToken = "f/" + keyString(last[:])
	out.NextBackwardToken = "b/" + keyString(first[:])
	return out, nil
}

func keyString(k []byte) string { return EventID(keyTs(k), keySeq(k)) }

// walkStream visits one stream's events strictly after (forward) or before
// pos, day by day, until visit returns false. Days outside [lo, hi] are skipped.
func (s *Store) walkStream(g *group, days []int64, sid uint32, pos [16]byte, forward bool, lo, hi int64, visit func(k, v []byte) bool) error {
	var sk [4]byte
	binary.BigEndian.PutUint32(sk[:], sid)
	pday := dayOf(keyTs(pos[:]))
	for n := range days {
		day := days[n]
		if !forward {
			day = days[len(days)-1-n]
		}
		if forward && day < pday || !forward && day > pday || day < dayOf(lo) || hi != math.MaxInt64 && day > dayOf(hi) {
			continue
		}
		sl, err := s.acquire(g, day, false)
		if err != nil {
			return err
		}
		if sl == nil {
			continue
		}
		stop := false
		err = sl.db.View(func(tx *bolt.Tx) error {
			ix, ev := tx.Bucket(bIndex), tx.Bucket(bEvents)
			if ix == nil || ev == nil || ix.Bucket(sk[:]) == nil {
				return nil
			}
			c := ix.Bucket(sk[:]).Cursor()
			var k []byte
			if forward {
				k, _ = c.Seek(pos[:])
				if k != nil && bytes.Equal(k, pos[:]) {
					k, _ = c.Next()
				}
			} else {
				k, _ = c.Seek(pos[:])
				if k == nil {
					k, _ = c.Last()
				} else {
					k, _ = c.Prev()
				}
				for k != nil && bytes.Compare(k, pos[:]) >= 0 {
					k, _ = c.Prev()
				}
			}
			for ; k != nil; k = step(c, forward) {
				ts := keyTs(k)
				if forward && ts >= hi || !forward && ts < lo {
					stop = true
					return nil
				}
				v := ev.Get(k)
				if len(v) < 12 {
					continue
				}
				if !visit(k, v) {
					stop = true
					return nil
				}
			}
			return nil
		})
		s.release(sl)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

func step(c *bolt.Cursor, forward bool) []byte {
	var k []byte
	if forward {
		k, _ = c.Next()
	} else {
		k, _ = c.Prev()
	}
	return k
}

// FilteredEvent is an event as FilterLogEvents returns it.
type FilteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// FilterInput is FilterLogEvents' request.
type FilterInput struct {
	Group        string
	StreamNames  []string // at most 100; unknown names are skipped ([Choice])
	StreamPrefix string
	StartTime    *int64 // window StartTime <= timestamp <= EndTime
	EndTime      *int64
	// Match selects events; nil matches all. Pattern is the text Match was
	// compiled from, used only to tie a nextToken to its request.
	Match      func(msg []byte) bool
	Pattern    string
	Limit      int  // 1-10000; 0 means 10000
	Descending bool // startFromHead=false: newest first; a NextToken's own direction wins
	NextToken  string
	// ScanLimit, when above 0, stops the search after that many events
	// of the window were read, matching or not: the page may then hold
	// fewer than Limit events, even none, and NextToken continues after
	// the last event read. The API reference allows such pages ("can
	// return empty results while there are more log events available
	// through the token"); a reader that must answer quickly (the
	// console) uses it so a rare pattern does not read a whole group.
	ScanLimit int
}

// FilterOutput is FilterLogEvents' response.
type FilterOutput struct {
	Events             []FilteredEvent `json:"events"`
	SearchedLogStreams []struct{}      `json:"searchedLogStreams"`
	NextToken          string          `json:"nextToken,omitempty"`
	// Scanned counts the events of the window read for this page; not
	// part of the API's answer.
	Scanned int64 `json:"-"`
}

// FilterLogEvents searches a group across streams in (timestamp, sequence)
// order, ascending unless Descending (docs/aws-behaviour.md, "CloudWatch Logs
// API"). NextToken is set only when another matching event exists.
func (s *Store) FilterLogEvents(in FilterInput) (FilterOutput, error) {
	if len(in.StreamNames) > 0 && in.StreamPrefix != "" {
		return FilterOutput{}, ErrNamesAndPrefix
	}
	if len(in.StreamNames) > 100 {
		return FilterOutput{}, validationError(violation{strconv.Itoa(len(in.StreamNames)), "logStreamNames", "have length less than or equal to 100"})
	}
	limit, err := checkLimit(in.Limit, 10_000)
	if err != nil {
		return FilterOutput{}, err
	}
	lo, hi := int64(0), int64(math.MaxInt64)
	if in.StartTime != nil {
		lo = max(lo, *in.StartTime)
	}
	if in.EndTime != nil {
		hi = *in.EndTime
	}
	// The direction is not part of the hash: a token carries the
	// direction of the request that issued it, which wins over
	// Descending ("If you provide both nextToken and startFromHead, the
	// direction of the nextToken is used", API reference).
	h := paramHash("fle", in.Group, strings.Join(in.StreamNames, "\x00"), in.StreamPrefix,
		strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10), in.Pattern)
	var pos [16]byte
	havePos := false
	if in.NextToken != "" {
		after, err := decodeToken(in.NextToken, "fle", h, s.now())
		if err != nil {
			return FilterOutput{}, err
		}
		dir, id, _ := strings.Cut(after, "/")
		if pos, havePos = parseEventKey(id); !havePos || dir != "f" && dir != "b" {
			return FilterOutput{}, ErrInvalidToken
		}
		in.Descending = dir == "b"
	}
	if in.Descending && in.StartTime != nil && *in.StartTime < 1_704_067_200_000 {
		return FilterOutput{}, ErrTailBefore2024
	}
	g := s.lookup(in.Group)
	if g == nil {
		return FilterOutput{}, ErrGroupNotFound
	}
	s.mu.RLock()
	lo = max(lo, g.cutoff(s.now()))
	days := g.days()
	var allow map[uint32]bool
	if len(in.StreamNames) > 0 || in.StreamPrefix != "" {
		allow = map[uint32]bool{}
		for _, n := range in.StreamNames {
			if st := g.streams[n]; st != nil {
				allow[st.meta.ID] = true
			}
		}
		if in.StreamPrefix != "" {
			for n, st := range g.streams {
				if strings.HasPrefix(n, in.StreamPrefix) {
					allow[st.meta.ID] = true
				}
			}
		}
	}
	s.mu.RUnlock()
	out := FilterOutput{Events: []FilteredEvent{}, SearchedLogStreams: []struct{}{}}
	if allow != nil && len(allow) == 0 || hi < lo {
		return out, nil
	}
	if !havePos {
		if in.Descending {
			evKey(pos[:], hi, math.MaxUint64)
			if hi == math.MaxInt64 {
				evKey(pos[:], math.MaxInt64, math.MaxUint64)
			}
		} else {
			evKey(pos[:], lo, 0)
		}
	}
	names := s.streamNames(g)
	size := 0
	var last [16]byte
	full := false
	for n := range days {
		day := days[n]
		if in.Descending {
			day = days[len(days)-1-n]
		}
		if day < dayOf(lo) || day > dayOf(hi) || !in.Descending && day < dayOf(keyTs(pos[:])) || in.Descending && day > dayOf(keyTs(pos[:])) {
			continue
		}
		sl, err := s.acquire(g, day, false)
		if err != nil {
			return FilterOutput{}, err
		}
		if sl == nil {
			continue
		}
		done := false
		err = sl.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bEvents)
			if b == nil {
				return nil
			}
			adviseScan(tx)
			c := b.Cursor()
			k, v := c.Seek(pos[:])
			if in.Descending {
				if k == nil {
					k, v = c.Last()
				}
				for k != nil && bytes.Compare(k, pos[:]) >= 0 {
					k, v = c.Prev()
				}
			} else if k != nil && bytes.Equal(k, pos[:]) {
				k, v = c.Next()
			}
			for ; k != nil; k, v = stepKV(c, !in.Descending) {
				ts := keyTs(k)
				if !in.Descending && ts > hi || in.Descending && ts < lo {
					done = true
					return nil
				}
				if ts < lo || ts > hi || len(v) < 12 {
					continue
				}
				if in.ScanLimit > 0 && out.Scanned == int64(in.ScanLimit) {
					full, done = true, true
					return nil
				}
				sid := binary.BigEndian.Uint32(v)
				msg := v[12:]
				if allow != nil && !allow[sid] || in.Match != nil && !in.Match(msg) {
					// Read and passed over: a token continues after it.
					out.Scanned++
					copy(last[:], k)
					continue
				}
				if len(out.Events) == limit || len(out.Events) > 0 && size+len(msg)+EventOverhead > maxPageBytes {
					full, done = true, true
					return nil
				}
				out.Scanned++
				size += len(msg) + EventOverhead
				out.Events = append(out.Events, FilteredEvent{LogStreamName: names(sid), Timestamp: ts, Message: string(msg),
					IngestionTime: int64(binary.BigEndian.Uint64(v[4:])), EventID: keyString(k)})
				copy(last[:], k)
			}
			return nil
		})
		s.release(sl)
		if err != nil {
			return FilterOutput{}, err
		}
		if done {
			break
		}
	}
	if full {
		dir := "f/"
		if in.Descending {
			dir = "b/"
		}
		out.NextToken = encodeToken("fle", dir+keyString(last[:]), h, s.now())
	}
	return out, nil
}

func stepKV(c *bolt.Cursor, forward bool) ([]byte, []byte) {
	if forward {
		return c.Next()
	}
	return c.Prev()
}
