package gen

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/record"
)

// run returns the SHA-256 of the text of every record of cfg, the labels,
// and checks that records come window by window.
func run(t *testing.T, cfg Config) ([32]byte, []Label) {
	t.Helper()
	h := sha256.New()
	var line []byte
	last := int64(0)
	labels, err := Generate(cfg, func(r *record.Record) error {
		line = record.AppendText(line[:0], record.DefaultFormat, r)
		h.Write(append(line, '\n'))
		if w := r.Start / 600; w < last {
			t.Fatalf("record of window %d after window %d: %s", w, last, line)
		} else {
			last = w
		}
		if r.End < r.Start || r.End/600 != r.Start/600 || r.Packets < 1 || r.Bytes < 40*r.Packets {
			t.Fatalf("bad record %s", line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, labels
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Duration: 2 * time.Hour, Attacks: 1}
	a, la := run(t, cfg)
	b, lb := run(t, cfg)
	if a != b || len(la) != len(lb) {
		t.Fatal("same seed, different traffic")
	}
	// One attack of each of the 12 scenarios; a scan or sweep that
	// reaches an open admin port adds probe labels, and attacks on ports
	// a server never used add unusual-port labels.
	types := map[string]int{}
	for _, l := range la {
		types[l.Type]++
	}
	for _, typ := range Types {
		if types[typ] == 0 {
			t.Errorf("no %s label", typ)
		}
	}
	if c, _ := run(t, Config{Seed: 8, Duration: 2 * time.Hour, Attacks: 1}); c == a {
		t.Error("different seeds, same traffic")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Interval: 300}, "gen: Interval: want 60 or 600, got 300"},
		{Config{Duration: time.Hour, Attacks: 1}, "gen: Duration: want at least 1h30m with attacks (they come after an hour of learning), got 1h0m0s"},
	} {
		if _, err := Generate(c.cfg, func(*record.Record) error { return nil }); err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %s", err, c.want)
		}
	}
}
