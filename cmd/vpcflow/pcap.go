package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/deliver"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

func init() { register(newPcapCmd) }

// Single-interface defaults ([Choice]; docs/aws-behaviour.md, "Direction and
// attribution").
const (
	defaultENI     = "eni-00000000000000001"
	defaultAccount = "123456789012"
	defaultRegion  = "us-east-1"
)

type pcapFlags struct {
	topology, out, format, eni, account, region, traffic, dataDir, fileFormat, decap string
	stdout, quiet                                                                    bool
	cpuProfile, memory                                                               string
	interval, maxFlowsPerWindow, maxFlows, shards                                    int
	localCIDRs                                                                       []string
	outputFlags
	outs *outputs // opened by flowLogSetup
}

func newPcapCmd() *cobra.Command {
	var f pcapFlags
	c := &cobra.Command{
		Use:   "pcap [flags] FILE...",
		Short: "Turn packet captures into AWS VPC flow logs",
		Long: `Read pcap or pcapng files (plain or gzip; several are merged by packet time;
- is standard input) and write AWS VPC flow-log records.

With --topology, packets are attributed to the declared ENIs (by MAC, then by
IP address), security groups and network ACLs decide ACCEPT or REJECT, and the
flow logs declared in the topology's FlowLogs are produced; a topology without
FlowLogs gets one flow log per VPC (traffic type ALL, --format, --interval).

Without --topology, the whole capture is one interface (--eni, default
` + defaultENI + `, account ` + defaultAccount + `, region ` + defaultRegion + `),
every packet is ACCEPT and ingress unless its source is in --local-cidr.

--out DIR writes the S3 layout under DIR (which stands for the bucket):
DIR/[prefix/]AWSLogs/ACCOUNT/vpcflowlogs/REGION/YYYY/MM/DD/..._vpcflowlogs_..._HASH.log.gz,
gzip text with the header line, one object per flow log per 5-minute slot;
with --file-format parquet (or DestinationOptions.FileFormat in the topology's
FlowLogs) the objects are Apache Parquet with the AWS column types instead,
..._HASH.log.parquet.
Flow logs whose destination is cloud-watch-logs go to the embedded log store
(--data-dir): one stream per interface, <interface-id>-all, in the flow log's
log group, ready for 'vpcflow logs filter' and 'vpcflow logs query'.
--out s3://BUCKET[/PREFIX] puts the same objects (same keys under PREFIX,
same bytes) into an S3-compatible store: AWS S3 with the usual credentials
chain, or another store with --s3-endpoint (and --s3-path-style), such as a
vpcflow serve. Objects are encoded under the spool directory's staging/,
tried 4 times, and an object the store still refuses is kept in the spool
directory (--spool-dir, default DATA_DIR/spool/s3) and replayed at the next
run. --publish kafka://HOST:PORT/TOPIC also sends every record, as its text
line, to Kafka (key: interface id, header flow-log-id); the summary counts
what Kafka acknowledged, and records it did not are an error (exit 1).
Without --out, --publish sends every flow log's records to Kafka only, whatever
their destination, and writes nothing: an agent whose records 'vpcflow
collect' stores.
--stdout prints the records instead (no header, deterministic order: flow log,
interface, start, end); flow logs of different record formats cannot share it
(use --out). A summary goes to stderr; inputs that take more than a second
get a progress line.

` + decapHelp + `

Exit status: 0 done; 1 an input could not be read to its end, or packets were
read and none could give a record (all skipped by the decoder, or sent and
received by no declared interface: the reason is printed with the counts);
2 usage error.`,
		Example: `  vpcflow pcap --topology examples/topology.yaml --out ./flowlogs capture.pcap
  vpcflow pcap --stdout --interval 60 --local-cidr 10.0.0.5/32 trace.pcapng.gz
  vpcflow pcap --stdout --format '${srcaddr} ${dstaddr} ${action} ${x-rule}' --topology net.yaml cap.pcap
  tcpdump -i eth0 -w - -c 1000 | vpcflow pcap --stdout --local-cidr 10.0.1.10 -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPcap(cmd, &f, args) },
	}
	addFlowLogFlags(c, &f)
	addDecapFlag(c, &f)
	fl := c.Flags()
	fl.IntVar(&f.shards, "shards", pipeline.DefaultConfig().Flow.Shards, "aggregation goroutines")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress line and no summary")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (for benchmarks)")
	fl.MarkHidden("cpuprofile")
	return c
}

// addFlowLogFlags adds the flags that say which flow logs are produced and
// where they go, shared by `vpcflow pcap` and `vpcflow run`.
func addFlowLogFlags(c *cobra.Command, f *pcapFlags) {
	fl := c.Flags()
	fl.StringVar(&f.topology, "topology", "", "topology file (YAML/JSON with EC2 describe-* keys)")
	fl.StringVar(&f.out, "out", "", "write the S3 layout under this directory, or into an S3-compatible store: s3://BUCKET[/PREFIX] (default ./flowlogs unless --stdout or --publish)")
	fl.BoolVar(&f.stdout, "stdout", false, "print records on stdout instead of writing files")
	fl.StringVar(&f.format, "format", "", "record format of implicit flow logs: '${a} ${b}' (default: the version 2 default format)")
	fl.IntVar(&f.interval, "interval", 600, "max aggregation interval of implicit flow logs: 60 or 600 seconds")
	fl.StringVar(&f.traffic, "traffic-type", "ALL", "traffic type of implicit flow logs: ACCEPT, REJECT or ALL")
	fl.StringVar(&f.fileFormat, "file-format", "plain-text", "S3 object format of implicit flow logs: plain-text (.log.gz) or parquet (.log.parquet)")
	fl.StringVar(&f.eni, "eni", defaultENI, "interface id (without --topology)")
	fl.StringVar(&f.account, "account", defaultAccount, "account id (without --topology)")
	fl.StringVar(&f.region, "region", defaultRegion, "region (without --topology)")
	fl.StringSliceVar(&f.localCIDRs, "local-cidr", nil, "the interface's own addresses (without --topology): packets from them are egress")
	addFlowBoundFlags(c, &f.memory, &f.maxFlowsPerWindow, &f.maxFlows)
	addLogsDataDirFlag(c, &f.dataDir)
	addS3Flags(c, &f.outputFlags)
	addPublishFlag(c, &f.outputFlags, "; without --out, records go to Kafka only")
}

// addFlowBoundFlags adds the flags that bound the flow tables, shared by
// `vpcflow pcap`, `vpcflow run` and `vpcflow serve`.
func addFlowBoundFlags(c *cobra.Command, memory *string, perWindow, total *int) {
	fl := c.Flags()
	fl.StringVar(memory, "memory", "", fmt.Sprintf("memory the flow tables may hold, such as 512MiB or 2GiB; new flows beyond it are dropped, counted and their windows get SKIPDATA (default %.0f%% of the machine's or cgroup's memory, here %s; 0: no bound)",
		100*pipeline.DefaultMemoryFraction, pipeline.FormatSize(pipeline.DefaultMemoryBudget())))
	fl.IntVar(perWindow, "max-flows-per-window", 0, "optional extra bound: flows per interface per window before SKIPDATA (0: none; --memory is the bound)")
	fl.IntVar(total, "max-flows", 0, "optional extra bound: live flow entries in total before SKIPDATA (0: none; --memory is the bound)")
}

// setFlowBounds applies the flags of addFlowBoundFlags.
func setFlowBounds(cfg *pipeline.FlowConfiguration, memory string, perWindow, total int) error {
	if memory != "" {
		n, err := pipeline.ParseSize(memory)
		if err != nil {
			return usageErrorf("--memory %v", err)
		}
		cfg.MemoryBudget = n
	}
	if perWindow < 0 || total < 0 {
		return usageErrorf("--max-flows-per-window and --max-flows: want 0 (no bound) or a number of flows")
	}
	cfg.MaxFlowsPerWindow, cfg.MaxFlows = perWindow, total
	return nil
}

// decapHelp explains --decap in the help of `vpcflow pcap` and `vpcflow run`.
const decapHelp = `PPPoE, MPLS (IPv4, IPv6, Ethernet pseudowires with a control word) and
PPP links are decoded to the IP packets they carry. IP tunnels (GRE,
IP-in-IP, 6in4, VXLAN, ...) are logged as their outer packets, as AWS logs
them, unless --decap vxlan: UDP to port 4789 is then VXLAN, as AWS Traffic
Mirroring sends copies of an interface's packets to a mirror target, and the
packets inside are logged instead of the copies. With --topology each is
logged on the interface whose address sent the copy (the mirror source);
without, on the one interface (--local-cidr: the mirrored interface's
addresses).`

// addDecapFlag adds --decap, shared by `vpcflow pcap` and `vpcflow run`.
func addDecapFlag(c *cobra.Command, f *pcapFlags) {
	c.Flags().StringVar(&f.decap, "decap", "none", "IP tunnels whose inner packets are logged: vxlan (AWS Traffic Mirroring) or none")
}

func runPcap(cmd *cobra.Command, f *pcapFlags, args []string) error {
	if os.Getenv("GOGC") == "" {
		// The flow tables hold no pointers, so collecting more often costs
		// little CPU, and it keeps the heap's headroom (and so the resident
		// memory per flow) at a third of the default: measured on 324 k
		// flows, 155 B per active flow instead of 171 at GOGC=50 and 221 at
		// 100, for at most ~7% more CPU (2 runs each, noisy).
		debug.SetGCPercent(35)
	}
	cfg, router, closeStore, err := flowLogSetup(cmd, f)
	if err != nil {
		return err
	}
	defer closeStore()
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	deps := pipeline.Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return router }}
	stderr := cmd.ErrOrStderr()
	if !f.quiet {
		deps.Progress = func(p pipeline.Progress) {
			pct := ""
			if p.Fraction >= 0 {
				pct = fmt.Sprintf(", %.0f%% of input", 100*p.Fraction)
			}
			fmt.Fprintf(stderr, "\rvpcflow: %s packets, %s packets/s%s   ", grouped(p.Packets),
				grouped(uint64(float64(p.Packets)/p.Elapsed.Seconds())), pct)
		}
	}
	inputs, err := pcapInputs(cmd, args)
	if err != nil {
		return err
	}
	cfg.Inputs = inputs
	p, err := pipeline.New(cfg, deps)
	if err != nil {
		return err
	}
	if err := p.Start(context.Background()); err != nil {
		return err
	}
	sum, err := p.Wait()
	if err != nil {
		return err
	}
	if !f.quiet {
		st := router.Stats()
		printPcapSummary(stderr, sum, st, f.out)
		printLogsDelivered(stderr, st.Logs)
	}
	undelivered := f.outs.finish(quietWriter(stderr, f.quiet))
	for _, e := range sum.InputErrors {
		fmt.Fprintf(stderr, "vpcflow: %v\n", e)
	}
	if len(sum.InputErrors) > 0 {
		return &exitError{code: 1}
	}
	if undelivered != "" {
		return &exitError{code: 1, msg: undelivered}
	}
	if msg := unusablePackets(sum); msg != "" {
		return &exitError{code: 1, msg: msg}
	}
	return nil
}

// pcapInputs are the capture files of args, "-" being standard input.
func pcapInputs(cmd *cobra.Command, args []string) ([]pipeline.Input, error) {
	var out []pipeline.Input
	stdin := false
	for _, a := range args {
		if a != "-" {
			out = append(out, pipeline.FileInput(a, 0, false))
			continue
		}
		if stdin {
			return nil, usageErrorf("- (standard input) is given twice: it can be read once")
		}
		stdin = true
		in := cmd.InOrStdin()
		out = append(out, pipeline.Input{Name: "<stdin>", Open: func() (capture.Source, error) {
			return capture.NewReader(in, "<stdin>")
		}})
	}
	return out, nil
}

// unusablePackets explains a run where packets were read and none could
// give a record: all were skipped by the decoder or sent and received by
// no declared interface. "" otherwise (traffic AWS never logs is a reason
// for no record, not a mistake).
func unusablePackets(s *pipeline.Summary) string {
	skipped, unattributed := s.Decode.Skipped(), s.Attribute.Unattributed
	if s.Packets == 0 || skipped+unattributed < s.Packets {
		return ""
	}
	var why []string
	if skipped > 0 {
		var reasons []string
		for _, c := range s.Undecodable() {
			if c.N > 0 {
				reasons = append(reasons, fmt.Sprintf("%s %s", grouped(c.N), c.Reason))
			}
		}
		why = append(why, fmt.Sprintf("%s skipped (%s)", grouped(skipped), strings.Join(reasons, ", ")))
	}
	if unattributed > 0 {
		why = append(why, fmt.Sprintf("%s sent and received by no declared interface (check the MAC and IP addresses of the topology's NetworkInterfaces)", grouped(unattributed)))
	}
	return fmt.Sprintf("no record: none of the %s packets could be used: %s", grouped(s.Packets), strings.Join(why, "; "))
}

// flowLogSetup reads the topology (or the single interface's flags), makes
// the flow logs (the topology's FlowLogs, else implicit ones from the
// flags) and the router that delivers them, as `vpcflow pcap` and
// `vpcflow run` share them; closeStore closes the log store it opened.
func flowLogSetup(cmd *cobra.Command, f *pcapFlags) (cfg pipeline.Config, router *deliver.Router, closeStore func(), err error) {
	closeStore = func() {}
	var opened interface{ Close() error }
	defer func() {
		if err != nil && opened != nil {
			opened.Close()
		}
	}()
	if f.stdout && f.out != "" {
		return cfg, nil, nil, usageErrorf("--stdout and --out exclude each other")
	}
	// --publish alone: an agent, whose records a collector stores.
	publishOnly := !f.stdout && f.out == "" && f.publish != ""
	if !f.stdout && f.out == "" && !publishOnly {
		f.out = "flowlogs"
	}
	cfg = pipeline.DefaultConfig()
	if err := setFlowBounds(&cfg.Flow, f.memory, f.maxFlowsPerWindow, f.maxFlows); err != nil {
		return cfg, nil, nil, err
	}
	if cfg.Decap, err = pipeline.ParseDecap(f.decap); err != nil {
		return cfg, nil, nil, usageErrorf("--decap: %v", err)
	}
	if f.shards > 0 {
		cfg.Flow.Shards = f.shards
	}
	iv := f.interval
	tmpl := flowlog.Spec{
		TrafficType: f.traffic, LogDestinationType: flowlog.DestS3, LogDestination: "arn:aws:s3:::local",
		LogFormat: f.format, MaxAggregationInterval: &iv,
		DestinationOptions: &topology.DestinationOptions{FileFormat: f.fileFormat},
	}
	var declared []*flowlog.FlowLog
	if f.topology != "" {
		// the same check as `vpcflow topology validate`: every problem of
		// the file, its FlowLogs included, at once
		if cfg.Topology, declared, err = flowlog.Load(f.topology); err != nil {
			return cfg, nil, nil, err
		}
		if cmd.Flags().Changed("eni") || cmd.Flags().Changed("account") || cmd.Flags().Changed("region") || len(f.localCIDRs) > 0 {
			return cfg, nil, nil, usageErrorf("--eni, --account, --region and --local-cidr apply only without --topology")
		}
		if len(cfg.Topology.FlowLogs) > 0 {
			for _, name := range []string{"format", "interval", "traffic-type", "file-format"} {
				if cmd.Flags().Changed(name) {
					return cfg, nil, nil, usageErrorf("--%s applies to implicit flow logs, but %s declares FlowLogs", name, f.topology)
				}
			}
		}
	} else {
		for name, v := range map[string]string{"eni": f.eni, "account": f.account, "region": f.region} {
			if !isToken(v) {
				return cfg, nil, nil, usageErrorf("--%s: want a non-empty id of letters, digits, '-', '_' or '.', got %q", name, v)
			}
		}
		cfg.Interface = &topology.ENI{ID: f.eni, AccountID: f.account, Region: f.region}
		for _, s := range f.localCIDRs {
			p, err := parsePrefixOrAddr(s)
			if err != nil {
				return cfg, nil, nil, usageErrorf("--local-cidr %v", err)
			}
			cfg.LocalPrefixes = append(cfg.LocalPrefixes, p)
		}
	}
	if len(declared) > 0 {
		cfg.FlowLogs = declared
	} else if cfg.FlowLogs, err = flowlog.Implicit(cfg.Topology, cfg.Interface, tmpl); err != nil {
		var fe *flowlog.Error
		if errors.As(err, &fe) && strings.HasPrefix(fe.Where, "flags") {
			return cfg, nil, nil, usageErrorf("%s", flagOfSpec(fe))
		}
		return cfg, nil, nil, err
	}
	// A converter, not the service: --out stands for every flow log's
	// bucket and is created as needed (ExistingBuckets stays off).
	router = &deliver.Router{BucketRoot: func(string) string { return f.out }}
	if f.stdout {
		if err := oneStdoutFormat(cfg.FlowLogs); err != nil {
			return cfg, nil, nil, err
		}
		router.Stdout = cmd.OutOrStdout()
	} else if publishOnly {
		router.RecordsOnly = true
	} else if !strings.Contains(f.out, "://") {
		removed, err := deliver.NewS3Dir(f.out).RemoveStale()
		if err != nil {
			return cfg, nil, nil, err
		}
		if len(removed) > 0 && !f.quiet {
			fmt.Fprintf(cmd.ErrOrStderr(), "vpcflow: removed %d unfinished object(s) of an earlier run that was killed, under %s\n", len(removed), f.out)
		}
	}
	for _, fl := range cfg.FlowLogs {
		if fl.DestinationType == flowlog.DestCloudWatch && router.Logs == nil && !f.stdout && !publishOnly {
			store, err := openLogService(f.dataDir, cmd.ErrOrStderr())
			if err != nil {
				return cfg, nil, nil, err
			}
			opened, closeStore = store, func() { store.Close() }
			router.Logs = store
		}
		if err := router.Check(fl); err != nil {
			return cfg, nil, nil, fmt.Errorf("%v: use --stdout", err)
		}
	}
	out := f.out
	if f.stdout {
		out = ""
	}
	if f.outs, err = openOutputs(cmd, &f.outputFlags, out, f.dataDir, f.quiet, router, nil); err != nil {
		return cfg, nil, nil, err
	}
	closeLogs := closeStore
	closeStore = func() { f.outs.finish(nil); closeLogs() }
	return cfg, router, closeStore, nil
}

// oneStdoutFormat refuses --stdout for flow logs of different record
// formats ([Choice]): their lines would mix with nothing to tell them
// apart, and tools that read records (vpcflow records parse, Athena) read
// one format. --out keeps each flow log in its own objects, each with its
// header line.
func oneStdoutFormat(fls []*flowlog.FlowLog) error {
	var formats []string
	byFormat := map[string][]string{}
	for _, fl := range fls {
		k := fl.Format.String()
		if byFormat[k] == nil {
			formats = append(formats, k)
		}
		byFormat[k] = append(byFormat[k], fl.ID)
	}
	if len(formats) < 2 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--stdout prints the records of every flow log as one stream of lines, and these flow logs have %d record formats:", len(formats))
	for _, k := range formats {
		fmt.Fprintf(&b, "\n  %s: %s", strings.Join(byFormat[k], ", "), k)
	}
	b.WriteString("\nuse --out DIR (each flow log in its own objects, with its header line), or give flow logs of one format")
	return usageErrorf("%s", b.String())
}

// flagOfSpec names the flag behind a CreateFlowLogs parameter of an
// implicit flow log.
func flagOfSpec(e *flowlog.Error) string {
	for key, flag := range map[string]string{".TrafficType": "--traffic-type", ".MaxAggregationInterval": "--interval", ".LogFormat": "--format", ".DestinationOptions.FileFormat": "--file-format"} {
		if strings.HasSuffix(e.Where, key) {
			return fmt.Sprintf("%s: %s", flag, e.Msg)
		}
	}
	return e.Error()
}

// isToken reports whether s can be one field of a record line.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// parsePrefixOrAddr reads a --local-cidr value: a CIDR (host bits may be
// set: 10.0.1.5/24 is the interface's address in its subnet) or one address.
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return topology.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a CIDR (such as 10.0.1.10 or 10.0.1.0/24)", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func grouped(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func printPcapSummary(w io.Writer, s *pipeline.Summary, st deliver.RouterStats, out string) {
	fmt.Fprint(w, "\r")
	skipped := []string{}
	for _, c := range s.Undecodable() {
		if c.N > 0 {
			skipped = append(skipped, fmt.Sprintf("%s %s", grouped(c.N), c.Reason))
		}
	}
	excluded := []string{}
	var exTotal uint64
	for _, c := range s.Excluded() {
		if c.N > 0 {
			exTotal += c.N
			excluded = append(excluded, fmt.Sprintf("%s %s", grouped(c.N), c.Reason))
		}
	}
	fmt.Fprintf(w, "vpcflow: %s packets in %s (%s packets/s)\n", grouped(s.Packets), s.Elapsed.Round(time.Millisecond),
		grouped(uint64(float64(s.Packets)/max(s.Elapsed.Seconds(), 1e-9))))
	fmt.Fprintf(w, "  skipped:  %s%s\n", grouped(s.Decode.Skipped()), paren(skipped))
	if s.Encap.Frames > 0 {
		var kinds []string
		for i, n := range s.Encap.ByKind {
			if n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s %s", grouped(n), pipeline.Encap(1<<i)))
			}
		}
		fmt.Fprintf(w, "  encapsulated: %s frames opened%s\n", grouped(s.Encap.Frames), paren(kinds))
	}
	if a := s.Attribute; a.Mirrored > 0 {
		unknown := ""
		if a.MirrorSourceUnknown > 0 {
			unknown = fmt.Sprintf("; %s from addresses of no declared interface, attributed by their MACs and addresses", grouped(a.MirrorSourceUnknown))
		}
		fmt.Fprintf(w, "  mirrored: %s packets out of VXLAN, each on the interface that sent the copy%s\n", grouped(a.Mirrored), unknown)
	}
	fmt.Fprintf(w, "  excluded: %s%s (traffic AWS never logs)\n", grouped(exTotal), paren(excluded))
	fmt.Fprintf(w, "  unattributed: %s (no declared interface sent or received them)\n", grouped(s.Attribute.Unattributed))
	fmt.Fprintf(w, "  flows:    %s in %s window%s (%s late packets, %s packets dropped at a bound)\n",
		grouped(s.Flow.Flows), grouped(s.Flow.Windows), plural(int(s.Flow.Windows)), grouped(s.Flow.Late), grouped(s.Flow.DroppedPackets))
	if s.Flow.DroppedPackets > 0 {
		var bounds []string
		if n := s.Flow.DroppedByBudget; n > 0 {
			bounds = append(bounds, fmt.Sprintf("%s at the memory budget of %s (--memory)", grouped(n), pipeline.FormatSize(s.Flow.MemoryBudget)))
		}
		if n := s.Flow.DroppedPackets - s.Flow.DroppedByBudget; n > 0 {
			bounds = append(bounds, fmt.Sprintf("%s at a flow-count bound (--max-flows-per-window, --max-flows)", grouped(n)))
		}
		fmt.Fprintf(w, "  SKIPDATA: %s packets of new flows not recorded (%s); the windows of their interfaces have SKIPDATA records\n",
			grouped(s.Flow.DroppedPackets), strings.Join(bounds, "; "))
	}
	if s.Flow.GapCount > 0 {
		var gaps []string
		for _, g := range s.Flow.Gaps {
			gaps = append(gaps, time.Unix(g.From, 0).UTC().Format(time.RFC3339)+" → "+time.Unix(g.To, 0).UTC().Format(time.RFC3339))
		}
		more := ""
		if n := s.Flow.GapCount - uint64(len(s.Flow.Gaps)); n > 0 {
			more = fmt.Sprintf(" and %s more", grouped(n))
		}
		fmt.Fprintf(w, "  capture gaps: %s (silences over an hour: no windows inside them): %s%s\n",
			grouped(s.Flow.GapCount), strings.Join(gaps, ", "), more)
	}
	fmt.Fprintf(w, "  records:  %s (%s OK, %s NODATA, %s SKIPDATA; %s left out by traffic type)\n",
		grouped(s.Records.Records), grouped(s.Records.OK), grouped(s.Records.NoData), grouped(s.Records.SkipData), grouped(s.Records.Filtered))
	// Per-flow memory means something only over many flows: on a handful,
	// the tables' first allocations and the process's own memory are all
	// there is.
	if s.Flow.PeakFlows > 0 {
		perFlow := ""
		if s.Flow.PeakFlows >= 10_000 {
			perFlow = fmt.Sprintf(" (%.0f B per flow)", float64(s.Flow.PeakTableBytes)/float64(s.Flow.PeakFlows))
		}
		fmt.Fprintf(w, "  flow tables: %s MiB at most%s of a budget of %s\n",
			grouped(uint64(s.Flow.PeakTableBytes>>20)), perFlow, budgetText(s.Flow.MemoryBudget))
	}
	if s.RSSPeak > 0 && s.Flow.PeakFlows >= 10_000 {
		fmt.Fprintf(w, "  memory:   peak RSS %s MiB (%s MiB at start), %s active flows at most (%s B per flow)\n",
			grouped(uint64(s.RSSPeak>>20)), grouped(uint64(s.RSSStart>>20)), grouped(uint64(s.Flow.PeakFlows)),
			grouped(uint64(max(0, s.RSSPeak-s.RSSStart)/s.Flow.PeakFlows)))
	}
	if s.Policy != nil {
		fmt.Fprintf(w, "  conntrack: %s connections tracked at the end (%s started, %s evicted at the bound of %s; %s packets after a close rejected)\n",
			grouped(uint64(s.Policy.Tracked)), grouped(s.Policy.Inserted), grouped(s.Policy.Evicted), grouped(uint64(s.Policy.Capacity)), grouped(s.Policy.Closed))
	}
	if s.Attribute.Rejected > 0 {
		fmt.Fprintf(w, "  rejected: %s observations\n", grouped(s.Attribute.Rejected))
	}
	if len(st.Objects) > 0 {
		fmt.Fprintf(w, "  wrote %d objects (%s bytes) under %s\n", len(st.Objects), grouped(uint64(st.ObjectBytes)), out)
	}
}

func paren(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func budgetText(b int64) string {
	if b == 0 {
		return "none (--memory 0)"
	}
	return pipeline.FormatSize(b)
}
