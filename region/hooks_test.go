package region

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/netstate"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

// TestNetworkHooks: NetworkInputs sees the network at New; NetworkChanged
// sees each change in order, after the region holds it, and its error is
// logged while the change stands.
func TestNetworkHooks(t *testing.T) {
	var atNew *topology.Topology
	var changed []int
	fail := false
	cfg := DefaultConfiguration()
	cfg.DataDir, cfg.TopologyFile = t.TempDir(), pingTopology(t)
	r, err := New(cfg, Dependencies{Clock: clock.NewFake(time.Unix(t0, 0)),
		NetworkInputs: func(top *topology.Topology) ([]pipeline.Input, error) { atNew = top; return nil, nil },
		NetworkChanged: func(top *topology.Topology, v int) error {
			if g := top.SecurityGroup("sg-0a1b2c3d4e5f60003"); g == nil || len(g.Ingress) != len(changed)+2 {
				t.Errorf("change %d: NetworkChanged did not get the changed network", len(changed)+1)
			}
			changed = append(changed, v)
			if fail {
				return errors.New("lab says no")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if atNew == nil || atNew.ENIByID(eni) == nil {
		t.Fatalf("NetworkInputs got %v, want the ping network", atNew)
	}
	authorize := func(port int) (int, error) {
		return r.ChangeNetwork(func(n *netstate.Store) (int, error) {
			_, v, err := n.AuthorizeSecurityGroupIngress("sg-0a1b2c3d4e5f60003", []netstate.IpPermission{{
				IpProtocol: "tcp", FromPort: &port, ToPort: &port, IpRanges: []netstate.IpRange{{CidrIp: "0.0.0.0/0"}}}}, nil)
			return v, err
		})
	}
	v1, err := authorize(22)
	if err != nil {
		t.Fatal(err)
	}
	fail = true
	v2, err := authorize(80)
	if err != nil {
		t.Fatalf("a failing NetworkChanged failed the change: %v", err)
	}
	if _, v := r.Topology(); v != v2 || len(changed) != 2 || changed[0] != v1 || changed[1] != v2 {
		t.Fatalf("versions: region %d, hook saw %v, want %d then %d", v, changed, v1, v2)
	}
}
