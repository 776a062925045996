package pipeline

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// procStatus reads a memory figure (in bytes) from /proc/self/status: VmRSS
// is the resident set now, VmHWM its peak. Returns 0 where /proc is absent.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
