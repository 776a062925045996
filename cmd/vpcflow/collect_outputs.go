package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/deliver"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/kafkasink"
	"github.com/vpcflow/vpcflow/objsink"
)

// outputFlags say where objects and records go besides a local directory:
// an S3-compatible store (--out s3://...) and Kafka (--publish).
type outputFlags struct {
	s3Endpoint  string
	s3PathStyle bool
	s3Region    string
	spoolDir    string
	publish     string
}

const spoolHelp = "directory keeping the objects an S3 store refused, replayed at the next start (default DATA_DIR/spool/s3, DATA_DIR being --data-dir, else $VPCFLOW_DATA_DIR, else $HOME/.local/share/vpcflow); objects are encoded under its staging/ subdirectory"

// addS3Flags adds the flags of an s3:// destination.
func addS3Flags(c *cobra.Command, f *outputFlags) {
	fl := c.Flags()
	fl.StringVar(&f.s3Endpoint, "s3-endpoint", "", "URL of an S3-compatible store for s3:// destinations, such as http://127.0.0.1:4566 for a vpcflow serve (default: AWS S3)")
	fl.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address buckets in the path (http://HOST/BUCKET/KEY), as stores other than AWS often need")
	fl.StringVar(&f.s3Region, "s3-region", "", "region of the S3 bucket (default $AWS_REGION, else the AWS config, else us-east-1)")
	fl.StringVar(&f.spoolDir, "spool-dir", "", spoolHelp)
}

// addPublishFlag adds --publish; more ends its help.
func addPublishFlag(c *cobra.Command, f *outputFlags, more string) {
	c.Flags().StringVar(&f.publish, "publish", "", "also publish every delivered record to Kafka: kafka://HOST:PORT[,HOST:PORT...]/TOPIC (key: interface id; header flow-log-id; value: the record's text line)"+more)
}

// outputs are the open sinks of a command; finish flushes and closes them.
type outputs struct {
	writer   *objsink.Writer
	producer *kafkasink.Producer
	ctx      context.Context
	cancel   context.CancelFunc
	dest     string
	done     bool
}

// openOutputs opens the S3 store of out (when it is an s3:// URL) and the
// Kafka producer of --publish, and wires them into router. Counters go to
// reg (nil: none).
func openOutputs(cmd *cobra.Command, f *outputFlags, out, dataDir string, quiet bool, router *deliver.Router, reg prometheus.Registerer) (*outputs, error) {
	o := &outputs{dest: out}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			o.finish(nil)
		}
	}()
	s3out := strings.Contains(out, "://") // objsink.Parse names a scheme other than s3://
	if !s3out {
		for _, name := range []string{"s3-endpoint", "s3-path-style", "s3-region", "spool-dir"} {
			if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
				return nil, usageErrorf("--%s applies to --out s3://BUCKET[/PREFIX] only", name)
			}
		}
	}
	if s3out {
		d, err := objsink.Parse(out)
		if err != nil {
			return nil, usageErrorf("--out %v", err)
		}
		if f.s3Endpoint != "" && !strings.HasPrefix(f.s3Endpoint, "http://") && !strings.HasPrefix(f.s3Endpoint, "https://") {
			return nil, usageErrorf("--s3-endpoint %q: want an http:// or https:// URL", f.s3Endpoint)
		}
		sink, err := objsink.NewS3(o.ctx, d, objsink.S3Options{Endpoint: f.s3Endpoint, PathStyle: f.s3PathStyle, Region: f.s3Region})
		if err != nil {
			return nil, fmt.Errorf("--out %s: %w", out, err)
		}
		spool := f.spoolDir
		if spool == "" {
			dd, err := logsDataDir(dataDir)
			if err != nil {
				return nil, err
			}
			spool = filepath.Join(dd, "spool", "s3")
		}
		o.writer, err = objsink.New(objsink.Configuration{SpoolDir: spool}, objsink.Dependencies{Sink: sink, Registerer: reg})
		if err != nil {
			return nil, err
		}
		if err := o.writer.Start(o.ctx); err != nil {
			return nil, err
		}
		if st := o.writer.Stats(); st.Replayed > 0 && !quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "vpcflow: replayed %d spooled object(s) to %s\n", st.Replayed, out)
		}
		staging := filepath.Join(spool, "staging")
		if _, err := deliver.NewS3Dir(staging).RemoveStale(); err != nil {
			return nil, err
		}
		router.BucketStore = func(string) deliver.ObjectStore { return o.writer }
		router.StagingDir = staging
	}
	if f.publish != "" {
		d, err := kafkasink.Parse(f.publish)
		if err != nil {
			return nil, usageErrorf("--publish %v", err)
		}
		o.producer, err = kafkasink.New(kafkasink.Configuration{Brokers: d.Brokers, Topic: d.Topic}, kafkasink.Dependencies{Registerer: reg})
		if err != nil {
			return nil, err
		}
		if err := o.producer.Start(o.ctx); err != nil {
			return nil, err
		}
		router.Records = &publisher{p: o.producer, ctx: o.ctx}
	}
	ok = true
	return o, nil
}

