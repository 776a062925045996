package attribute

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/vpcflow/vpcflow/flow"
	"github.com/vpcflow/vpcflow/packet"
)

// TestBeginSetsEveryField: begin reuses one Observation and sets its fields
// one by one, so a field it forgot would carry the previous packet's value
// into the next one. Every field is first filled with a non-zero value; a
// field added to flow.Observation later is filled too, and must then be
// reset by begin for this test to pass.
func TestBeginSetsEveryField(t *testing.T) {
	a := single("10.0.1.10/32")
	v := reflect.ValueOf(&a.obs).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[netip.Addr]():
			f.Set(reflect.ValueOf(netip.MustParseAddr("2001:db8::1")))
		case f.CanUint():
			f.SetUint(1<<(f.Type().Bits()-1) | 1)
		case f.CanInt():
			f.SetInt(-7)
		default:
			t.Fatalf("field %s of kind %s: teach this test to fill it", v.Type().Field(i).Name, f.Kind())
		}
	}
	p := &packet.Packet{Src: netip.MustParseAddr("10.0.1.10"), Dst: netip.MustParseAddr("198.51.100.1"), Proto: 6,
		HasPorts: true, SrcPort: 40000, DstPort: 443, TCPFlags: packet.TCPSyn, IPLen: 60}
	if !a.begin(p, 1_700_000_000_123_456_789) {
		t.Fatal("not attributed")
	}
	// A SYN is tcp-flags 2 in the record; direction, action, capture,
	// traffic path and rule are side's and emitAll's to set.
	want := flow.Observation{Time: 1_700_000_000_123_456_789, Src: p.Src, Dst: p.Dst, SrcPort: 40000, DstPort: 443,
		Proto: 6, TCPFlags: 2, Bytes: 60}
	if a.obs != want {
		t.Fatalf("got  %+v\nwant %+v", a.obs, want)
	}
	// Without TCP, the flags of the packet before do not stay.
	u := udp("198.51.100.1", "10.0.1.10", 53, 5000)
	a.begin(u, 5)
	want = flow.Observation{Time: 5, Src: u.Src, Dst: u.Dst, SrcPort: 53, DstPort: 5000, Proto: 17, Bytes: 100}
	if a.obs != want {
		t.Fatalf("got  %+v\nwant %+v", a.obs, want)
	}
}
