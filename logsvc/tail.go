package logsvc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/logstore"
)

// TailInput says what Tail and Follow read, as `aws logs tail` takes it.
type TailInput struct {
	LogGroupName  string
	FilterPattern string // empty matches every event
	StartTime     *int64 // ms: only events at or after it (--since); nil: all
	// Lines is how many of the newest events Tail returns, 1 to 10,000;
	// 0 means 10.
	Lines int
	// Interval is how often Follow looks for new events; 0 means 1 s.
	Interval time.Duration
}

func (in *TailInput) defaults() error {
	switch {
	case in.Lines == 0:
		in.Lines = 10
	case in.Lines < 1 || in.Lines > 10_000:
		return invalidParameter(strconv.Itoa(in.Lines), "lines", "have value between 1 and 10000")
	}
	if in.Interval <= 0 {
		in.Interval = time.Second
	}
	return nil
}

// follower remembers the last event delivered, so each poll delivers only
// what is newer: strictly after it in (timestamp, eventId) order. Events
// stored later with an older timestamp are therefore not delivered.
type follower struct {
	in     TailInput
	match  func([]byte) bool
	lastTs int64 // -1: nothing delivered
	lastID string
}

func newFollower(in TailInput) (*follower, error) {
	if err := in.defaults(); err != nil {
		return nil, err
	}
	match, err := compilePattern(in.FilterPattern)
	if err != nil {
		return nil, err
	}
	f := &follower{in: in, match: match, lastTs: -1}
	if in.StartTime != nil {
		f.lastTs = *in.StartTime - 1
	}
	return f, nil
}

// tail reads the newest Lines events, oldest first.
func (f *follower) tail(s *Service) ([]logstore.FilteredEvent, error) {
	in := f.in
	out, err := s.store.FilterLogEvents(logstore.FilterInput{Group: in.LogGroupName, Match: f.match, Pattern: in.FilterPattern,
		Limit: in.Lines, Descending: true, StartTime: in.StartTime})
	if errors.Is(err, logstore.ErrTailBefore2024) {
		out, err = f.tailAscending(s)
	}
	if err != nil {
		return nil, err
	}
	evs := out.Events
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	f.delivered(evs)
	return evs, nil
}

// tailAscending finds the newest events when FilterLogEvents refuses to
// read backwards from before 2024 (an AWS rule the store keeps): it reads
// the window forwards and keeps the last Lines, newest first as the
// descending read would give them.
func (f *follower) tailAscending(s *Service) (logstore.FilterOutput, error) {
	var ring []logstore.FilteredEvent
	tok := ""
	for {
		o, err := s.store.FilterLogEvents(logstore.FilterInput{Group: f.in.LogGroupName, Match: f.match, Pattern: f.in.FilterPattern,
			StartTime: f.in.StartTime, NextToken: tok})
		if err != nil {
			return o, err
		}
		ring = append(ring, o.Events...)
		if len(ring) > f.in.Lines {
			ring = append(ring[:0:0], ring[len(ring)-f.in.Lines:]...)
		}
		if tok = o.NextToken; tok == "" {
			break
		}
	}
	for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
		ring[i], ring[j] = ring[j], ring[i]
	}
	return logstore.FilterOutput{Events: ring}, nil
}

// poll reads the events stored since the last one delivered.
func (f *follower) poll(s *Service) ([]logstore.FilteredEvent, error) {
	from := max(f.lastTs, 0)
	var fresh []logstore.FilteredEvent
	tok := ""
	for {
		o, err := s.store.FilterLogEvents(logstore.FilterInput{Group: f.in.LogGroupName, Match: f.match, Pattern: f.in.FilterPattern,
			StartTime: &from, NextToken: tok})
		if err != nil {
			return nil, err
		}
		for _, e := range o.Events {
			if e.Timestamp > f.lastTs || e.Timestamp == f.lastTs && e.EventID > f.lastID {
				fresh = append(fresh, e)
			}
		}
		if tok = o.NextToken; tok == "" {
			break
		}
	}
	f.delivered(fresh)
	return fresh, nil
}

func (f *follower) delivered(evs []logstore.FilteredEvent) {
	if n := len(evs); n > 0 {
		f.lastTs, f.lastID = evs[n-1].Timestamp, evs[n-1].EventID
	}
}

func deliver(evs []logstore.FilteredEvent, fn func(logstore.FilteredEvent) error) error {
	for _, e := range evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Tail returns the newest in.Lines events of the group (at or after
// in.StartTime), oldest first.
func (s *Service) Tail(in TailInput) ([]logstore.FilteredEvent, error) {
	f, err := newFollower(in)
	if err != nil {
		return nil, err
	}
	return f.tail(s)
}

// Follow calls fn with Tail's events, then with every newer event as it
// is stored, looking every in.Interval, until ctx is done (it then returns
// nil) or a read or fn fails.
func (s *Service) Follow(ctx context.Context, in TailInput, fn func(logstore.FilteredEvent) error) error {
	f, err := newFollower(in)
	if err != nil {
		return err
	}
	evs, err := f.tail(s)
	if err != nil {
		return err
	}
	if err := deliver(evs, fn); err != nil {
		return err
	}
	t := time.NewTicker(f.in.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		evs, err := f.poll(s)
		if err != nil {
			return err
		}
		if err := deliver(evs, fn); err != nil {
			return err
		}
	}
}

// FollowDir is Follow for a process that does not own the data dir: it
// opens dir (which must exist) for each look and closes it in between, so
// that other processes can write to it meanwhile. A look that finds the
// data dir in use is tried again at the next one; the first read is not
// retried. (A server owns its data dir for good: follow it through its API.)
func FollowDir(ctx context.Context, dir string, opts Options, in TailInput, fn func(logstore.FilteredEvent) error) error {
	f, err := newFollower(in)
	if err != nil {
		return err
	}
	opts.MustExist = true
	look := func(read func(*follower, *Service) ([]logstore.FilteredEvent, error)) ([]logstore.FilteredEvent, error) {
		s, err := Open(dir, opts)
		if err != nil {
			return nil, err
		}
		defer s.Close()
		return read(f, s)
	}
	evs, err := look((*follower).tail)
	if err != nil {
		return err
	}
	if err := deliver(evs, fn); err != nil {
		return err
	}
	t := time.NewTicker(f.in.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		evs, err := look((*follower).poll)
		var inUse *logstore.InUseError
		if errors.As(err, &inUse) {
			continue
		}
		if err != nil {
			return err
		}
		if err := deliver(evs, fn); err != nil {
			return err
		}
	}
}

// ParseTime reads a time as vpcflow's commands take it: epoch seconds (as
// StartQuery), epoch milliseconds when the number is above 10^10, or an
// RFC 3339 time. It returns epoch milliseconds.
func ParseTime(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty time")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n < 0:
			return 0, fmt.Errorf("time %q is before 1970", s)
		case n > 10_000_000_000:
			return n, nil
		default:
			return n * 1000, nil
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("time %q: want epoch seconds, epoch milliseconds or RFC 3339 (2006-01-02T15:04:05Z)", s)
	}
	if t.Before(time.Unix(0, 0)) {
		return 0, fmt.Errorf("time %q is before 1970", s)
	}
	return t.UnixMilli(), nil
}

// ParseSince reads the start of a tail (`aws logs tail --since`): a
// duration back from now (10m, 2h) or a time as ParseTime reads it. It
// returns epoch milliseconds.
func ParseSince(s string, now time.Time) (int64, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return now.Add(-d).UnixMilli(), nil
	}
	return ParseTime(s)
}
