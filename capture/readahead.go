package capture

import "io"

// Read-ahead overlaps the reads of a capture file (the system calls, the
// copy out of the page cache, gzip decompression) with the work the
// consumer does on the frames, on another core. The stream is read into a
// few chunks in rotation; records are sliced out of the chunk at hand as
// from the single buffer, and the part of a record that runs into the next
// chunk is copied in front of it, into room left there for that.
//
// A chunk of 1 MiB costs the same per frame as larger ones (smaller ones a
// little more); three of them, with their headroom, are 3.2 MiB a reader.
// A record longer than the headroom (64 KiB, rare) is gathered in a buffer
// of its own, reused for the next one.
const (
	raChunk  = 1 << 20  // bytes read into a chunk at a time
	raHead   = 64 << 10 // room in front of a chunk for the end of the previous one
	raChunks = 3        // chunks in rotation
)

type readAhead struct {
	full chan raFilled // chunks read, in stream order
	free chan []byte   // chunks the reader is done with
	stop chan struct{}
	done chan struct{}
}

// raFilled is a chunk c holding n bytes of the stream at c[raHead:]; err is
// the error that ended the stream after them (the goroutine stops there).
type raFilled struct {
	c   []byte
	n   int
	err error
}

// ReadAhead starts reading the rest of the capture on a goroutine of its own
// until Close, so that reading overlaps the caller's processing. It applies
// to regular files opened by Open (a pipe is read as data arrive, never
// waiting for a chunk to fill), and does nothing otherwise or when called
// again. Frames and errors are the same with and without it.
func (r *Reader) ReadAhead() {
	if r.ra != nil || r.closer == nil || r.size <= 0 || r.err != nil || r.srcErr != nil {
		return
	}
	ra := &readAhead{full: make(chan raFilled, raChunks), free: make(chan []byte, raChunks),
		stop: make(chan struct{}), done: make(chan struct{})}
	for range raChunks {
		ra.free <- make([]byte, raHead+raChunk)
	}
	r.ra = ra
	go ra.run(r.src)
}

func (ra *readAhead) run(src io.Reader) {
	defer close(ra.done)
	for {
		var c []byte
		select {
		case c = <-ra.free:
		case <-ra.stop:
			return
		}
		n, err := 0, error(nil)
		for n < raChunk && err == nil {
			var m int
			m, err = src.Read(c[raHead+n:])
			n += m
		}
		select {
		case ra.full <- raFilled{c, n, err}:
		case <-ra.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// fillAhead is fill with read-ahead: it takes chunks until n bytes are
// buffered or the stream has ended.
func (r *Reader) fillAhead(n int) int {
	for r.end-r.pos < n && r.srcErr == nil {
		f := <-r.ra.full
		tail := r.buf[r.pos:r.end]
		data := f.c[raHead : raHead+f.n]
		switch {
		case len(tail) <= raHead:
			copy(f.c[raHead-len(tail):], tail)
			r.release()
			r.buf, r.cur = f.c, f.c
			r.pos, r.end = raHead-len(tail), raHead+f.n
		default:
			// A record longer than the headroom: gather it in a buffer of
			// its own, which grows by appending.
			var b []byte
			if r.cur == nil && len(r.big) > 0 && &r.buf[0] == &r.big[0] {
				b = r.big[:copy(r.big, tail)]
			} else {
				b = append(r.big[:0], tail...)
			}
			b = append(b, data...)
			r.ra.free <- f.c
			r.release()
			r.buf, r.big, r.cur = b, b, nil
			r.pos, r.end = 0, len(b)
		}
		if f.err != nil {
			r.srcErr = f.err
		}
	}
	return r.end - r.pos
}

// release hands the current chunk back to the goroutine: the frames sliced
// out of it are no longer valid once Next is called again.
func (r *Reader) release() {
	if r.cur != nil {
		r.ra.free <- r.cur
		r.cur = nil
	}
}
