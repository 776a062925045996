package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/pipeline"
)

func init() { register(newRunCmd) }

type runFlags struct {
	pcapFlags
	liveFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run [--topology FILE] --interface IF[=eni-ID]... [--stdout | --out DIR]",
		Short: "Turn the traffic of live interfaces into AWS VPC flow logs, until Ctrl-C",
		Long: `Capture live network interfaces of this host and write AWS VPC flow-log
records as each capture window closes on the clock, in the foreground, until
SIGINT (Ctrl-C) or SIGTERM: then the open windows are closed and delivered,
and a summary goes to stderr.

The flow logs and their destinations are those of 'vpcflow pcap': the
topology's FlowLogs (else one per VPC from --format, --interval,
--traffic-type, --file-format), the S3 layout under --out (each window's
records as soon as it closes), the log store of --data-dir for
cloud-watch-logs flow logs, or records on stdout with --stdout; --publish
also sends every record to Kafka, and without --out only there (an agent
whose records 'vpcflow collect' stores). Without --topology, every frame
belongs to one interface (--eni, --local-cidr).

` + decapHelp + `

` + liveFlagsHelp,
		Example: `  # the host's eth0 is ENI eni-0a1b2c3d4e5f60718 of the topology; records on stdout every minute
  sudo vpcflow run --topology net.yaml --interface eth0=eni-0a1b2c3d4e5f60718 --interval 60 --stdout

  # two interfaces attributed by their MACs, S3 layout under ./flowlogs
  sudo vpcflow run --topology net.yaml --interface eth0,eth1 --out flowlogs

  # no topology: one interface, ACCEPT for all, egress from 10.0.1.10
  sudo vpcflow run --interface eth0 --local-cidr 10.0.1.10 --interval 60 --stdout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, &f) },
	}
	addFlowLogFlags(c, &f.pcapFlags)
	addDecapFlag(c, &f.pcapFlags)
	addLiveFlags(c, &f.liveFlags)
	c.Flags().BoolVar(&f.quiet, "quiet", false, "no start line and no summary")
	return c
}

func runRun(cmd *cobra.Command, f *runFlags) error {
	if len(f.interfaces) == 0 {
		return usageErrorf("--interface: name at least one interface to capture (IF or IF=eni-ID)")
	}
	ifs, err := liveInterfaces(&f.liveFlags)
	if err != nil {
		return err
	}
	var inputs []pipeline.Input
	for _, l := range ifs {
		inputs = append(inputs, pipeline.LiveInput(l.Capture, l.ENI))
	}
	cfg, router, closeStore, err := flowLogSetup(cmd, &f.pcapFlags)
	if err != nil {
		return err
	}
	defer closeStore()
	// Live records are wanted while the capture runs: finish S3 objects at
	// every window, not once per 5-minute slot.
	router.EveryWindow = true
	cfg.Inputs = inputs
	stderr := cmd.ErrOrStderr()
	p, err := pipeline.New(cfg, pipeline.Dependencies{Destination: func(*flowlog.FlowLog) flowlog.Destination { return router }})
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := p.Start(ctx); err != nil {
		p.Stop()
		return &exitError{code: 1, msg: err.Error()}
	}
	if !f.quiet {
		var names []string
		for _, in := range inputs {
			n := in.Name
			if in.ENI != "" {
				n += " (" + in.ENI + ")"
			}
			names = append(names, n)
		}
		where := "stdout"
		if !f.stdout {
			where = f.out
		}
		fmt.Fprintf(stderr, "vpcflow run: capturing %s; %d flow log(s) to %s; windows close %v after their end; Ctrl-C stops\n",
			strings.Join(names, ", "), len(cfg.FlowLogs), where, inputs[0].Grace)
	}
	sum, err := p.Wait()
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if !f.quiet {
		st := router.Stats()
		printPcapSummary(stderr, sum, st, f.out)
		printLogsDelivered(stderr, st.Logs)
		printCapture(stderr, sum.Capture)
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
	return nil
}
