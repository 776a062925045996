package pipeline

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/topology"
)

// Input is one source of frames.
type Input struct {
	// Name identifies the input in errors and status (a file path, "sim").
	Name string
	// Open returns the source; with Loop it is called again at every pass.
	Open func() (capture.Source, error)
	// Speed 0 reads as fast as possible and keeps packet times: windows
	// close on packet time and at the end of the input (batch conversion).
	// A positive Speed paces frames on the pipeline's clock, Speed times
	// faster than recorded, each frame stamped with the clock time it is
	// released at, so records look as if the traffic were live and windows
	// close on the clock even when no packet comes.
	Speed float64
	// Loop starts the input again at its end, continuing its timeline (one
	// second after the last frame of the pass), until the pipeline stops.
	Loop bool
	// Live marks a source that stamps its own frames as they happen (a
	// live interface): it runs on the clock, its timestamps are kept, its
	// Next may answer capture.ErrNotReady, and it ends when the pipeline
	// stops.
	Live bool
	// Grace is how long after a window's end the input's frames may still
	// reach the pipeline (live capture hands frames over a ring block at a
	// time): windows close that long after their end.
	Grace time.Duration
	// ENI, when set, pins every frame of the input to that ENI (see
	// attribute.PacketOn); otherwise frames are attributed by their MAC and
	// IP addresses.
	ENI string
}

// LiveInput captures a network interface (package capture/live). eni, when
// set, pins all its frames to that ENI.
func LiveInput(cfg live.Configuration, eni string) Input {
	return Input{Name: cfg.Interface, Live: true, Grace: cfg.Grace(), ENI: eni, Open: func() (capture.Source, error) {
		s, err := live.New(cfg, live.Dependencies{})
		if err != nil {
			return nil, err
		}
		if err := s.Start(context.Background()); err != nil {
			s.Stop()
			return nil, err
		}
		return s, nil
	}}
}

// FileInput reads a capture file (pcap or pcapng, plain or gzip).
func FileInput(path string, speed float64, loop bool) Input {
	return Input{Name: path, Speed: speed, Loop: loop, Open: func() (capture.Source, error) { return capture.Open(path) }}
}

// loopGap separates the passes of a looped input.
const loopGap = int64(time.Second)

// input is the state of one Input: its source and current frame, with the
// frame's time already moved onto the pipeline's timeline.
type input struct {
	spec   Input
	src    capture.Source
	into   intoSource // src, when it can write its frames in place
	ahead  bool       // read capture files ahead (capture.Reader.ReadAhead)
	fr     capture.Frame
	passes int   // passes started
	first  int64 // first recorded time of the current pass
	last   int64 // latest recorded time seen in the current pass
	off    int64 // recorded time elapsed in earlier passes, gaps included
	origin int64 // timeline time of the input's first frame
	frames uint64
	size   int64 // size of an ended source that knew it, for fraction

	idle    bool         // a live source with no frame waiting: not in the heap
	capture *live.Source // the source, when it is a live capture
	stats   live.Stats   // its counters at the last poll
	ifMAC   [6]byte      // its interface's MAC, for pinned attribution
	pin     *topology.ENI
}

// intoSource is a source that writes a frame in place (capture.Reader):
// advance runs once per frame, and a frame is too big to copy for free.
type intoSource interface {
	NextInto(*capture.Frame) error
}

// maxReadAhead is the most inputs a pipeline reads ahead: each holds a few
// MiB of chunks, and a merge of hundreds of files would hold them all.
const maxReadAhead = 8

// setSource makes src x's source. With x.ahead a capture file is read
// ahead on a goroutine of its own, overlapping the reads with the work on
// its frames on another core.
func (x *input) setSource(src capture.Source) {
	x.src = src
	x.into, _ = src.(intoSource)
	if r, ok := src.(*capture.Reader); ok && x.ahead {
		r.ReadAhead()
	}
}

type sized interface {
	Position() int64
	Size() int64
}

