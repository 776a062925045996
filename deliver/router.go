package deliver

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/internal/bucketlock"
	"github.com/vpcflow/vpcflow/record"
)

// Router is the destination of every flow log: it sends each flow log's
// records where its LogDestinationType says, so the CLI and the service
// route the same way.
type Router struct {
	// Stdout, when set, receives every flow log's records as text lines
	// (see Lines), whatever their destination.
	Stdout io.Writer
	// BucketRoot returns the local directory that stands for an S3 bucket.
	BucketRoot func(bucket string) string
	// ExistingBuckets delivers S3 records only into bucket directories
	// that exist, as the service must: AWS's delivery writes into a
	// bucket and never creates one. A record for a missing bucket fails
	// with a *flowlog.DeliveryError (DeliveryAccessError, the message
	// DescribeFlowLogs shows when the service may not write to the
	// destination) and no directory is made. The batch commands leave it
	// false: they convert captures, and the directory they are given is
	// their output, made as needed.
	ExistingBuckets bool
	// BucketStore, when set, is where the S3 objects of a bucket go
	// (by key, as under BucketRoot) instead of BucketRoot's directory:
	// the objects are encoded under StagingDir, then put. The command's
	// flags choose it (`--out s3://...`); it may return the same store for
	// every bucket.
	BucketStore func(bucket string) ObjectStore
	StagingDir  string
	// Records, when set, also receives every record delivered, as its
	// text line (`--publish`).
	Records RecordSink
	// RecordsOnly sends every flow log's records to Records alone,
	// whatever their destination: an agent that publishes its records
	// for a collector to store keeps nothing itself (`--publish` without
	// `--out`), and spends nothing on objects.
	RecordsOnly bool
	// Firehose maps a delivery stream's name to where its records go
	// (kinesis-data-firehose flow logs); nil, or nil for a name, refuses
	// the flow log with AWS's "Access error".
	Firehose func(stream string) *FirehoseTarget
	// Logs is the log store for cloud-watch-logs flow logs; nil refuses them.
	Logs LogIngester
	// EveryWindow finishes a flow log's S3 objects at every closed window
	// instead of once per 5-minute slot, so records are readable seconds
	// after their window closes; a slot's records may then be split over
	// several objects, each complete.
	EveryWindow bool

	lines *Lines
	line  []byte
	// lastFL and lastS3 are the S3 flow log of the previous Write and its
	// destination: records come in runs of one flow log, which then skip
	// the checks and the map of dest.
	lastFL *flowlog.FlowLog
	lastS3 *S3Dir
	fh     *firehose
	s3     map[string]*S3Dir // by root
	cwl    *CloudWatch
	cwlMu  sync.Mutex // guards setting cwl, which LogStats reads from any goroutine
}

// Check reports whether the router can deliver fl's records.
func (r *Router) Check(fl *flowlog.FlowLog) error {
	if r.Stdout != nil {
		return nil
	}
	if r.RecordsOnly {
		return nil // Records may be set after the check, before the first Write
	}
	switch fl.DestinationType {
	case flowlog.DestS3:
		if r.BucketStore != nil {
			return nil
		}
		if r.BucketRoot == nil {
			return fmt.Errorf("flow log %s delivers to S3, and no bucket directory is configured", fl.ID)
		}
		return nil
	case flowlog.DestCloudWatch:
		if r.Logs == nil {
			return fmt.Errorf("flow log %s delivers to CloudWatch Logs, and no log store is open", fl.ID)
		}
		return nil
	case flowlog.DestFirehose:
		if r.Firehose == nil || r.Firehose(fl.DeliveryStream) == nil {
			return firehoseUnmapped(fl)
		}
		return nil
	}
	return fmt.Errorf("flow log %s delivers to %s, which vpcflow cannot write yet", fl.ID, fl.DestinationType)
}

// dest is the destination of fl.
func (r *Router) dest(fl *flowlog.FlowLog) (flowlog.Destination, error) {
	if err := r.Check(fl); err != nil {
		return nil, err
	}
	switch {
	case r.Stdout != nil:
		if r.lines == nil {
			r.lines = NewLines(r.Stdout)
		}
		return r.lines, nil
	case fl.DestinationType == flowlog.DestFirehose:
		if r.fh == nil {
			r.fh = &firehose{streams: r.Firehose, bufs: map[string]*firehoseBuf{}, now: time.Now}
		}
		return r.fh, nil
	case fl.DestinationType == flowlog.DestCloudWatch:
		if r.cwl == nil {
			r.cwlMu.Lock()
			r.cwl = NewCloudWatch(r.Logs)
			r.cwlMu.Unlock()
		}
		return r.cwl, nil
	}
	var root string
	var store ObjectStore
	if r.BucketStore != nil {
		// One encoder per bucket, all staging in one directory.
		store, root = r.BucketStore(fl.Bucket), "store:"+fl.Bucket
	} else {
		root = r.BucketRoot(fl.Bucket)
	}
	d := r.s3[root]
	if d == nil {
		if r.s3 == nil {
			r.s3 = map[string]*S3Dir{}
		}
		if store != nil {
			d = NewS3Dir(r.StagingDir)
			d.Store = store
		} else {
			d = NewS3Dir(root)
		}
		d.EveryFlush, d.ExistingRoot = r.EveryWindow, r.ExistingBuckets
		r.s3[root] = d
	}
	return d, nil
}

