package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/collect"
	"github.com/vpcflow/vpcflow/kafkasink"
	"github.com/vpcflow/vpcflow/objsink"
)

func init() { register(newCollectCmd) }

type collectFlags struct {
	outputFlags
	from, group, to, dataDir string
	maxRecords               int
	maxWait, progress        time.Duration
	sessionTimeout           time.Duration
	quiet                    bool
}

func newCollectCmd() *cobra.Command {
	var f collectFlags
	c := &cobra.Command{
		Use:   "collect --from kafka://HOST:PORT/TOPIC --group GROUP --to s3://BUCKET[/PREFIX]|DIR",
		Short: "Gather flow-log records published to Kafka into objects, until Ctrl-C",
		Long: `Consume the records that 'vpcflow pcap|run --publish' sends to a Kafka topic,
as a member of a consumer group, and write them as objects, in the foreground,
until SIGINT (Ctrl-C) or SIGTERM.

An object holds one partition's records, one text line each, gzip-compressed,
under [PREFIX/]TOPIC/PARTITION/FIRSTOFFSET.log.gz (the offset in 20 digits).
It is cut at --max-records or when its first record has waited --max-wait.
The group's offset is committed only once the object is durable (renamed
into place, uploaded, or spooled): a collector stopped or killed at any
moment is followed by one that reads the uncommitted records again and
writes them under the same key, so every record ends up in exactly one
object. Collectors of one group share the topic's partitions.

--to s3://BUCKET[/PREFIX] writes to an S3-compatible store (--s3-endpoint,
--s3-path-style; objects the store refuses wait in --spool-dir, default
DATA_DIR/spool/s3, and are replayed); any other value is a directory.

A progress line goes to stderr every --progress, a summary at the end.
Exit status: 0 stopped by a signal; 1 writing or committing failed; 2 usage
error.`,
		Example: `  vpcflow collect --from kafka://127.0.0.1:9092/flowlogs --group archive --to ./collected
  vpcflow collect --from kafka://10.0.0.7:9092/flowlogs --group archive \
      --to s3://collected/site-a --s3-endpoint http://10.0.0.5:4566 --s3-path-style`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCollect(cmd, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.from, "from", "", "Kafka brokers and topic: kafka://HOST:PORT[,HOST:PORT...]/TOPIC")
	fl.StringVar(&f.group, "group", "", "consumer group: collectors of a group share the partitions and resume from its offsets")
	fl.StringVar(&f.to, "to", "", "where objects go: s3://BUCKET[/PREFIX] or a directory")
	fl.IntVar(&f.maxRecords, "max-records", 10000, "records per object at most")
	fl.DurationVar(&f.maxWait, "max-wait", time.Minute, "an object is cut when its first record has waited this long")
	fl.DurationVar(&f.sessionTimeout, "session-timeout", 45*time.Second, "how long the group waits for a collector that stopped answering before its partitions go to the others (within the brokers' group.min/max.session.timeout.ms)")
	fl.DurationVar(&f.progress, "progress", 10*time.Second, "interval of the progress lines (0: none)")
	fl.BoolVar(&f.quiet, "quiet", false, "no start line, progress or summary")
	fl.StringVar(&f.dataDir, "data-dir", "", "data dir whose spool/s3 keeps the objects an S3 store refused (default $VPCFLOW_DATA_DIR, else $HOME/.local/share/vpcflow)")
	addS3Flags(c, &f.outputFlags)
	return c
}

func runCollect(cmd *cobra.Command, f *collectFlags) error {
	if f.from == "" || f.group == "" || f.to == "" {
		return usageErrorf("--from, --group and --to are required")
	}
	src, err := kafkasink.Parse(f.from)
	if err != nil {
		return usageErrorf("--from %v", err)
	}
	if f.maxRecords <= 0 || f.maxWait <= 0 {
		return usageErrorf("--max-records and --max-wait: want positive values")
	}
	dest, err := objsink.Parse(f.to)
	if err != nil {
		return usageErrorf("--to %v", err)
	}
	if !dest.IsS3() {
		for _, name := range []string{"s3-endpoint", "s3-path-style", "s3-region", "spool-dir"} {
			if cmd.Flags().Changed(name) {
				return usageErrorf("--%s applies to --to s3://BUCKET[/PREFIX] only", name)
			}
		}
	}
	if f.s3Endpoint != "" && !strings.HasPrefix(f.s3Endpoint, "http://") && !strings.HasPrefix(f.s3Endpoint, "https://") {
		return usageErrorf("--s3-endpoint %q: want an http:// or https:// URL", f.s3Endpoint)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var sink objsink.Sink = objsink.Dir(dest.Dir)
	var put collect.Putter = sink
	var writer *objsink.Writer
	if dest.IsS3() {
		s3, err := objsink.NewS3(ctx, dest, objsink.S3Options{Endpoint: f.s3Endpoint, PathStyle: f.s3PathStyle, Region: f.s3Region})
		if err != nil {
			return fmt.Errorf("--to %s: %w", f.to, err)
		}
		spool := f.spoolDir
		if spool == "" {
			dd, err := logsDataDir(f.dataDir)
			if err != nil {
				return err
			}
			spool = filepath.Join(dd, "spool", "s3")
		}
		if writer, err = objsink.New(objsink.Configuration{SpoolDir: spool}, objsink.Dependencies{Sink: s3}); err != nil {
			return err
		}
		writer.Start(ctx)
		defer writer.Stop()
		put = writer
	}
	c, err := collect.New(collect.Configuration{Brokers: src.Brokers, Topics: []string{src.Topic}, Group: f.group,
		MaxRecords: f.maxRecords, MaxWait: f.maxWait, SessionTimeout: f.sessionTimeout}, collect.Dependencies{Sink: put})
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	if !f.quiet {
		fmt.Fprintf(stderr, "vpcflow collect: %s (group %s) to %s; objects of at most %s records or %v; Ctrl-C stops\n",
			f.from, f.group, f.to, grouped(uint64(f.maxRecords)), f.maxWait)
	}
	start := time.Now()
	if err := c.Start(ctx); err != nil {
		return err
	}
	var tick <-chan time.Time
	if f.progress > 0 && !f.quiet {
		t := time.NewTicker(f.progress)
		defer t.Stop()
		tick = t.C
	}
	var runErr error
	last := collect.Stats{}
	lastAt := start
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-c.Done():
			runErr = c.Err()
			break loop
		case now := <-tick:
			st := c.Stats()
			fmt.Fprintf(stderr, "vpcflow collect: %s records in %s objects (%s records/s)\n", grouped(uint64(st.Records)), grouped(uint64(st.Objects)),
				grouped(uint64(float64(st.Records-last.Records)/now.Sub(lastAt).Seconds())))
			last, lastAt = st, now
		}
	}
	if err := c.Stop(); runErr == nil {
		runErr = err
	}
	st := c.Stats()
	if !f.quiet {
		el := time.Since(start)
		fmt.Fprintf(stderr, "vpcflow collect: stopped after %s: %s records in %s objects committed (%s records/s); %s records read but not in an object, left to the group\n",
			el.Round(time.Millisecond), grouped(uint64(st.Records)), grouped(uint64(st.Objects)),
			grouped(uint64(float64(st.Records)/max(el.Seconds(), 1e-9))), grouped(uint64(st.Dropped)))
		if writer != nil {
			ws := writer.Stats()
			fmt.Fprintf(stderr, "  %s: %s objects put, %s spooled for replay, %s replayed, %s failed\n", f.to,
				grouped(uint64(ws.Put)), grouped(uint64(ws.Spooled)), grouped(uint64(ws.Replayed)), grouped(uint64(ws.Failed)))
		}
	}
	if runErr != nil {
		return &exitError{code: 1, msg: runErr.Error()}
	}
	return nil
}