// publisher hands each record's line to Kafka.
type publisher struct {
	p   *kafkasink.Producer
	ctx context.Context
}

func (p *publisher) Record(fl *flowlog.FlowLog, eni string, line []byte) error {
	// Publish copies the line (the router reuses it).
	return p.p.Publish(p.ctx, kafkasink.Message{FlowLogID: fl.ID, InterfaceID: eni, Value: line})
}

// finish waits for Kafka to take what was published (bounded), stops the
// writer and producer, and prints what they did to w (nil: nothing). It
// returns a message when records were not delivered; objects in the spool
// are safe and only noted.
func (o *outputs) finish(w io.Writer) string {
	if o == nil || o.done {
		return ""
	}
	o.done = true
	var problems []string
	if o.producer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		ferr := o.producer.Flush(ctx)
		cancel()
		st := o.producer.Stats()
		o.producer.Stop()
		if w != nil {
			fmt.Fprintf(w, "  published: %s records to Kafka (%s acknowledged, %s failed, %s waits for buffer room)\n",
				grouped(uint64(st.Published)), grouped(uint64(st.Produced)), grouped(uint64(st.Failed)), grouped(uint64(st.Backpressure)))
		}
		if lost := st.Published - st.Produced; lost > 0 || ferr != nil {
			msg := fmt.Sprintf("%s record(s) not acknowledged by Kafka", grouped(uint64(max(lost, 0))))
			if ferr != nil {
				msg += ": " + ferr.Error()
			}
			problems = append(problems, msg)
		}
	}
	if o.writer != nil {
		o.writer.Stop()
		st := o.writer.Stats()
		if w != nil {
			fmt.Fprintf(w, "  %s: %s objects put (%s bytes, %s retries), %s spooled for replay, %s replayed, %s failed\n",
				o.dest, grouped(uint64(st.Put)), grouped(uint64(st.PutBytes)), grouped(uint64(st.Retries)),
				grouped(uint64(st.Spooled)), grouped(uint64(st.Replayed)), grouped(uint64(st.Failed)))
		}
		if st.Failed > 0 {
			problems = append(problems, fmt.Sprintf("%d object(s) neither stored nor spooled", st.Failed))
		}
	}
	o.cancel()
	return strings.Join(problems, "; ")
}

// quietWriter is w, or nil when the command is quiet.
func quietWriter(w io.Writer, quiet bool) io.Writer {
	if quiet {
		return nil
	}
	return w
}

// serveSinks are the sinks `vpcflow serve` opened for --publish and
// --firehose, shared by URL (one producer per Kafka URL, one writer per
// store).
type serveSinks struct {
	outs      []*outputs
	producers map[string]*kafkasink.Producer
	stores    map[string]deliver.ObjectStore
	firehose  map[string]*deliver.FirehoseTarget
	records   deliver.RecordSink
	ctx       context.Context
	cancel    context.CancelFunc
}

const firehoseHelp = "map a Firehose delivery stream to where its records go, NAME=DEST (repeat): DEST is kafka://HOST:PORT/TOPIC (each record a message, as --publish), s3://BUCKET[/PREFIX] or a directory (uncompressed objects under Firehose's default keys YYYY/MM/dd/HH/NAME-1-...); kinesis-data-firehose flow logs naming a stream mapped to nothing are FAILED (Access error)"

