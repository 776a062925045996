package topology

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever the bytes, Parse returns a topology or an ErrorList
// of positioned errors, and never panics (Parse turns a panic into an
// "internal error", which this test treats as a failure).
func FuzzParse(f *testing.F) {
	for _, g := range []string{"../examples/*.yaml", "../policy/testdata/*.yaml"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(base))
	f.Add([]byte(base + "NetworkAcls:\n  - {NetworkAclId: acl-1, VpcId: vpc-1, Entries: [{RuleNumber: 1, Protocol: \"6\", RuleAction: deny, CidrBlock: 0.0.0.0/0, PortRange: {From: 1, To: 2}}]}\n"))
	f.Add([]byte(`{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		top, err := Parse("f.yaml", data)
		if err != nil {
			var el ErrorList
			if !errors.As(err, &el) || len(el) == 0 {
				t.Fatalf("error is not an ErrorList: %T %v", err, err)
			}
			for _, e := range el {
				if strings.Contains(e.Msg, "internal error") {
					t.Fatalf("panic: %v", e)
				}
				if e.File != "f.yaml" {
					t.Fatalf("unnamed error: %v", e)
				}
				if e.Line < 1 && !strings.HasPrefix(e.Msg, "empty file") && e.Msg != "too many errors" {
					t.Fatalf("error without a line: %v", e)
				}
			}
			return
		}
		for _, e := range top.ENIs() {
			if top.ENIByID(e.ID) != e || top.ENIs()[e.Index] != e {
				t.Fatalf("ENI index broken for %s", e.ID)
			}
			if e.HasMAC && top.ENIByMAC(e.MAC) != e {
				t.Fatalf("MAC lookup broken for %s", e.ID)
			}
			for _, a := range append(append([]netip.Addr{}, e.IPv4s...), e.IPv6s...) {
				if top.ENIByIP(e.VPCID, a) != e {
					t.Fatalf("IP lookup broken for %s %s", e.ID, a)
				}
				if !e.Subnet.Contains(a) {
					t.Fatalf("%s outside its subnet", a)
				}
			}
		}
	})
}
