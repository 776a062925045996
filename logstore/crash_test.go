package logstore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary act as the writer child of TestCrashRestart.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LOGSTORE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes batches forever, printing the count of acknowledged
// events after each Ingest returns; the parent kills it at a random point.
func crashChild(dir string) {
	s, err := Open(dir, Options{Account: testAccount, Region: testRegion})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	n := 0
	base := time.Now().UnixMilli()
	for b := 0; ; b++ {
		evs := make([]InputEvent, 50)
		for i := range evs {
			// Two streams and a timestamp that jumps a day every 7 batches,
			// so several day files are being written.
			evs[i] = InputEvent{Stream: "eni-" + strconv.Itoa(i%2) + "-all", Timestamp: base + int64(b/7)*dayMs + int64(i),
				Message: []byte("event " + strconv.Itoa(n+i))}
		}
		if _, err := s.Ingest("/crash", evs); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		n += len(evs)
		fmt.Println("ack", n)
	}
}

// TestCrashRestart kills a writer with SIGKILL mid-stream (no Close, no
// deferred cleanup), reopens the store and finds every acknowledged event.
func TestCrashRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	for round, killAfter := range []int{3, 40} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LOGSTORE_CRASH_CHILD="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		acked, lines := 0, 0
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 || f[0] != "ack" {
				t.Fatalf("child: %s", sc.Text())
			}
			acked, _ = strconv.Atoi(f[1])
			if lines++; lines == killAfter {
				break
			}
		}
		// Kill while the child is in the middle of its next batch.
		cmd.Process.Kill()
		cmd.Wait()
		s, err := Open(dir, Options{Account: testAccount, Region: testRegion})
		if err != nil {
			t.Fatalf("round %d: reopen: %v", round, err)
		}
		seen := map[string]bool{}
		err = s.Scan("/crash", 0, 1<<62, func(e Event) error {
			seen[string(e.Message)] = true
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Each round's child numbers its events from 0 again; every
		// acknowledged number must be present.
		for i := 0; i < acked; i++ {
			if !seen["event "+strconv.Itoa(i)] {
				t.Fatalf("round %d: acknowledged event %d lost (acked %d, stored %d distinct)", round, i, acked, len(seen))
			}
		}
		ls, _, err := s.DescribeLogStreams(DescribeStreamsInput{Group: "/crash"})
		if err != nil || len(ls) != 2 {
			t.Fatalf("streams after crash: %v %+v", err, ls)
		}
		t.Logf("round %d: killed after %d acknowledged events; %d distinct messages stored", round, acked, len(seen))
		s.Close()
	}
}