// Write hands a record to fl's destination.
func (r *Router) Write(fl *flowlog.FlowLog, rec *record.Record) error {
	if r.RecordsOnly {
		if r.Records == nil {
			return fmt.Errorf("flow log %s: its records go only to a record sink, and none is set", fl.ID)
		}
		r.line = record.AppendText(r.line[:0], fl.Format, rec)
		return r.Records.Record(fl, rec.InterfaceID, r.line)
	}
	var d flowlog.Destination
	if fl == r.lastFL {
		d = r.lastS3
	} else {
		var err error
		if d, err = r.dest(fl); err != nil {
			return err
		}
		r.lastFL, r.lastS3 = nil, nil
		if s3, ok := d.(*S3Dir); ok {
			r.lastFL, r.lastS3 = fl, s3
		}
	}
	err := d.Write(fl, rec)
	if err == nil && r.Records != nil {
		var line []byte
		if s3, ok := d.(*S3Dir); ok {
			line = s3.lastLine() // formatted once for both
		} else {
			r.line = record.AppendText(r.line[:0], fl.Format, rec)
			line = r.line
		}
		err = r.Records.Record(fl, rec.InterfaceID, line)
	}
	if errors.Is(err, bucketlock.ErrNoBucket) {
		return &flowlog.DeliveryError{Message: flowlog.DeliveryAccessError,
			Err: fmt.Errorf("flow log %s: bucket %s does not exist (%w)", fl.ID, fl.Bucket, err)}
	}
	return err
}

// Flush flushes fl's destination.
func (r *Router) Flush(fl *flowlog.FlowLog, before int64) error {
	if r.RecordsOnly {
		return nil // Records flushes on its own
	}
	d, err := r.dest(fl)
	if err != nil {
		return err
	}
	return d.Flush(fl, before)
}

// Complete passes on how far the CloudWatch Logs flow logs' records are
// delivered (flowlog.Completer), so the log service judges alarms only on
// complete periods. Other destinations do not need it.
func (r *Router) Complete(before map[*flowlog.FlowLog]int64) error {
	if r.Stdout != nil || r.cwl == nil {
		return nil
	}
	cw := map[*flowlog.FlowLog]int64{}
	for fl, b := range before {
		if fl.DestinationType == flowlog.DestCloudWatch {
			cw[fl] = b
		}
	}
	return r.cwl.Complete(cw)
}

// Close closes every destination in use.
func (r *Router) Close() error {
	var errs []error
	if r.lines != nil {
		errs = append(errs, r.lines.Close())
	}
	if r.cwl != nil {
		errs = append(errs, r.cwl.Close())
	}
	if r.fh != nil {
		errs = append(errs, r.fh.Close())
	}
	for _, root := range r.roots() {
		errs = append(errs, r.s3[root].Close())
	}
	return errors.Join(errs...)
}

func (r *Router) roots() []string {
	roots := make([]string, 0, len(r.s3))
	for root := range r.s3 {
		roots = append(roots, root)
	}
	sort.Strings(roots)
	return roots
}

// RouterStats is what a router delivered.
type RouterStats struct {
	Objects     []string // S3 objects written, relative to their bucket directory
	ObjectBytes int64
	// FirehoseObjects are the keys of the objects delivery streams put.
	FirehoseObjects []string
	Logs            CloudWatchStats
}

// LogStats returns what was delivered to the log store so far; safe from
// any goroutine.
func (r *Router) LogStats() CloudWatchStats {
	r.cwlMu.Lock()
	c := r.cwl
	r.cwlMu.Unlock()
	if c == nil {
		return CloudWatchStats{Groups: map[string]bool{}}
	}
	return c.Stats()
}

// Stats returns what was delivered so far. Call it from the goroutine that
// writes (or after Close).
func (r *Router) Stats() RouterStats {
	var st RouterStats
	for _, root := range r.roots() {
		d := r.s3[root]
		st.Objects = append(st.Objects, d.Objects()...)
		st.ObjectBytes += d.Bytes()
	}
	if r.cwl != nil {
		st.Logs = r.cwl.Stats()
	}
	if r.fh != nil {
		st.FirehoseObjects = r.fh.written
	}
	return st
}
