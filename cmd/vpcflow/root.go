package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// subcommands holds the constructors of the top-level commands. Each command
// group lives in its own file and registers itself here from init, so adding a
// command never touches this file.
var subcommands []func() *cobra.Command

func register(f func() *cobra.Command) { subcommands = append(subcommands, f) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "vpcflow",
		Short: "AWS-compatible VPC flow logs for any network",
		Long: `vpcflow turns packet captures, live interfaces and simulated VPCs into
byte-for-byte AWS VPC Flow Logs records (every version 2-8 field, default and
custom formats, the S3 key layout, CloudWatch-Logs streams per ENI), and gives
the tools to search them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%v\nRun '%s --help' for usage.", err, c.CommandPath())
	})
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

// exitError carries a specific exit status out of a command. An empty msg
// means the command already reported the problem on stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError marks a mistake in how the command was called: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func isUsageError(err error) bool {
	if _, ok := err.(*usageError); ok {
		return true
	}
	// cobra reports unknown commands and bad argument counts as plain errors.
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "unknown flag") || strings.HasPrefix(s, "unknown shorthand flag")
}
