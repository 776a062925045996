package deliver

import (
	"bufio"
	"io"
	"slices"
	"strings"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

// Lines prints every record as a text line, no header, once the input is
// done, in a deterministic order: flow log (by id), interface, start, end,
// then the line bytewise (DECISIONS.md). It buffers everything, which suits
// the inspection it is for.
type Lines struct {
	w     io.Writer
	byLog map[*flowlog.FlowLog][]Line
	buf   []byte
}

// NewLines returns a destination printing to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w, byLog: map[*flowlog.FlowLog][]Line{}} }

// Records renders and buffers the records.
func (l *Lines) Records(fl *flowlog.FlowLog, recs []record.Record) error {
	for i := range recs {
		var line Line
		line, l.buf = NewLine(fl.Format, &recs[i], l.buf)
		l.byLog[fl] = append(l.byLog[fl], line)
	}
	return nil
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
	l.byLog = map[*flowlog.FlowLog][]Line{}
	return bw.Flush()
}
