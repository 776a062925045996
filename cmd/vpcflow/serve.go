package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/api"
	"github.com/vpcflow/vpcflow/api/sigv4"
	"github.com/vpcflow/vpcflow/capture"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/lab"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/region"
	"github.com/vpcflow/vpcflow/sim"
	"github.com/vpcflow/vpcflow/topology"
	"github.com/vpcflow/vpcflow/web"
)

func init() { register(newServeCmd) }

// defaultSimRate is the packets per second of a bare --sim.
const defaultSimRate = 200

type serveFlags struct {
	dataDir, topology, listen, speed, account, region, eni string
	replay, localCIDRs                                     []string
	loop                                                   bool
	sim                                                    float64
	simSeed                                                uint64
	scenario                                               []string
	scenarioRate                                           float64
	scenarioDuration                                       time.Duration
	maxFlowsPerWindow, maxFlows                            int
	memory                                                 string
	lab                                                    bool
	labID                                                  string
	outputFlags
	firehose []string
	liveFlags
	// Set by vpcflow demo: prepare runs once the region is open, before
	// it starts; ready prints after the listening line.
	prepare func(*region.Region) error
	ready   func(w io.Writer, consoleURL, keyID, secret string)
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve [--topology FILE] [--replay FILE...] [--scenario NAME,...] [--speed X|max] [--loop] [--sim[=RATE]] [--interface IF[=eni-ID]...] [--lab [--lab-id ID]]",
		Short: "Run the flow-log service: sources in, flow logs delivered as windows close",
		Long: `serve runs vpcflow as a service for one account and region: packets come
from the sources, flow logs are kept in the data dir's registry (those of the
topology's FlowLogs are created at the first start), and every capture
window's records are delivered as soon as the window closes: S3 objects under
DATA_DIR/buckets/BUCKET/AWSLogs/..., CloudWatch-Logs events in the log store
(read them with 'vpcflow logs ...' once the service stops). As on AWS, a
bucket must exist to receive records ('aws s3 mb', or its directory under
DATA_DIR/buckets): until it does, its flow logs are FAILED ("Access error")
and their records are counted as undeliverable.

Sources:
  --replay FILE...   capture files (pcap/pcapng, plain or gzip), merged by time
  --speed max        read them as fast as possible, keeping packet times
                     (windows close on packet time; the records are those of
                     'vpcflow pcap'); the default
  --speed X          pace them on the clock, X times faster than recorded;
                     each packet is stamped with the time it is released, as
                     if captured live, and windows close on the clock
  --loop             start the replay again at its end, forever
  --scenario NAME[,NAME...]
                     the scripted traffic of named scenarios over the
                     topology's interfaces (docs/scenarios.md): ` + sim.ScenarioNames() + `;
                     --scenario-duration (default 10m) of it, conversations
                     --scenario-rate times as often as scripted, seeded by
                     --sim-seed; --speed and --loop as for a replay: at max
                     speed the records are those of 'vpcflow pcap' over
                     'vpcflow gen pcap --scenario' of the same settings
  --sim[=RATE]       simulated traffic of the topology's interfaces, RATE
                     packets per second (default ` + strconv.Itoa(defaultSimRate) + `), on the clock
  --interface IF[=eni-ID]...
                     live interfaces of this host (Linux, root or CAP_NET_RAW),
                     on the clock; see 'vpcflow run --help' for IF=eni-ID,
                     the grace before windows close, drops and SKIPDATA
  --lab [--lab-id ID]
                     build the network as a lab of network namespaces
                     (Linux, root, nftables; docs/lab.md) at start, capture
                     every ENI's port in the lab's router namespace, and
                     apply the security groups and network ACLs the EC2 API
                     changes to the lab's nftables rules at once; serve
                     removes the lab when it stops (it refuses a lab id
                     that is already up: 'vpcflow lab down --lab-id ID')

The service listens on --listen for HTTP: GET /healthz (JSON status), GET
/metrics (Prometheus), the console for browsers at / (sign in with the key
below; docs/console.md), and the AWS APIs for awscli and the SDKs with
--endpoint-url: EC2 (flow logs, the VPC's resources), IAM (roles), CloudWatch
Logs (the delivered events, Insights queries), S3 (the delivered objects;
buckets are made and emptied with mb, rm and rb; objects uploaded from other
machines with cp, put-object and multipart uploads) and GuardDuty
(findings of the threats detected in the records as they are delivered, as
'vpcflow detect' finds them; kept in DATA_DIR/findings.db).
Requests are signed (SigV4) with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY from
serve's environment if set, else with the key pair in DATA_DIR/credentials
(generated at the first start, profile vpcflow). SIGHUP reloads the --topology file: security groups and
network ACLs decide by the new rules from the next packet (connections
already tracked go on), new interfaces of monitored VPCs and subnets are
logged, new FlowLogs are created. SIGINT or SIGTERM stops the sources, closes
and delivers the open windows and exits 0. One process owns a data dir: another
'serve' or 'vpcflow logs' on it is told who holds it.`,
		Example: `  # replay the demo capture into the example VPC's flow logs (to the bucket
  # demo-flow-bucket, made first), then keep serving
  mkdir -p ./data/buckets/demo-flow-bucket
  vpcflow serve --data-dir ./data --topology examples/topology.yaml --replay examples/demo.pcap.gz

  # near-real-time: the same capture at 10x, looped, on the clock
  vpcflow serve --data-dir ./data --topology examples/topology.yaml --replay examples/demo.pcap.gz --speed 10 --loop

  # simulated traffic, 500 packets/s
  vpcflow serve --data-dir ./data --topology examples/topology.yaml --sim=500

  # an SSH brute force and a port scan, 10 times faster than real time, again
  # and again, over background traffic
  mkdir -p ./data2/buckets/scenario-flow-bucket
  vpcflow serve --data-dir ./data2 --topology examples/scenarios.yaml --scenario ssh-brute-force,port-scan --speed 10 --loop --sim
  curl -s 127.0.0.1:4566/healthz`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				// "--sim 500": a flag with an optional value cannot take
				// the next word itself, so serve takes it here.
				rate, err := strconv.ParseFloat(args[0], 64)
				if !cmd.Flags().Changed("sim") || err != nil {
					return usageErrorf("unexpected argument %q: serve takes only flags", args[0])
				}
				f.sim = rate
			}
			return runServe(cmd, &f)
		},
	}
	fl := c.Flags()
	addLogsDataDirFlag(c, &f.dataDir)
	fl.StringVar(&f.topology, "topology", "", "topology file (YAML/JSON with EC2 describe-* keys); without it, one interface (--eni)")
	fl.StringSliceVar(&f.replay, "replay", nil, "capture files to replay (repeat or comma-separate)")
	fl.StringVar(&f.speed, "speed", "max", "replay speed: max (as fast as possible, packet time) or a factor such as 1 or 10 (on the clock)")
	fl.BoolVar(&f.loop, "loop", false, "replay the files again at their end, forever")
	fl.Float64Var(&f.sim, "sim", 0, "simulated traffic at RATE packets per second (--sim alone: "+strconv.Itoa(defaultSimRate)+")")
	fl.Lookup("sim").NoOptDefVal = strconv.Itoa(defaultSimRate)
	fl.Uint64Var(&f.simSeed, "sim-seed", 1, "seed of the simulated traffic and of the scenarios")
	fl.StringSliceVar(&f.scenario, "scenario", nil, "named scenarios to play (repeat or comma-separate): "+sim.ScenarioNames())
	fl.Float64Var(&f.scenarioRate, "scenario-rate", 1, "start the scenarios' conversations this many times as often as scripted")
	fl.DurationVar(&f.scenarioDuration, "scenario-duration", sim.DefaultScenarioDuration, "span of the scenarios' conversation starts (scenario time, before --speed)")
	addLiveFlags(c, &f.liveFlags)
	fl.BoolVar(&f.lab, "lab", false, "build the network as a lab of namespaces (Linux, root; docs/lab.md), capture its interfaces and apply the EC2 API's rule changes to it; removed when serve stops")
	fl.StringVar(&f.labID, "lab-id", lab.DefaultID, "with --lab, the lab id: its namespaces are vf-ID-... (1-12 lowercase letters and digits)")
	fl.StringVar(&f.listen, "listen", api.DefaultConfiguration().Listen, "HTTP address (healthz, metrics); keep it on loopback")
	fl.StringVar(&f.account, "account", "", "account id (default: the topology's, else the data dir's, else 123456789012)")
	fl.StringVar(&f.region, "region", "", "region (default: the topology's, else the data dir's, else us-east-1)")
	fl.StringVar(&f.eni, "eni", defaultENI, "interface id (without --topology)")
	fl.StringSliceVar(&f.localCIDRs, "local-cidr", nil, "the interface's own addresses (without --topology): packets from them are egress")
	addFlowBoundFlags(c, &f.memory, &f.maxFlowsPerWindow, &f.maxFlows)
	fl.StringArrayVar(&f.firehose, "firehose", nil, firehoseHelp)
	addPublishFlag(c, &f.outputFlags, "")
	addS3Flags(c, &f.outputFlags)
	return c
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	cfg := region.DefaultConfiguration()
	var err error
	if cfg.DataDir, err = logsDataDir(f.dataDir); err != nil {
		return err
	}
	if abs, err := filepath.Abs(cfg.DataDir); err == nil {
		cfg.DataDir = abs // printed in the hints for awscli, which may run elsewhere
	}
	cfg.Account, cfg.Region, cfg.DefaultAccount, cfg.DefaultRegion = f.account, f.region, defaultAccount, defaultRegion
	cfg.Replay, cfg.Loop, cfg.SimRate, cfg.SimSeed = f.replay, f.loop, f.sim, f.simSeed
	if err := setFlowBounds(&cfg.Flow, f.memory, f.maxFlowsPerWindow, f.maxFlows); err != nil {
		return err
	}
	if f.speed != "max" {
		if cfg.Speed, err = strconv.ParseFloat(f.speed, 64); err != nil || cfg.Speed <= 0 {
			return usageErrorf("--speed %q: want max or a positive factor such as 1 or 10", f.speed)
		}
	}
	if cmd.Flags().Changed("sim") && f.sim <= 0 {
		return usageErrorf("--sim=%v: want a positive number of packets per second", f.sim)
	}
	if f.loop && len(f.replay) == 0 && len(f.scenario) == 0 {
		return usageErrorf("--loop needs --replay or --scenario")
	}
	scenarioNames, err := serveScenarioFlags(cmd, f)
	if err != nil {
		return err
	}
	recorded := "the replay"
	if len(f.replay) == 0 {
		recorded = "the scenarios"
	}
	if cfg.SimRate > 0 && (len(f.replay) > 0 || len(f.scenario) > 0) && cfg.Speed == 0 {
		return usageErrorf("--sim runs on the clock: give %s a --speed (such as 1) to mix them", recorded)
	}
	if cfg.Interfaces, err = liveInterfaces(&f.liveFlags); err != nil {
		return err
	}
	if len(cfg.Interfaces) > 0 && (len(f.replay) > 0 || len(f.scenario) > 0) && cfg.Speed == 0 {
		return usageErrorf("--interface runs on the clock: give %s a --speed (such as 1) to mix them", recorded)
	}
	// The scenarios are played over the service's network, known once
	// the region is open (the data dir's, or the topology file at the
	// first start): the input opens the run built then.
	var scenario *sim.Scenario
	if len(scenarioNames) > 0 {
		cfg.Inputs = append(cfg.Inputs, pipeline.Input{
			Name: "scenario:" + strings.Join(scenarioNames, ","), Speed: cfg.Speed, Loop: f.loop,
			Open: func() (capture.Source, error) { return scenario.Source(), nil },
		})
	}
	cfg.TopologyFile = f.topology
	if f.topology != "" {
		if cmd.Flags().Changed("eni") || len(f.localCIDRs) > 0 {
			return usageErrorf("--eni and --local-cidr apply only without --topology")
		}
	} else {
		if !isToken(f.eni) {
			return usageErrorf("--eni: want a non-empty id of letters, digits, '-', '_' or '.', got %q", f.eni)
		}
		cfg.Interface = &topology.ENI{ID: f.eni}
		for _, s := range f.localCIDRs {
			p, err := parsePrefixOrAddr(s)
			if err != nil {
				return usageErrorf("--local-cidr: %v", err)
			}
			cfg.LocalPrefixes = append(cfg.LocalPrefixes, p)
		}
	}
	stderr := cmd.ErrOrStderr()
	var served *servedLab
	deps := region.Dependencies{}
	if f.lab {
		if err := lab.ValidID(f.labID); err != nil {
			return usageErrorf("--lab-id: %v", err)
		}
		if (len(f.replay) > 0 || len(f.scenario) > 0) && cfg.Speed == 0 {
			return usageErrorf("--lab captures live, on the clock: give %s a --speed (such as 1) to mix them", recorded)
		}
		if err := lab.Check(); err != nil {
			return &exitError{code: 1, msg: "--lab: " + err.Error()}
		}
		served = &servedLab{id: f.labID, base: f.liveFlags, log: stderr}
		if lc, err := liveBase(&f.liveFlags); err == nil {
			// Interfaces the EC2 API creates are captured too, even in a
			// lab that starts without any.
			cfg.LiveGrace = lc.Grace()
		}
		deps.NetworkInputs, deps.NetworkChanged = served.inputs, served.changed
	} else if cmd.Flags().Changed("lab-id") {
		return usageErrorf("--lab-id needs --lab")
	}
	rep := reporter.New(slog.New(slog.NewTextHandler(stderr, nil)))
	rep.Registerer().MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Listen first: the data dir's lock names the address, and a port in
	// use is reported before anything else happens.
	ln, err := api.Listen(f.listen)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	addr := ln.Addr().String()
	cfg.Owner = fmt.Sprintf("vpcflow serve (PID %d, listening on %s)", os.Getpid(), addr)
	cfg.Endpoint = "http://" + addr
	deps.Reporter = rep
	sinks, err := openServeSinks(&f.outputFlags, f.firehose, cfg.DataDir, rep.Registerer())
	if err != nil {
		ln.Close()
		return err
	}
	defer sinks.close(nil)
	deps.Firehose, deps.Records = sinks.target(), sinks.records
	svc, err := region.New(cfg, deps)
	if err != nil {
		ln.Close()
		return &exitError{code: 1, msg: err.Error()}
	}
	if served != nil {
		served.pipe = svc // interfaces the EC2 API adds are captured there
	}
	if len(scenarioNames) > 0 {
		if scenario, err = serveScenario(svc, f, scenarioNames); err != nil {
			ln.Close()
			svc.Stop()
			return &exitError{code: 1, msg: err.Error()}
		}
	}
	if f.prepare != nil {
		if err := f.prepare(svc); err != nil {
			ln.Close()
			svc.Stop()
			return &exitError{code: 1, msg: err.Error()}
		}
	}
	keyID, secret, source, err := sigv4.LoadOrCreate(cfg.DataDir, os.Getenv)
	if err != nil {
		ln.Close()
		svc.Stop()
		return &exitError{code: 1, msg: err.Error()}
	}
	creds := sigv4.StaticCredentials{keyID: secret}
	console, err := web.New(web.DefaultConfiguration(), web.Dependencies{Region: svc, Credentials: creds, Reporter: rep})
	if err != nil {
		ln.Close()
		svc.Stop()
		return err
	}
	front, err := api.New(api.Configuration{Listener: ln}, api.Dependencies{Reporter: rep, Region: svc,
		Credentials: creds, Console: console})
	if err != nil {
		ln.Close()
		svc.Stop()
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Before the listening line, which tells scripts (and tests) that
	// serve is ready for a SIGHUP: unhandled, it would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if served != nil {
		// Built before the pipeline starts: its inputs open the ports.
		if err := served.build(ctx); err != nil {
			ln.Close()
			svc.Stop()
			return &exitError{code: 1, msg: err.Error()}
		}
		defer func() {
			if err := served.remove(); err != nil {
				fmt.Fprintf(stderr, "vpcflow serve: removing lab %s: %v\n", f.labID, err)
			}
		}()
	}
	if err := svc.Start(ctx); err != nil {
		ln.Close()
		svc.Stop()
		return &exitError{code: 1, msg: err.Error()}
	}
	if err := front.Start(ctx); err != nil {
		svc.Stop()
		return &exitError{code: 1, msg: err.Error()}
	}
	id := svc.Identity()
	fmt.Fprintf(stderr, "vpcflow serve: account %s, region %s, data dir %s\n", id.Account, id.Region, cfg.DataDir)
	sources := describeSources(&cfg, scenario)
	if served != nil {
		sources = served.describe(sources)
	}
	fmt.Fprintf(stderr, "vpcflow serve: %s; %d flow log(s)\n", sources, svc.Health().FlowLogs)
	if svc.Health().FlowLogs == 0 {
		fmt.Fprintf(stderr, "vpcflow serve: no flow logs yet: create them with 'aws ec2 create-flow-logs --endpoint-url ...' or declare them in the topology's FlowLogs\n")
	}
	switch source {
	case "environment":
		fmt.Fprintf(stderr, "vpcflow serve: requests must be signed with AWS_ACCESS_KEY_ID %s (from the environment)\n", keyID)
	default:
		if source == "generated" {
			fmt.Fprintf(stderr, "vpcflow serve: new credentials: aws_access_key_id %s, aws_secret_access_key %s\n", keyID, secret)
		}
		fmt.Fprintf(stderr, "vpcflow serve: credentials in %s (profile vpcflow): export AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=vpcflow\n",
			sigv4.CredentialsFile(cfg.DataDir), sigv4.CredentialsFile(cfg.DataDir))
	}
	fmt.Fprintf(stderr, "vpcflow serve: listening on http://%s (AWS API for --endpoint-url: EC2, IAM, CloudWatch Logs, CloudWatch, S3, GuardDuty; the console at http://%s/; GET /healthz, GET /metrics); Ctrl-C stops\n", addr, addr)
	if f.ready != nil {
		f.ready(stderr, "http://"+addr+"/", keyID, secret)
	}
	ended := svc.Pipeline().Ended()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-ended:
			ended = nil
			h := svc.Health()
			fmt.Fprintf(stderr, "vpcflow serve: sources ended: %s packets, %s; still serving\n", grouped(h.Packets), recordsSummary(h))
		case <-hup:
			reloadTopology(svc, f.topology, stderr)
		}
	}
	stop()
	fmt.Fprintf(stderr, "vpcflow serve: stopping: closing and delivering the open windows\n")
	ferr := front.Stop()
	console.Stop()
	if err := svc.Stop(); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if ferr != nil {
		return &exitError{code: 1, msg: ferr.Error()}
	}
	h := svc.Health()
	fmt.Fprintf(stderr, "vpcflow serve: stopped: %s packets, %s\n", grouped(h.Packets), recordsSummary(h))
	if msg := sinks.close(stderr); msg != "" {
		return &exitError{code: 1, msg: msg}
	}
	return nil
}

