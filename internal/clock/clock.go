// Package clock is the time source of the running service: the wall clock in
// production, a fake one in tests.
//
// It exists because capture windows of continuous sources (paced replays,
// the simulator, live capture) close on the clock even when no packet
// arrives; tests must move that clock by hand to check that windows close
// on time, without sleeping through real minutes.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and wakes a waiter at a given time.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once, at or after Now()+d,
	// and a stop function (true if it stopped the timer before it fired).
	NewTimer(d time.Duration) (<-chan time.Time, func() bool)
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (Real) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// Fake is a clock that moves only when told to. The zero value starts at
// the zero time; use NewFake for a given start.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	waiters int           // timers created and not yet fired or stopped
	changed chan struct{} // closed and replaced whenever a timer is created
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

// NewFake returns a fake clock at start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer registers a timer that fires when Advance passes its time.
func (f *Fake) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.now
	} else {
		f.timers = append(f.timers, t)
		f.waiters++
	}
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
	return t.c, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for i, x := range f.timers {
			if x == t {
				f.timers = append(f.timers[:i], f.timers[i+1:]...)
				f.waiters--
				return true
			}
		}
		return false
	}
}

// Advance moves the clock forward by d, firing every timer due on the way in
// time order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].at.Before(f.timers[j].at) })
	keep := f.timers[:0]
	for _, t := range f.timers {
		if t.at.After(f.now) {
			keep = append(keep, t)
			continue
		}
		t.c <- t.at
		f.waiters--
	}
	f.timers = keep
}

// Waiters is the number of timers waiting to fire.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.waiters
}

// WaitForTimer blocks until some goroutine is waiting on a timer of this
// clock or the timeout passes, so a test knows that the code under test has
// gone to sleep before it moves the clock. It reports whether a timer is
// waiting.
func (f *Fake) WaitForTimer(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		f.mu.Lock()
		if f.waiters > 0 {
			f.mu.Unlock()
			return true
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-ch:
		case <-time.After(left):
		}
	}
}
