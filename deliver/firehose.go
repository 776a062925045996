package deliver

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/record"
)

// FirehoseTarget is where the records of an Amazon Data Firehose delivery
// stream end up. AWS publishes a flow log to a delivery stream as plain
// text, one record per flow-log record
// (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-firehose.html);
// the stream then delivers to its own destination, which the user chooses
// here: Records (each record as it arrives, as a stream feeding Kafka
// would), Store (objects as Firehose writes them to S3), or both.
type FirehoseTarget struct {
	Records RecordSink
	Store   ObjectStore
	// MaxObjectBytes cuts an object (default 5 MiB, Firehose's default
	// buffer size for S3).
	MaxObjectBytes int
}

// firehose buffers each delivery stream's records into objects and hands
// every record to the streams' RecordSinks.
type firehose struct {
	streams func(name string) *FirehoseTarget
	bufs    map[string]*firehoseBuf
	line    []byte
	// now names objects: Firehose names them by the arrival of their
	// oldest record.
	now func() time.Time
	// written are the keys put, by stream.
	written []string
}

type firehoseBuf struct {
	t     *FirehoseTarget
	buf   bytes.Buffer
	first time.Time // arrival of the oldest record: the object's time
}

func (f *firehose) Write(fl *flowlog.FlowLog, r *record.Record) error {
	t := f.streams(fl.DeliveryStream)
	if t == nil {
		return firehoseUnmapped(fl)
	}
	f.line = record.AppendText(f.line[:0], fl.Format, r)
	if t.Records != nil {
		if err := t.Records.Record(fl, r.InterfaceID, f.line); err != nil {
			return err
		}
	}
	if t.Store == nil {
		return nil
	}
	b := f.bufs[fl.DeliveryStream]
	if b == nil {
		b = &firehoseBuf{t: t}
		f.bufs[fl.DeliveryStream] = b
	}
	if b.buf.Len() == 0 {
		b.first = f.now()
	}
	b.buf.Write(f.line)
	b.buf.WriteByte('\n')
	max := t.MaxObjectBytes
	if max <= 0 {
		max = 5 << 20
	}
	if b.buf.Len() >= max {
		return f.put(fl.DeliveryStream, b)
	}
	return nil
}

// Flush cuts the stream's object at every closed window ([Choice]:
// Firehose cuts by its buffering hints, 5 MiB or 300 s by default; a
// window's records are readable when it closes, as with S3's EveryWindow).
func (f *firehose) Flush(fl *flowlog.FlowLog, _ int64) error {
	if b := f.bufs[fl.DeliveryStream]; b != nil && b.buf.Len() > 0 {
		return f.put(fl.DeliveryStream, b)
	}
	return nil
}

func (f *firehose) Close() error {
	names := make([]string, 0, len(f.bufs))
	for n := range f.bufs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if b := f.bufs[n]; b.buf.Len() > 0 {
			if err := f.put(n, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// put writes the buffered records as one object under Firehose's default
// S3 key layout, YYYY/MM/dd/HH/STREAM-1-YYYY-MM-DD-HH-MM-SS-UUID in UTC
// by the arrival of the oldest record
// (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html,
// https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html),
// uncompressed (Firehose's default).
func (f *firehose) put(stream string, b *firehoseBuf) error {
	now := b.first.UTC()
	var u [16]byte
	rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	key := fmt.Sprintf("%s%s-1-%s-%x-%x-%x-%x-%x", now.Format("2006/01/02/15/"), stream, now.Format("2006-01-02-15-04-05"),
		u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	data := b.buf.Bytes()
	if err := b.t.Store.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("delivery stream %s: %w", stream, err)
	}
	b.buf.Reset()
	f.written = append(f.written, key)
	return nil
}

func firehoseUnmapped(fl *flowlog.FlowLog) error {
	return &flowlog.DeliveryError{Message: flowlog.DeliveryAccessError,
		Err: fmt.Errorf("flow log %s: delivery stream %s has no sink (serve --firehose %s=kafka://...|s3://...|DIR)", fl.ID, fl.DeliveryStream, fl.DeliveryStream)}
}
