package collect_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/vpcflow/vpcflow/collect"
	"github.com/vpcflow/vpcflow/kafkasink"
	"github.com/vpcflow/vpcflow/objsink"
)

var ctx = context.Background()

// crashing is a sink that dies right after its nth object is durable,
// before the collector can commit it: the process's end, as a kill
// between the write and the commit would leave it.
type crashing struct {
	objsink.Dir
	n      int
	mu     sync.Mutex
	puts   int
	cancel context.CancelFunc
}

var errCrash = errors.New("killed after the write")

func (s *crashing) Put(ctx context.Context, key string, body io.ReaderAt, size int64) error {
	if err := s.Dir.Put(ctx, key, body, size); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.puts++
	if s.puts == s.n {
		s.cancel()
		return errCrash
	}
	return nil
}

// records reads every object under dir and counts each line.
func records(t *testing.T, dir string) (map[string]int, int) {
	t.Helper()
	seen := map[string]int{}
	objects := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".log.gz") {
			return nil
		}
		objects++
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			seen[sc.Text()]++
		}
		return nil
	})
	return seen, objects
}

// startProducer runs an in-process broker with a topic "flowlogs" of that
// many partitions, closed at the test's end, and a started producer to it.
func startProducer(t *testing.T, partitions int32) (*kfake.Cluster, *kafkasink.Producer) {
	t.Helper()
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, "flowlogs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	p, err := kafkasink.New(kafkasink.Configuration{Brokers: kc.ListenAddrs(), Topic: "flowlogs"}, kafkasink.Dependencies{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start(ctx)
	return kc, p
}

// A collector killed between writing an object and committing its
// offsets, then a new collector of the same group: every record is in
// exactly one object (the object written again under the same key
// replaces the first), none missing.
func TestCrashRestartNoDupNoMissing(t *testing.T) {
	kc, p := startProducer(t, 4)
	const total = 6000
	for i := range total {
		eni := fmt.Sprintf("eni-%02d", i%8)
		p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: eni, Value: []byte(fmt.Sprintf("2 111122223333 %s seq %d", eni, i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stop()

	out := filepath.Join(t.TempDir(), "bucket")
	cfg := collect.Configuration{Brokers: kc.ListenAddrs(), Topics: []string{"flowlogs"}, Group: "collectors", Prefix: "collected/",
		MaxRecords: 250, MaxWait: 300 * time.Millisecond}
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	crash := &crashing{Dir: objsink.Dir(out), n: 7}
	c1ctx, c1cancel := context.WithCancel(cctx)
	crash.cancel = c1cancel
	c1, err := collect.New(cfg, collect.Dependencies{Sink: crash})
	if err != nil {
		t.Fatal(err)
	}
	if err := c1.Run(c1ctx); err != nil {
		t.Fatalf("the first collector: %v", err)
	}
	st1 := c1.Stats()
	if st1.Objects != 6 {
		t.Errorf("the first collector committed %d objects, want 6 (the 7th died before its commit)", st1.Objects)
	}
	seen, _ := records(t, out)
	if n := len(seen); n != 7*250 {
		t.Errorf("after the crash %d records are in objects, want 7 objects of 250", n)
	}

	c2, err := collect.New(cfg, collect.Dependencies{Sink: objsink.Dir(out)})
	if err != nil {
		t.Fatal(err)
	}
	c2.Start(cctx)
	for cctx.Err() == nil && c2.Stats().Records < total-st1.Records {
		time.Sleep(50 * time.Millisecond)
	}
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	seen, objects := records(t, out)
	for i := range total {
		line := fmt.Sprintf("2 111122223333 eni-%02d seq %d", i%8, i)
		if seen[line] != 1 {
			t.Errorf("%q is in %d objects", line, seen[line])
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct records in objects, want %d", len(seen), total)
	}
	if st2 := c2.Stats(); st1.Records+st2.Records != total {
		t.Errorf("committed %d + %d records, want %d", st1.Records, st2.Records, total)
	}
	t.Logf("%d objects", objects)
}

// A collector stopped (Stop, as on SIGTERM) writes the records it has
// read into objects and commits them before it ends: a second collector
// of the group finds nothing left to read.
func TestStopWritesPending(t *testing.T) {
	kc, p := startProducer(t, 2)
	const total = 500
	for i := range total {
		p.Publish(ctx, kafkasink.Message{FlowLogID: "fl-1", InterfaceID: fmt.Sprintf("eni-%d", i%4), Value: []byte(fmt.Sprintf("record %d", i))})
	}
	if err := p.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	out := t.TempDir()
	// Objects are never cut by size or age here: only the stop writes them.
	cfg := collect.Configuration{Brokers: kc.ListenAddrs(), Topics: []string{"flowlogs"}, Group: "g", MaxRecords: 1 << 20, MaxWait: time.Hour}
	c, err := collect.New(cfg, collect.Dependencies{Sink: objsink.Dir(out)})
	if err != nil {
		t.Fatal(err)
	}
	c.Start(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for c.Stats().Pending < total {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d records in 30 s", c.Stats().Pending, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if seen, _ := records(t, out); len(seen) != 0 {
		t.Fatalf("%d records in objects before the stop", len(seen))
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	seen, objects := records(t, out)
	if st.Records != total || st.Pending != 0 || len(seen) != total || objects != 2 {
		t.Fatalf("after the stop: %+v, %d records in %d objects; want %d in 2 (one per partition)", st, len(seen), objects, total)
	}
	c2, err := collect.New(cfg, collect.Dependencies{Sink: objsink.Dir(out)})
	if err != nil {
		t.Fatal(err)
	}
	c2.Start(ctx)
	time.Sleep(3 * time.Second) // long enough to join and fetch: nothing must come
	if err := c2.Stop(); err != nil {
		t.Fatal(err)
	}
	if st := c2.Stats(); st.Records != 0 || st.Pending != 0 {
		t.Errorf("the next collector read again: %+v", st)
	}
}