// openServeSinks opens what --publish and --firehose name.
func openServeSinks(f *outputFlags, firehose []string, dataDir string, reg prometheus.Registerer) (*serveSinks, error) {
	s := &serveSinks{producers: map[string]*kafkasink.Producer{}, stores: map[string]deliver.ObjectStore{}, firehose: map[string]*deliver.FirehoseTarget{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			s.close(nil)
		}
	}()
	producer := func(flag, url string) (*kafkasink.Producer, error) {
		if p := s.producers[url]; p != nil {
			return p, nil
		}
		d, err := kafkasink.Parse(url)
		if err != nil {
			return nil, usageErrorf("%s %v", flag, err)
		}
		p, err := kafkasink.New(kafkasink.Configuration{Brokers: d.Brokers, Topic: d.Topic}, kafkasink.Dependencies{Registerer: reg})
		if err != nil {
			return nil, err
		}
		if err := p.Start(s.ctx); err != nil {
			return nil, err
		}
		s.producers[url] = p
		s.outs = append(s.outs, &outputs{producer: p, ctx: s.ctx, cancel: func() {}, dest: url})
		return p, nil
	}
	if f.publish != "" {
		p, err := producer("--publish", f.publish)
		if err != nil {
			return nil, err
		}
		s.records = &publisher{p: p, ctx: s.ctx}
	}
	for _, m := range firehose {
		name, dest, found := strings.Cut(m, "=")
		if !found || name == "" || dest == "" {
			return nil, usageErrorf("--firehose %q: want NAME=kafka://HOST:PORT/TOPIC, NAME=s3://BUCKET[/PREFIX] or NAME=DIR", m)
		}
		if s.firehose[name] != nil {
			return nil, usageErrorf("--firehose %q: delivery stream %s is mapped twice", m, name)
		}
		t := &deliver.FirehoseTarget{}
		if strings.HasPrefix(dest, "kafka://") {
			p, err := producer("--firehose "+name+"=", dest)
			if err != nil {
				return nil, err
			}
			t.Records = &publisher{p: p, ctx: s.ctx}
		} else if st := s.stores[dest]; st != nil {
			t.Store = st
		} else {
			d, err := objsink.Parse(dest)
			if err != nil {
				return nil, usageErrorf("--firehose %s=: %v", name, err)
			}
			if !d.IsS3() {
				t.Store = objsink.Dir(d.Dir)
			} else {
				sink, err := objsink.NewS3(s.ctx, d, objsink.S3Options{Endpoint: f.s3Endpoint, PathStyle: f.s3PathStyle, Region: f.s3Region})
				if err != nil {
					return nil, fmt.Errorf("--firehose %s: %w", m, err)
				}
				spool := f.spoolDir
				if spool == "" {
					spool = filepath.Join(dataDir, "spool", "s3")
				}
				w, err := objsink.New(objsink.Configuration{SpoolDir: spool}, objsink.Dependencies{Sink: sink, Registerer: reg})
				if err != nil {
					return nil, err
				}
				w.Start(s.ctx)
				s.outs = append(s.outs, &outputs{writer: w, ctx: s.ctx, cancel: func() {}, dest: dest})
				t.Store = w
			}
			s.stores[dest] = t.Store
		}
		s.firehose[name] = t
	}
	ok = true
	return s, nil
}

// target is the region's Firehose dependency (nil when none is mapped).
func (s *serveSinks) target() func(string) *deliver.FirehoseTarget {
	if len(s.firehose) == 0 {
		return nil
	}
	return func(name string) *deliver.FirehoseTarget { return s.firehose[name] }
}

// close flushes and stops every sink, printing their counts to w (nil:
// nothing); it returns what was not delivered.
func (s *serveSinks) close(w io.Writer) string {
	var problems []string
	for _, o := range s.outs {
		if msg := o.finish(w); msg != "" {
			problems = append(problems, msg)
		}
	}
	s.cancel()
	return strings.Join(problems, "; ")
}
