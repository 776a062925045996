package main

import "github.com/spf13/cobra"

// logsSubcommands holds the constructors of the `vpcflow logs ...` commands;
// each lives in its own file (logs_*.go) and registers itself from init.
var logsSubcommands []func() *cobra.Command

func registerLogs(f func() *cobra.Command) { logsSubcommands = append(logsSubcommands, f) }

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "logs",
			Short: "CloudWatch-Logs-like store: log groups, streams, filter patterns, metric filters, alarms, Insights queries",
			Long: `The logs commands work on an embedded CloudWatch-Logs-like store kept in
--data-dir (default $VPCFLOW_DATA_DIR, else ~/.local/share/vpcflow).`,
		}
		for _, f := range logsSubcommands {
			c.AddCommand(f())
		}
		return c
	})
}