// shift maps a recorded time onto the timeline: packet time itself for the
// first pass of an unpaced input, later passes after it; for a paced input,
// the clock time at which the frame is due.
func (x *input) shift(ts int64) int64 {
	if x.spec.Live {
		return ts
	}
	rel := ts - x.first + x.off
	if x.spec.Speed > 0 {
		return x.origin + int64(float64(rel)/x.spec.Speed)
	}
	return x.origin + rel
}

// inputs merges the inputs by timeline time with a heap of each one's next
// frame. A frame's data stays valid until its input is advanced, which
// happens only after the frame was processed.
type inputs struct {
	h      inputHeap
	all    []*input
	errs   []error
	paced  bool
	origin int64 // clock time of the start (paced inputs)
	// retired are the last counters of live inputs removed while running.
	retired []live.Stats
}

type inputHeap []*input

func (h inputHeap) Len() int           { return len(h) }
func (h inputHeap) Less(i, j int) bool { return h[i].fr.TimestampNanos < h[j].fr.TimestampNanos }
func (h inputHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *inputHeap) Push(x any)        { *h = append(*h, x.(*input)) }
func (h *inputHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// OnClock reports whether a pipeline over these inputs runs on the clock:
// some are paced or live, or there are none (the pipeline idles on the
// clock). Otherwise it runs on packet time.
func OnClock(specs []Input) bool {
	for _, s := range specs {
		if s.onClock() {
			return true
		}
	}
	return len(specs) == 0
}

func (s *Input) onClock() bool { return s.Speed > 0 || s.Live }

// openInputs opens every input and reads its first frame. origin is the
// clock time paced inputs start at; wake is called when a live input has
// frames waiting.
func openInputs(specs []Input, origin int64, wake func()) (*inputs, error) {
	// Without inputs the pipeline idles on the clock: windows still close
	// and flow logs can still be changed, for sources that come later.
	in := &inputs{origin: origin, paced: OnClock(specs)}
	for _, s := range specs {
		if s.Open == nil {
			in.close()
			return nil, fmt.Errorf("input %s: no Open function", s.Name)
		}
		if s.Speed < 0 {
			in.close()
			return nil, fmt.Errorf("input %s: speed %v: want 0 (as fast as possible) or a positive factor", s.Name, s.Speed)
		}
		if s.Live && (s.Loop || s.Speed != 0) {
			in.close()
			return nil, fmt.Errorf("input %s: a live input has no speed and cannot loop", s.Name)
		}
		src, err := s.Open()
		if err != nil {
			in.close()
			return nil, err
		}
		in.all = append(in.all, newInput(s, src, wake, len(specs) <= maxReadAhead))
	}
	for _, x := range in.all {
		if x.spec.onClock() != in.paced {
			in.close()
			return nil, fmt.Errorf("input %s: inputs read as fast as possible (on packet time) cannot be mixed with paced ones (on the clock)", x.spec.Name)
		}
	}
	for _, x := range in.all {
		in.start(x)
	}
	return in, nil
}

// newInput is the state of an opened input; ahead reads it ahead when it
// is a capture file.
func newInput(s Input, src capture.Source, wake func(), ahead bool) *input {
	x := &input{spec: s, passes: 1, ahead: ahead}
	x.setSource(src)
	if c, ok := src.(*live.Source); ok {
		x.capture, x.stats = c, c.Stats()
		if mac := c.HardwareAddr(); len(mac) == 6 {
			x.ifMAC = [6]byte(mac)
		}
		c.Notify(wake)
	}
	return x
}

// start reads the first frame of x's current pass and queues it.
func (in *inputs) start(x *input) {
	fr, err := x.src.Next()
	if errors.Is(err, capture.ErrNotReady) {
		x.idle = true
		return
	}
	if err != nil {
		in.fail(x, err)
		return
	}
	if x.passes == 1 {
		x.origin = fr.TimestampNanos
		if x.spec.Speed > 0 {
			x.origin = in.origin
		}
	}
	x.first, x.last = fr.TimestampNanos, fr.TimestampNanos
	in.queue(x, fr)
}

func (in *inputs) queue(x *input, fr capture.Frame) {
	x.last = max(x.last, fr.TimestampNanos)
	fr.TimestampNanos = x.shift(fr.TimestampNanos)
	x.fr = fr
	x.frames++
	heap.Push(&in.h, x)
}

// fail ends x: a read error is kept for the summary, io.EOF is the end of a
// pass, after which a looping input starts over (unless the pass was empty).
func (in *inputs) fail(x *input, err error) {
	if err != io.EOF {
		in.errs = append(in.errs, err)
	}
	if r, ok := x.src.(sized); ok {
		x.size = r.Size()
	}
	x.src.Close()
	x.src, x.into = nil, nil
	if err != io.EOF || !x.spec.Loop || x.frames == 0 {
		return
	}
	src, err := x.spec.Open()
	if err != nil {
		in.errs = append(in.errs, err)
		return
	}
	x.off += x.last - x.first + loopGap
	x.setSource(src)
	x.passes++
	x.frames = 0
	in.start(x)
}

// top returns the earliest pending frame.
func (in *inputs) top() (*capture.Frame, bool) {
	if len(in.h) == 0 {
		return nil, false
	}
	return &in.h[0].fr, true
}

// topInput returns the input of the earliest pending frame.
func (in *inputs) topInput() *input { return in.h[0] }

// refill queues the next frame of every idle live input that has one.
func (in *inputs) refill() {
	for _, x := range in.all {
		if !x.idle || x.src == nil {
			continue
		}
		fr, err := x.src.Next()
		if errors.Is(err, capture.ErrNotReady) {
			continue
		}
		x.idle = false
		if err != nil {
			in.fail(x, err)
			continue
		}
		in.queue(x, fr)
	}
}

// liveRunning reports whether some live input has not ended yet.
func (in *inputs) liveRunning() bool {
	for _, x := range in.all {
		if x.spec.Live && x.src != nil {
			return true
		}
	}
	return false
}

// advance replaces the earliest frame with the next frame of its input.
//
// The heap is only touched when the input loses its place: a single input
// never does, and with several the next frame usually still comes first
// (captures interleave in runs), so the merge costs one compare per frame
// and a heap operation per run. The test is heap.Fix's own: the top stays
// unless a child is strictly earlier, so ties keep the order they had.
func (in *inputs) advance() {
	x := in.h[0]
	var err error
	if x.into != nil {
		err = x.into.NextInto(&x.fr) // x leaves the heap on an error
	} else {
		x.fr, err = x.src.Next()
	}
	if err != nil {
		heap.Pop(&in.h)
		if errors.Is(err, capture.ErrNotReady) {
			x.idle = true
			return
		}
		in.fail(x, err)
		return
	}
	ts := x.fr.TimestampNanos
	x.last = max(x.last, ts)
	ts = x.shift(ts)
	x.fr.TimestampNanos = ts
	if h := in.h; len(h) > 1 && (h[1].fr.TimestampNanos < ts || len(h) > 2 && h[2].fr.TimestampNanos < ts) {
		heap.Fix(&in.h, 0)
	}
}

func (in *inputs) close() {
	for _, x := range in.all {
		if x.src != nil {
			x.src.Close()
			x.src, x.into = nil, nil
		}
		if x.capture != nil {
			x.stats = x.capture.Stats() // the last poll, made by Close
		}
	}
}

// fraction is the share of the input bytes read, 0..1, or -1 when a source
// does not know its size.
func (in *inputs) fraction() float64 {
	var pos, size int64
	for _, x := range in.all {
		if x.spec.Loop {
			return -1
		}
		if x.src == nil {
			pos, size = pos+x.size, size+x.size
			continue
		}
		r, ok := x.src.(sized)
		if !ok || r.Size() <= 0 {
			return -1
		}
		pos += r.Position()
		size += r.Size()
	}
	if size == 0 {
		return -1
	}
	return min(1, float64(pos)/float64(size))
}
