package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/lab"
)

func init() { register(newLabCmd) }

func newLabCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "lab",
		Short: "Build a topology's VPCs from network namespaces, with real security groups and network ACLs",
		Long: `The lab builds the VPCs of a topology file on this Linux host out of network
namespaces: one per network interface (an "instance" whose eth0 has the
ENI's MAC and private addresses), a router namespace with a bridge per
subnet and the route tables, and an "internet" namespace of public peers
behind an internet gateway that maps public IPv4 addresses 1:1. nftables
enforces the security groups (stateful) and network ACLs (stateless) as AWS
does, so what the kernel drops is what vpcflow's policy engine records as
REJECT. Capture the ENIs' ports with vpcflow run to get their flow logs.

Everything is named vf-ID-... (ID from --lab-id) and lives in the lab's
namespaces: lab down finds and removes it, also after lab up was killed.
Needs root, iproute2 and nftables. See docs/lab.md.`,
	}
	c.AddCommand(newLabUpCmd(), newLabDownCmd(), newLabStatusCmd(), newLabExecCmd())
	return c
}

type labUpFlags struct {
	topology, id    string
	detach, verbose bool
}

func newLabUpCmd() *cobra.Command {
	var f labUpFlags
	c := &cobra.Command{
		Use:   "up --topology FILE [--lab-id ID] [--detach]",
		Short: "Build the lab, print what it holds, and remove it at Ctrl-C",
		Long: `up builds the lab of a topology file and prints its namespaces, addresses,
what the topology has that the lab does not build, and the vpcflow run
command that captures every ENI. It then waits: SIGINT (Ctrl-C) or SIGTERM
removes the lab. With --detach it exits once the lab is built and leaves it
for 'vpcflow lab down'.

A lab id can be up once: up refuses while namespaces vf-ID-* exist.`,
		Example: `  sudo vpcflow lab up --topology lab/testdata/ping.yaml
  sudo vpcflow lab exec internet -- ping -c 3 203.0.113.10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLabUp(cmd, &f) },
	}
	c.Flags().StringVar(&f.topology, "topology", "", "topology file (YAML or JSON, see docs/topology.md)")
	c.Flags().StringVar(&f.id, "lab-id", lab.DefaultID, "lab id: its namespaces are vf-ID-... (1-12 lowercase letters and digits)")
	c.Flags().BoolVar(&f.detach, "detach", false, "exit once the lab is built, leaving it up")
	c.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "print every command run to build and remove the lab (stderr)")
	return c
}

func runLabUp(cmd *cobra.Command, f *labUpFlags) error {
	if f.topology == "" {
		return usageErrorf("--topology: required (the topology file to build)")
	}
	if err := lab.ValidID(f.id); err != nil {
		return usageErrorf("--lab-id: %v", err)
	}
	top, _, err := flowlog.Load(f.topology)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	cfg := lab.DefaultConfiguration()
	cfg.ID = f.id
	deps := lab.Dependencies{Topology: top}
	stderr := cmd.ErrOrStderr()
	if f.verbose {
		deps.Log = stderr
	}
	l, err := lab.New(cfg, deps)
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := l.Start(ctx); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	l.Plan().Describe(cmd.OutOrStdout(), f.topology)
	if f.detach {
		fmt.Fprintf(stderr, "vpcflow lab up: lab %s built in %v; vpcflow lab down --lab-id %s removes it\n",
			f.id, time.Since(start).Round(time.Millisecond), f.id)
		return nil
	}
	fmt.Fprintf(stderr, "vpcflow lab up: lab %s built in %v; Ctrl-C removes it\n", f.id, time.Since(start).Round(time.Millisecond))
	<-ctx.Done()
	if err := l.Stop(); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	fmt.Fprintf(stderr, "vpcflow lab up: lab %s removed\n", f.id)
	return nil
}

func newLabDownCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "down [--lab-id ID]",
		Short: "Remove every namespace of a lab, and with them its interfaces and rules",
		Long: `down deletes the namespaces vf-ID-*, whoever made them: a lab up that
was killed leaves them behind. The lab's veth pairs, bridges, routes and
nftables tables exist only inside them and go with them. A process still
running inside a namespace (a shell of 'lab exec', a capture) keeps it
alive until it exits: down names such processes and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := lab.ValidID(id); err != nil {
				return usageErrorf("--lab-id: %v", err)
			}
			removed, err := lab.Down(id, io.Discard)
			for _, ns := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), "removed", ns)
			}
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			if len(removed) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "vpcflow lab down: no lab %s (no namespace %s*)\n", id, lab.Prefix(id))
			}
			return nil
		},
	}
	c.Flags().StringVar(&id, "lab-id", lab.DefaultID, "lab id")
	return c
}

func newLabStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "List the labs on this host: their namespaces and interfaces",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labs, err := lab.Status()
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			w := cmd.OutOrStdout()
			if len(labs) == 0 {
				fmt.Fprintln(w, "no lab on this host")
				return nil
			}
			for _, l := range labs {
				fmt.Fprintf(w, "lab %s:\n", l.ID)
				width := 0
				for _, ns := range l.Namespaces {
					width = max(width, len(ns.Name))
				}
				for _, ns := range l.Namespaces {
					if ns.Err != nil {
						fmt.Fprintf(w, "  %-*s  %v\n", width, ns.Name, ns.Err)
						continue
					}
					name := ns.Name
					for _, ln := range ns.Links {
						text := ln.Name + " " + ln.MAC
						if len(ln.Addrs) > 0 {
							text += " " + strings.Join(ln.Addrs, " ")
						}
						if ln.Master != "" {
							text += " on " + ln.Master
						}
						if ln.Alias != "" {
							text += " (" + ln.Alias + ")"
						}
						if ln.State != "" && ln.State != "UP" && ln.State != "UNKNOWN" {
							text += " " + strings.ToLower(ln.State)
						}
						fmt.Fprintf(w, "  %-*s  %s\n", width, name, text)
						name = ""
					}
					if name != "" {
						fmt.Fprintf(w, "  %-*s  (no interfaces)\n", width, name)
					}
				}
			}
			return nil
		},
	}
}

func newLabExecCmd() *cobra.Command {
	var id string
	c := &cobra.Command{
		Use:   "exec [--lab-id ID] ENI|INSTANCE|router|internet -- CMD [ARG...]",
		Short: "Run a command inside one of a lab's namespaces",
		Long: `exec runs CMD in a namespace of the lab: an ENI's (by ENI id, or by the
id of the instance it is attached to when that instance has one ENI), the
router's or the internet's. Its exit status is the command's.`,
		Example: `  sudo vpcflow lab exec internet -- ping -c 3 203.0.113.10
  sudo vpcflow lab exec i-0a1b2c3d4e5f60718 -- ip addr
  sudo vpcflow lab exec router -- nft list ruleset`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErrorf("want a namespace (ENI, instance, router or internet) and a command, got %d arguments\nRun 'vpcflow lab exec --help' for usage.", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := lab.ValidID(id); err != nil {
				return usageErrorf("--lab-id: %v", err)
			}
			ns, err := lab.Resolve(id, args[0])
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			argv := args[1:]
			if argv[0] == "--" {
				argv = argv[1:]
			}
			if len(argv) == 0 {
				return usageErrorf("want a command after --")
			}
			x := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
			x.Stdin, x.Stdout, x.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			// Ctrl-C reaches the command (same process group); we wait
			// for it rather than die first.
			signal.Ignore(os.Interrupt)
			defer signal.Reset(os.Interrupt)
			err = x.Run()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return &exitError{code: ee.ExitCode()}
			}
			if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("lab exec: %v", err)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&id, "lab-id", lab.DefaultID, "lab id")
	c.Flags().SetInterspersed(false)
	return c
}
