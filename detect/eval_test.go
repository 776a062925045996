package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/detect/internal/gen"
	"github.com/vpcflow/vpcflow/record"
)

// The labelled evaluation: traffic from package gen, whose labels say what
// it generated, against the findings of the default configuration. Records
// go through their text form in the format of the run (the default format
// has no flow-direction, so interfaces' own addresses must be learned).

// v5Format is a custom format with the fields GuardDuty's findings name.
var v5Format = record.MustFormat("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${region} ${flow-direction}")

// generate runs cfg through an Engine in format f.
func generate(t testing.TB, cfg gen.Config, f *record.Format, dcfg Configuration) (*Engine, []gen.Label, int) {
	t.Helper()
	e, err := New(dcfg)
	if err != nil {
		t.Fatal(err)
	}
	dec := record.NewDecoder()
	var (
		conv Converter
		line []byte
		r    record.Record
		fl   Flow
		n    int
	)
	labels, err := gen.Generate(cfg, func(rec *record.Record) error {
		n++
		line = record.AppendText(line[:0], f, rec)
		if err := dec.Decode(f, line, &r); err != nil {
			return fmt.Errorf("%s: %v", line, err)
		}
		conv.Flow(f, &r, &fl)
		e.Observe(&fl)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Flush()
	return e, labels, n
}

// identity is what a finding and a label of its type are matched on.
type identity struct {
	eni    string
	remote netip.Addr
	port   int
}

func findingIdentity(f *Finding) identity {
	id := identity{eni: f.Resource.InstanceDetails.NetworkInterfaces[0].NetworkInterfaceID}
	if pa := f.Service.Action.PortProbeAction; pa != nil {
		id.port = pa.PortProbeDetails[0].LocalPortDetails.Port
		return id
	}
	nca := f.Service.Action.NetworkConnectionAction
	if nca.RemoteIPDetails != nil {
		id.remote = netip.MustParseAddr(nca.RemoteIPDetails.IPAddressV4 + nca.RemoteIPDetails.IPAddressV6)
	}
	switch f.Type {
	case TypeMassIPScan, TypePortUnusual:
		id.remote, id.port = netip.Addr{}, nca.RemotePortDetails.Port
	case TypeInboundPortSweep:
		id.eni, id.port = "", nca.LocalPortDetails.Port
	case TypeRejectStorm:
		id.remote = netip.Addr{}
	}
	return id
}

func labelIdentity(l gen.Label) identity {
	id := identity{eni: l.Interface, remote: l.Remote, port: l.Port}
	switch l.Type {
	case gen.MassIPScan, gen.PortUnusual, gen.PortProbe:
		id.remote = netip.Addr{}
	case gen.InboundPortSweep:
		id.eni = ""
	case gen.RejectStorm:
		id.remote, id.port = netip.Addr{}, 0
	default:
		id.port = 0
	}
	return id
}

// score counts, per type, labels found (recall) and findings that match a
// label (precision). A finding matches a label of its type with the same
// identity whose activity overlaps the finding's events, give or take a
// window.
type score struct{ labels, found, findings, correct int }

func scoreRun(scores map[string]*score, fs []*Finding, labels []gen.Label, window int64, t *testing.T) {
	match := func(f *Finding, l gen.Label) bool {
		return f.Type == l.Type && findingIdentity(f) == labelIdentity(l) &&
			f.first <= l.End+window && f.last >= l.Start-window
	}
	for _, l := range labels {
		s := scores[l.Type]
		s.labels++
		if slices.ContainsFunc(fs, func(f *Finding) bool { return match(f, l) }) {
			s.found++
		} else {
			t.Logf("missed: %s %s %v port %d at %s (%s)", l.Type, l.Interface, l.Remote, l.Port, time.Unix(l.Start, 0).UTC().Format(time.TimeOnly), l.Scenario)
		}
	}
	for _, f := range fs {
		s := scores[f.Type]
		s.findings++
		if slices.ContainsFunc(labels, func(l gen.Label) bool { return match(f, l) }) {
			s.correct++
		} else {
			t.Logf("false positive: %s: %s (%s to %s)", f.Type, f.Title, f.Service.EventFirstSeen, f.Service.EventLastSeen)
		}
	}
}

func TestLabelledEvaluation(t *testing.T) {
	if !slices.Equal(sortedCopy(gen.Types), sortedCopy(Types)) {
		t.Fatalf("gen labels %v, detect types %v", gen.Types, Types)
	}
	cfg := DefaultConfiguration()
	scores := map[string]*score{}
	for _, typ := range Types {
		scores[typ] = &score{}
	}
	records := 0
	for seed := range uint64(4) {
		f := record.DefaultFormat
		if seed%2 == 1 {
			f = v5Format
		}
		e, labels, n := generate(t, gen.Config{Seed: seed + 1, Duration: 4 * time.Hour, Attacks: 2}, f, cfg)
		records += n
		scoreRun(scores, e.Findings(), labels, int64(cfg.Window.Seconds()), t)
		if st := e.Stats(); st.Late != 0 || st.PairsDropped != 0 || st.Incomplete != 0 {
			t.Errorf("seed %d: %+v", seed+1, st)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d records, 4 runs of 4 hours, 2 attacks of each scenario per run\n", records)
	fmt.Fprintf(&b, "| finding type | labels | found | findings | correct | precision | recall |\n|---|---|---|---|---|---|---|\n")
	for _, typ := range Types {
		s := scores[typ]
		p, r := ratio(s.correct, s.findings), ratio(s.found, s.labels)
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f |\n", typ, s.labels, s.found, s.findings, s.correct, p, r)
		if p < 0.95 || r < 0.95 || s.labels == 0 {
			t.Errorf("%s: precision %.3f, recall %.3f over %d labels", typ, p, r, s.labels)
		}
	}
	t.Log("\n" + b.String())
}

func TestBenignOnly(t *testing.T) {
	for seed := range uint64(3) {
		f := record.DefaultFormat
		if seed == 1 {
			f = v5Format
		}
		e, _, n := generate(t, gen.Config{Seed: 100 + seed, Duration: 4 * time.Hour}, f, DefaultConfiguration())
		for _, fd := range e.Findings() {
			t.Errorf("seed %d: %s: %s (%s to %s)", 100+seed, fd.Type, fd.Title, fd.Service.EventFirstSeen, fd.Service.EventLastSeen)
		}
		t.Logf("seed %d: %d records, %d findings, %+v", 100+seed, n, len(e.Findings()), e.Stats())
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
