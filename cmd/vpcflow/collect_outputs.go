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

// addPublishFlag adds --publish.
func addPublishFlag(c *cobra.Command, f *outputFlags) {
	c.Flags().StringVar(&f.publish, "publish", "", "also publish every delivered record to Kafka: kafka://HOST:PORT[,HOST:PORT...]/TOPIC (key: interface id; header flow-log-id; value: the record's text line)")
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
	// The producer keeps the value until Kafka has it: a copy of the line.
	return p.p.Publish(p.ctx, kafkasink.Message{FlowLogID: fl.ID, InterfaceID: eni, Value: append([]byte(nil), line...)})
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
