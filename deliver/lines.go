package deliver

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

// Lines prints every record as a text line, no header, once the input is done,
// in a deterministic order: flow log (by id), interface, start, end, then the
// line bytewise ([Choice], docs/aws-behaviour.md, "Choices where AWS is
// silent"). It buffers everything, which suits the inspection it is for.
type Lines struct {
	w     io.Writer
	byLog map[*flowlog.FlowLog][]Line
	buf   []byte
	// arena is the block the lines' texts are kept in: a million records
	// are then a hundred allocations, not a million.
	arena []byte
}

// linesArena is the size of the blocks Lines keeps texts in.
const linesArena = 1 << 20

// NewLines returns a destination printing to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w, byLog: map[*flowlog.FlowLog][]Line{}} }

// Write renders and buffers a record.
func (l *Lines) Write(fl *flowlog.FlowLog, r *record.Record) error {
	l.buf = record.AppendText(l.buf[:0], fl.Format, r)
	l.buf = append(l.buf, '\n')
	l.byLog[fl] = append(l.byLog[fl], Line{Interface: r.InterfaceID, Start: r.Start, End: r.End, Text: l.keep(l.buf)})
	return nil
}

// keep copies b into the arena and returns it as a string, which shares
// the arena: what is written there is never changed.
func (l *Lines) keep(b []byte) string {
	if cap(l.arena)-len(l.arena) < len(b) {
		l.arena = make([]byte, 0, max(linesArena, len(b)))
	}
	at := len(l.arena)
	l.arena = append(l.arena, b...)
	return unsafe.String(&l.arena[at], len(b))
}

// Flush does nothing: output waits for Close to be totally ordered.
func (l *Lines) Flush(*flowlog.FlowLog, int64) error { return nil }

// Close writes everything.
func (l *Lines) Close() error {
	fls := make([]*flowlog.FlowLog, 0, len(l.byLog))
	for fl := range l.byLog {
		fls = append(fls, fl)
	}
	slices.SortFunc(fls, func(a, b *flowlog.FlowLog) int { return strings.Compare(a.ID, b.ID) })
	bw := bufio.NewWriterSize(l.w, 64<<10)
	for _, fl := range fls {
		lines := l.byLog[fl]
		SortLines(lines)
		for _, line := range lines {
			bw.WriteString(line.Text)
		}
	}
	l.byLog, l.arena = map[*flowlog.FlowLog][]Line{}, nil
	return bw.Flush()
}

// Line is a rendered record (with its LF) and what objects sort it by.
type Line struct {
	Interface  string
	Start, End int64
	Text       string
}

// SortLines orders lines as objects hold them: interface-id, start, end,
// then the line bytewise.
func SortLines(lines []Line) {
	slices.SortFunc(lines, func(a, b Line) int {
		// Lines of one interface share its id's string: equality sees
		// that first.
		if a.Interface != b.Interface {
			return strings.Compare(a.Interface, b.Interface)
		}
		if a.Start != b.Start {
			return cmp.Compare(a.Start, b.Start)
		}
		if a.End != b.End {
			return cmp.Compare(a.End, b.End)
		}
		return strings.Compare(a.Text, b.Text)
	})
}
