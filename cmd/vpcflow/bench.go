package main

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/insights"
	"github.com/vpcflow/vpcflow/logsvc"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure vpcflow against a baseline on data sets too large for CI",
	}
	c.AddCommand(newBenchInsightsCmd())
	for _, sub := range benchSubcommands {
		c.AddCommand(sub())
	}
	return c
}

// benchSubcommands are the bench commands defined in other files.
var benchSubcommands []func() *cobra.Command

const (
	benchGroup = "vpcflow-bench-flowlogs"
	benchQuery = "stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10"
)

func newBenchInsightsCmd() *cobra.Command {
	var dataDir string
	var events int
	var workers int
	var cpuProfile string
	var buildOnly bool
	var nRuns int
	var query string
	withBaseline := true
	c := &cobra.Command{
		Use:   "insights [--events N] [--data-dir DIR]",
		Short: "Time an Insights stats query over N stored flow-log events against a hand-written loop",
		Long: `Builds, once, a log group ` + benchGroup + ` of N default-format flow-log events
(deterministic: 16 interfaces, 5 000 hosts, skewed byte counts) in the data dir, then
runs, in the same invocation, --runs times (the median counts: machines are noisy),

  stats sum(bytes) as bytesTransferred by srcAddr, dstAddr | sort bytesTransferred desc | limit 10

through the Insights engine over the store, and the same aggregation written by hand
over the same store scan (the baseline), and prints both times, the CPU time each
used (on a shared machine the wall time also counts other load) and their ratio.
The two must agree on the result, else the command fails. Use a dedicated
--data-dir: 10 M events take ~1.5 GB and about a minute to build; --build-only
builds the data set without timing anything.`,
		Example: `  vpcflow bench insights --events 10000000 --data-dir /tmp/vpcflow-bench --build-only
  vpcflow bench insights --data-dir /tmp/vpcflow-bench
  vpcflow bench insights --data-dir /tmp/vpcflow-bench --workers 1 --cpuprofile /tmp/insights.prof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if events < 1 {
				return usageErrorf("--events: want a positive number, got %d", events)
			}
			if nRuns < 1 {
				return usageErrorf("--runs: want a positive number, got %d", nRuns)
			}
			dir, err := logsDataDir(dataDir)
			if err != nil {
				return err
			}
			opts := logsServiceOptions(cmd.CommandPath(), true)
			opts.QueryWorkers = workers
			s, err := logsvc.Open(dir, opts)
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			defer s.Close()
			out := cmd.OutOrStdout()
			have := int64(0)
			if info, err := s.GroupInfo(benchGroup); err == nil {
				have = info.StoredBytes
			}
			if have == 0 {
				fmt.Fprintf(out, "building %d events in %s ...\n", events, benchGroup)
				t0 := time.Now()
				if err := benchFill(s, events); err != nil {
					return err
				}
				fmt.Fprintf(out, "built in %s\n", time.Since(t0).Round(time.Millisecond))
			}
			if buildOnly {
				return nil
			}
			if query != benchQuery && withBaseline {
				return usageErrorf("--query: the baseline computes only the default query; add --baseline=false")
			}
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			type run struct {
				res       *insights.Result
				wall, cpu time.Duration
			}
			var runs []run
			for range nRuns {
				t0, c0 := time.Now(), benchCPU()
				// From the oldest event to the newest, as the baseline.
				id, err := s.StartQuery(logsvc.StartQueryInput{LogGroupNames: []string{benchGroup}, QueryString: query})
				if err != nil {
					return err
				}
				res, err := s.WaitQuery(cmd.Context(), id)
				if err != nil {
					return err
				}
				runs = append(runs, run{res, time.Since(t0), benchCPU() - c0})
			}
			pprof.StopCPUProfile()
			scanned := int(runs[0].res.Statistics.RecordsScanned)
			fmt.Fprintf(out, "events scanned: %d\n", scanned)
			for k, r := range runs {
				fmt.Fprintf(out, "insights engine run %d: %s (%.1f M events/s), CPU %s\n", k+1, r.wall.Round(time.Millisecond), float64(scanned)/r.wall.Seconds()/1e6, r.cpu.Round(time.Millisecond))
			}
			if !withBaseline {
				return nil
			}
			t0, c0 := time.Now(), benchCPU()
			base, baseScanned, err := benchBaseline(s)
			if err != nil {
				return err
			}
			baseline, baselineCPU := time.Since(t0), benchCPU()-c0
			if baseScanned != scanned {
				return fmt.Errorf("engine and baseline disagree: %d events scanned vs %d", scanned, baseScanned)
			}
			for k, r := range runs {
				if err := benchAgree(r.res, base); err != nil {
					return fmt.Errorf("run %d: %w", k+1, err)
				}
			}
			slices.SortFunc(runs, func(a, b run) int { return cmp.Compare(a.wall, b.wall) })
			med := runs[len(runs)/2]
			fmt.Fprintf(out, "insights engine: %s median of %d (min %s), CPU %s\n", med.wall.Round(time.Millisecond), len(runs), runs[0].wall.Round(time.Millisecond), med.cpu.Round(time.Millisecond))
			fmt.Fprintf(out, "baseline loop:   %s (%.1f M events/s), CPU %s\n", baseline.Round(time.Millisecond), float64(scanned)/baseline.Seconds()/1e6, baselineCPU.Round(time.Millisecond))
			fmt.Fprintf(out, "ratio engine/baseline: %.2f\n", med.wall.Seconds()/baseline.Seconds())
			return nil
		},
	}
	addLogsDataDirFlag(c, &dataDir)
	c.Flags().IntVar(&events, "events", 10_000_000, "events in the data set (built only when the group is absent)")
	c.Flags().IntVar(&nRuns, "runs", 3, "engine runs; the median is compared (the baseline runs once)")
	c.Flags().BoolVar(&withBaseline, "baseline", true, "also run the baseline and compare (--baseline=false: engine runs only, to profile)")
	c.Flags().StringVar(&query, "query", benchQuery, "the query the engine runs (another one needs --baseline=false)")
	c.Flags().IntVar(&workers, "workers", 0, "engine workers (default GOMAXPROCS)")
	c.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the engine run to this file")
	c.Flags().BoolVar(&buildOnly, "build-only", false, "build the data set if absent, then stop without timing")
	return c
}

// benchFill writes n deterministic default-format flow-log events.
func benchFill(s *logsvc.Service, n int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	const batch = 10_000
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	evs := make([]logsvc.InputEvent, 0, batch)
	var buf []byte
	account := s.Identity().Account
	for i := 0; i < n; i++ {
		eni := fmt.Sprintf("eni-%017x", i%16)
		src := 1 + int(math.Pow(rng.Float64(), 3)*5000) // skewed: a few hosts talk most
		dst := 1 + rng.IntN(5000)
		t := start + int64(i/2000)
		bytes := 40 + int(math.Pow(rng.Float64(), 4)*1e6)
		buf = fmt.Appendf(buf[:0], "2 %s %s 10.%d.%d.%d 10.%d.%d.%d %d 443 6 %d %d %d %d ACCEPT OK",
			account, eni, src>>16, (src>>8)&255, src&255, 1+dst>>16, (dst>>8)&255, dst&255, 1024+rng.IntN(60000), 1+bytes/1000, bytes, t, t+59)
		evs = append(evs, logsvc.InputEvent{Stream: eni + "-all", Timestamp: t * 1000, Message: bytes2(buf)})
		if len(evs) == batch || i == n-1 {
			if _, err := s.Ingest(benchGroup, evs); err != nil {
				return err
			}
			evs = evs[:0]
		}
	}
	return nil
}

// benchCPU is the process's user+system CPU time: on a shared machine it
// says what a run cost even when other load stretches its wall time.
func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func bytes2(b []byte) []byte { return append([]byte(nil), b...) }

// benchAgree says whether the engine's rows are the baseline's.
func benchAgree(res *insights.Result, base []benchRow) error {
	if len(res.Rows) != len(base) {
		return fmt.Errorf("engine and baseline disagree: %d rows vs %d", len(res.Rows), len(base))
	}
	for i, row := range res.Rows {
		if row[0].Value != base[i].src || row[1].Value != base[i].dst || row[2].Value != strconv.FormatInt(base[i].sum, 10) {
			return fmt.Errorf("engine and baseline disagree at row %d: %v vs %+v", i+1, row, base[i])
		}
	}
	return nil
}

type benchRow struct {
	src, dst string
	sum      int64
}

// benchBaseline is the query written by hand: split the message, sum field
// 10 by fields 4 and 5, take the top 10.
func benchBaseline(s *logsvc.Service) ([]benchRow, int, error) {
	type key struct{ src, dst string }
	sums := map[key]int64{}
	n := 0
	err := s.Scan(benchGroup, 0, math.MaxInt64, func(ev logsvc.Event) error {
		n++
		f := bytes.Fields(ev.Message)
		if len(f) != 14 || string(f[0]) != "2" {
			return nil
		}
		b, err := strconv.ParseInt(string(f[9]), 10, 64)
		if err != nil {
			return nil
		}
		sums[key{string(f[3]), string(f[4])}] += b
		return nil
	})
	rows := make([]benchRow, 0, len(sums))
	for k, v := range sums {
		rows = append(rows, benchRow{k.src, k.dst, v})
	}
	slices.SortFunc(rows, func(a, b benchRow) int {
		if a.sum != b.sum {
			if a.sum > b.sum {
				return -1
			}
			return 1
		}
		if a.src != b.src {
			if a.src < b.src {
				return -1
			}
			return 1
		}
		if a.dst < b.dst {
			return -1
		}
		return 1
	})
	return rows[:min(10, len(rows))], n, err
}
