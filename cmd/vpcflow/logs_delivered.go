package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vpcflow/vpcflow/deliver"
)

// printLogsDelivered is the summary line of the events delivered to the
// log store, with the capture windows a flow log had delivered before (a
// capture converted again), which are not stored twice.
func printLogsDelivered(w io.Writer, st deliver.CloudWatchStats) {
	if len(st.Groups) == 0 {
		return
	}
	groups := make([]string, 0, len(st.Groups))
	for g := range st.Groups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	fmt.Fprintf(w, "  delivered %s events to log group(s) %s%s\n", grouped(uint64(st.Events)), strings.Join(groups, ", "), alreadyStored(st))
}

// alreadyStored says what a delivery skipped because its flow log had
// delivered it before, per capture window of an interface (wholly or in
// part); "" when nothing.
func alreadyStored(st deliver.CloudWatchStats) string {
	if st.AlreadyStored == 0 {
		return ""
	}
	whole, part := st.WindowsAlreadyStored, st.WindowsPartlyStored
	var s string
	switch {
	case part == 0:
		s = count(whole, "capture window") + " already in the store, not delivered again"
	case whole == 0:
		s = count(part, "capture window") + " already in the store in part (their records not stored yet were delivered)"
	default:
		s = count(whole, "capture window") + " already in the store, not delivered again, and " + grouped(uint64(part)) +
			" in part (their records not stored yet were delivered)"
	}
	return "; " + s + ": " + count(st.AlreadyStored, "event") + " already stored"
}

// count is n and the noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return grouped(uint64(n)) + " " + noun + "s"
}