// recordsSummary says how many records were delivered and, when some
// were refused by their destination (a bucket that does not exist, a role
// without permission), how many and where to see why: such records are
// never delivered later.
func recordsSummary(h region.Health) string {
	s := grouped(h.Records) + " records delivered"
	if h.AlreadyStored > 0 {
		s += " (" + grouped(h.AlreadyStored) + " of them already in the log store from an earlier delivery of their windows, not stored again)"
	}
	if h.Undeliverable > 0 {
		s += ", " + grouped(h.Undeliverable) + " undeliverable (refused by their destination: describe-flow-logs shows the flow logs FAILED)"
	}
	return s
}

// reloadTopology reads the topology file again (SIGHUP) and hands it to
// the service; a file that does not load leaves the running one in place.
func reloadTopology(svc *region.Region, path string, w io.Writer) {
	if path == "" {
		fmt.Fprintf(w, "vpcflow serve: SIGHUP ignored: no --topology to reload\n")
		return
	}
	v, err := svc.ReloadTopology()
	if err != nil {
		_, v = svc.Topology()
		fmt.Fprintf(w, "vpcflow serve: topology not reloaded, version %d stays: %v\n", v, err)
		return
	}
	fmt.Fprintf(w, "vpcflow serve: topology reloaded from %s (version %d): new rules apply from the next packet\n", path, v)
}

