package main

// Shared plumbing of the `vpcflow logs ...` commands: the --data-dir flag,
// --start/--end parsing, and table/JSON output. Every logs subcommand uses
// these so the commands agree on defaults, time syntax and output shapes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vpcflow/vpcflow/logsvc"
)

// logsDataDirHelp documents the default in every command's --help.
const logsDataDirHelp = "data dir of the log store (default $VPCFLOW_DATA_DIR, else $HOME/.local/share/vpcflow)"

// addLogsDataDirFlag registers --data-dir; an empty value means the default.
func addLogsDataDirFlag(c *cobra.Command, dir *string) {
	c.Flags().StringVar(dir, "data-dir", "", logsDataDirHelp)
}

// logsDataDir resolves --data-dir: the flag, else $VPCFLOW_DATA_DIR, else
// $HOME/.local/share/vpcflow.
func logsDataDir(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if d := os.Getenv("VPCFLOW_DATA_DIR"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", usageErrorf("no --data-dir given, $VPCFLOW_DATA_DIR unset and no home directory: %v", err)
	}
	return filepath.Join(home, ".local", "share", "vpcflow"), nil
}

// openLogs opens the data dir named by a --data-dir value through the log
// service, the only way into a data dir, for the command cmd. A command
// that only reads (write false) never creates the data dir. The lock names
// the command and this process, so another vpcflow that finds the data dir
// busy says which command holds it. Warnings about skipped definitions go
// to the command's stderr.
func openLogs(cmd *cobra.Command, flag string, write bool) (*logsvc.Service, error) {
	return openLogsAs(cmd.CommandPath(), flag, write, cmd.ErrOrStderr())
}

// logsServiceOptions are the options every command opens a data dir with.
func logsServiceOptions(command string, write bool) logsvc.Options {
	return logsvc.Options{
		// A new data dir records the CLI's default account and region
		// (the packages have none: they are configuration), the same
		// that vpcflow pcap and serve use.
		DefaultIdentity: logsvc.Identity{Account: defaultAccount, Region: defaultRegion},
		MustExist:       !write,
		// A command that only reads writes nothing: it can read a data
		// dir it may not write (another user's), beside other readers.
		ReadOnly: !write,
		Owner:    fmt.Sprintf("%s (PID %d)", command, os.Getpid()),
	}
}

// logStoreMarker is the file every log store has (logstore's index of
// groups and streams).
const logStoreMarker = "meta.db"

func openLogsAs(command, flag string, write bool, errw io.Writer) (*logsvc.Service, error) {
	dir, err := logsDataDir(flag)
	if err != nil {
		return nil, err
	}
	if !write {
		// MustExist refuses a missing directory; an existing one without a
		// log store (a mistyped path, a bucket directory) would still get
		// one made in it by the open.
		if _, err := os.Stat(filepath.Join(dir, logStoreMarker)); errors.Is(err, fs.ErrNotExist) {
			if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
				return nil, &exitError{code: 1, msg: fmt.Sprintf("data dir %s has no log store (no %s in it): nothing has been stored there", dir, logStoreMarker)}
			}
		}
	}
	s, err := logsvc.Open(dir, logsServiceOptions(command, write))
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(errw, "vpcflow: %s: %s\n", dir, w)
	}
	return s, nil
}

// commandFromArgs names the command this process runs ("vpcflow pcap"),
// for callers that have no *cobra.Command at hand.
func commandFromArgs() string {
	if c, _, err := newRootCmd().Find(os.Args[1:]); err == nil && c != nil {
		return c.CommandPath()
	}
	return "vpcflow"
}

// parseLogsTime reads a --start/--end value (epoch seconds, epoch ms above
// 10^10, or RFC 3339) into epoch milliseconds.
func parseLogsTime(s string) (int64, error) { return logsvc.ParseTime(s) }

// logsTimeRange holds --start and --end as given.
type logsTimeRange struct{ start, end string }

const logsTimeHelp = " (epoch seconds, epoch ms if above 10^10, or RFC 3339)"

// addLogsTimeFlags registers --start and --end.
func addLogsTimeFlags(c *cobra.Command, r *logsTimeRange) {
	c.Flags().StringVar(&r.start, "start", "", "earliest event time"+logsTimeHelp)
	c.Flags().StringVar(&r.end, "end", "", "latest event time"+logsTimeHelp)
}

// resolve parses the flags; unset ones are nil. Bad values are usage errors.
func (r logsTimeRange) resolve() (start, end *int64, err error) {
	for _, x := range []struct {
		flag, v string
		p       **int64
	}{{"--start", r.start, &start}, {"--end", r.end, &end}} {
		if x.v == "" {
			continue
		}
		ms, err := parseLogsTime(x.v)
		if err != nil {
			return nil, nil, usageErrorf("%s: %v", x.flag, err)
		}
		*x.p = &ms
	}
	if start != nil && end != nil && *end < *start {
		return nil, nil, usageErrorf("--end %s is before --start %s", r.end, r.start)
	}
	return start, end, nil
}

// addLogsOutputFlag registers --output (table or json).
func addLogsOutputFlag(c *cobra.Command, out *string) {
	c.Flags().StringVarP(out, "output", "o", "table", "output format: table (for people) or json (the aws cli shape, for scripts)")
}

// checkLogsOutput validates an --output value.
func checkLogsOutput(out string) error {
	if out != "table" && out != "json" {
		return usageErrorf("--output %q: want table or json", out)
	}
	return nil
}

// writeLogsJSON prints v as the aws cli does: indented by 4 spaces.
func writeLogsJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// logsTable prints aligned columns for people.
type logsTable struct{ tw *tabwriter.Writer }

func newLogsTable(w io.Writer, header ...string) *logsTable {
	t := &logsTable{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *logsTable) row(cols ...string) {
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *logsTable) flush() error { return t.tw.Flush() }

// formatLogsTime renders epoch ms for people: RFC 3339 UTC with milliseconds.
func formatLogsTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// formatLogsTimePtr renders an optional time, "-" when absent.
func formatLogsTimePtr(ms *int64) string {
	if ms == nil {
		return "-"
	}
	return formatLogsTime(*ms)
}

// allPages collects every page of a Describe* call that pages by token.
// The result is never nil, so JSON output shows [] rather than null.
func allPages[T any](page func(token string) ([]T, string, error)) ([]T, error) {
	all := []T{}
	tok := ""
	for {
		items, next, err := page(tok)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if tok = next; tok == "" {
			return all, nil
		}
	}
}

// groupFlagArgs refuses the arguments of a command that takes its log group
// in --group and nothing positional, saying where a group name goes:
// `vpcflow logs filter g1` meant `--group g1` (cobra said unknown command
// "g1").
func groupFlagArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if g := cmd.Flags().Lookup("group"); g != nil && !g.Changed {
		return usageErrorf("unexpected argument %q: the log group goes in --group (%s --group %s)", args[0], cmd.CommandPath(), args[0])
	}
	return usageErrorf("unexpected argument %q: %s takes flags only (see --help)", args[0], cmd.CommandPath())
}
