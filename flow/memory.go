package flow

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"unsafe"
)

// DefaultMemoryFraction is the share of the machine's memory the flow
// tables may hold by default (DefaultMemoryBudget): a quarter leaves room
// for the garbage collector's headroom, the record and compression buffers
// of the delivery and the page cache the output goes through, and for other
// processes.
const DefaultMemoryFraction = 0.25

// Table memory, as allocated: flows live in chunks of chunkSize, and the
// index holds one uint32 per slot. These are the real sizes the budget is
// charged with (unsafe.Sizeof, not an estimate); TestMemoryAccounting checks
// them against the heap the runtime reports.
const (
	flowBytes  = int64(unsafe.Sizeof(Flow{}))
	chunkBytes = chunkSize * flowBytes
	slotBytes  = int64(unsafe.Sizeof(uint32(0)))
)

// DefaultMemoryBudget is DefaultMemoryFraction of the memory this process
// may use: the smaller of the machine's (MemTotal in /proc/meminfo) and
// the cgroup's limit (memory.max, or memory.limit_in_bytes of cgroup v1).
// Where neither can be read it is 1 GiB.
func DefaultMemoryBudget() int64 {
	total := memoryLimit()
	if total <= 0 {
		return 1 << 30
	}
	return int64(float64(total) * DefaultMemoryFraction)
}

// memoryLimit is the usable memory in bytes, 0 when unknown.
func memoryLimit() int64 {
	var limit int64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				if err == nil {
					limit = kb << 10
				}
			}
		}
		f.Close()
	}
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// "max" (cgroup v2) or a huge number (v1) mean no limit.
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit
}

// ParseSize reads a memory size: a number of bytes with an optional unit,
// KiB, MiB, GiB, TiB (powers of 1024), KB, MB, GB, TB (powers of 1000), or
// K, M, G, T (taken as the binary units, as the Go runtime's GOMEMLIMIT
// does not accept them but free(1) and docker do). Fractions are allowed:
// 1.5GiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.') })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || v < 0 {
		return 0, fmt.Errorf("%q: want a size such as 512MiB, 2GiB or 1.5G", s)
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1 << 10, "KiB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MiB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GiB": 1 << 30, "GB": 1e9,
		"T": 1 << 40, "TiB": 1 << 40, "TB": 1e12,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KiB, MiB, GiB, TiB, KB, MB, GB, TB, or K, M, G, T)", s, unit)
	}
	b := v * mult
	if b >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return int64(b), nil
}

// FormatSize writes a size in the largest binary unit that keeps it at or
// above 1, with at most one decimal: 2GiB, 1.5GiB, 512MiB.
func FormatSize(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0") + units[u]
}