// serveScenarioFlags checks the scenario flags and returns the scenarios'
// names in their fixed order.
func serveScenarioFlags(cmd *cobra.Command, f *serveFlags) ([]string, error) {
	if len(f.scenario) == 0 {
		for _, name := range []string{"scenario-rate", "scenario-duration"} {
			if cmd.Flags().Changed(name) {
				return nil, usageErrorf("--%s applies only with --scenario", name)
			}
		}
		return nil, nil
	}
	if err := checkScenarioFlags(f.scenario, f.scenarioRate); err != nil {
		return nil, err
	}
	if f.scenarioDuration < time.Second {
		return nil, usageErrorf("--scenario-duration must be at least 1s, got %v", f.scenarioDuration)
	}
	var names []string
	for _, s := range sim.Scenarios() {
		if slices.Contains(f.scenario, s.Name) {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

// serveScenario builds the scenarios' run over the service's network.
func serveScenario(svc *region.Region, f *serveFlags, names []string) (*sim.Scenario, error) {
	t, _ := svc.Topology()
	if t == nil {
		return nil, errors.New("--scenario needs a network: give --topology (examples/scenarios.yaml is made for the scenarios)")
	}
	sc, err := sim.NewScenario(sim.ScenarioConfig{Names: names, Topology: t, Seed: f.simSeed, Rate: f.scenarioRate, Duration: f.scenarioDuration})
	if err != nil {
		return nil, fmt.Errorf("--scenario: %w", err)
	}
	return sc, nil
}

// describeSources names the sources for the start line.
func describeSources(cfg *region.Configuration, scenario *sim.Scenario) string {
	var s []string
	if len(cfg.Replay) > 0 {
		speed := "max speed"
		if cfg.Speed > 0 {
			speed = fmt.Sprintf("x%v", cfg.Speed)
		}
		loop := ""
		if cfg.Loop {
			loop = ", looped"
		}
		s = append(s, fmt.Sprintf("replay of %s (%s%s)", strings.Join(cfg.Replay, ", "), speed, loop))
	}
	if scenario != nil {
		c := scenario.Config()
		speed := "max speed"
		if cfg.Speed > 0 {
			speed = fmt.Sprintf("x%v", cfg.Speed)
		}
		loop := ""
		if cfg.Loop {
			loop = ", looped"
		}
		s = append(s, fmt.Sprintf("scenarios %s (%v at rate %v, seed %d, from %s; %s%s)", strings.Join(scenario.Names(), ", "),
			c.Duration, c.Rate, c.Seed, c.Start.Format(time.RFC3339), speed, loop))
	}
	if cfg.SimRate > 0 {
		s = append(s, fmt.Sprintf("simulator (%v packets/s)", cfg.SimRate))
	}
	for _, l := range cfg.Interfaces {
		n := "live " + l.Capture.Interface
		if l.ENI != "" {
			n += " (" + l.ENI + ")"
		}
		s = append(s, n)
	}
	if len(s) == 0 {
		return "no sources"
	}
	return strings.Join(s, " and ")
}
