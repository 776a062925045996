package region

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vpcflow/vpcflow/netstate"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

// topologyFile is a topology file read for the service: its bytes (the
// network store keeps the declaration) and what they parse to.
type topologyFile struct {
	name string
	data []byte
	topo *topology.Topology
}

// readTopologyFile reads and checks a topology file; "" is no file.
func readTopologyFile(path string) (*topologyFile, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := topology.Parse(path, data)
	if err != nil {
		return nil, err
	}
	return &topologyFile{name: path, data: data, topo: t}, nil
}

// openNetwork opens the network store and takes the topology file when
// the data dir has no network yet.
func (r *Region) openNetwork(file *topologyFile) error {
	var err error
	r.net, err = netstate.Open(filepath.Join(r.cfg.DataDir, "network.json"), netstate.Options{
		Account: r.id.Account, Region: r.id.Region, Now: r.deps.Clock.Now,
	})
	if err != nil {
		return err
	}
	if file != nil {
		if err := r.checkIdentity(file.topo); err != nil {
			return err
		}
		if !r.net.Empty() {
			_, v := r.net.Topology()
			r.log.Warn("the data dir already holds a network, which the topology file does not replace (send SIGHUP to replace it)",
				"file", file.name, "version", v)
		} else if err := r.net.Seed(file.name, file.data); err != nil {
			return err
		}
	}
	if !r.net.Empty() {
		r.topo, r.topoVersion = r.net.Topology()
		return nil
	}
	if r.cfg.Interface == nil {
		return errors.New("region: no network: give a topology file, or an interface for single-interface mode")
	}
	return nil
}

// checkIdentity refuses a topology of another account or region.
func (r *Region) checkIdentity(t *topology.Topology) error {
	if t.AccountID != "" && t.AccountID != r.id.Account || t.Region != "" && t.Region != r.id.Region {
		return fmt.Errorf("the topology is for account %s in region %s; this service answers for account %s in region %s",
			t.AccountID, t.Region, r.id.Account, r.id.Region)
	}
	return nil
}

// Topology is the declared network (nil in single-interface mode) and its
// version, which every change of the network increases.
func (r *Region) Topology() (*topology.Topology, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.topo, r.topoVersion
}

// Network is the network store, for the EC2 API's describes.
func (r *Region) Network() *netstate.Store { return r.net }

// ReloadTopology replaces the declared network with the topology file
// again (SIGHUP): the next packet is judged by the new security groups and
// network ACLs (connections already tracked go on, as on AWS), interfaces
// added to a monitored VPC or subnet are logged from their next window,
// and flow logs newly declared in the file are created. It returns the new
// version.
func (r *Region) ReloadTopology() (int, error) {
	file, err := readTopologyFile(r.cfg.TopologyFile)
	if err != nil {
		return 0, err
	}
	if file == nil {
		return 0, errors.New("no topology file to reload")
	}
	if err := r.checkIdentity(file.topo); err != nil {
		return 0, err
	}
	return r.ChangeNetwork(func(n *netstate.Store) (int, error) {
		return 0, n.Replace(file.name, file.data)
	})
}

// ChangeNetwork runs one change of the network store (an EC2 API action)
// and hands the resulting network to the pipeline, between two packets.
// It returns the new version.
func (r *Region) ChangeNetwork(change func(*netstate.Store) (int, error)) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := change(r.net); err != nil {
		return 0, err
	}
	t, v := r.net.Topology()
	if v == r.topoVersion {
		return v, nil // nothing changed
	}
	added, err := r.reg.Seed(t)
	if err != nil {
		return 0, err
	}
	for _, e := range added {
		r.log.Info("flow log created from the topology", "id", e.FlowLog.ID, "resource", e.FlowLog.ResourceID)
	}
	if err := r.pipe.SetTopology(t, r.deliverable()); err != nil {
		return 0, err
	}
	r.topo, r.topoVersion = t, v
	if r.deps.NetworkChanged != nil {
		// The change stands (the records follow it); failing the call
		// would have clients retry a change already made.
		if err := r.deps.NetworkChanged(t, v); err != nil {
			r.log.Error("the network changed, but what follows it did not", "version", v, "err", err)
		}
	}
	return v, nil
}

// AddInput adds a live source to the running pipeline: vpcflow serve
// --lab captures the port of an interface the EC2 API created (see
// pipeline.Pipeline.AddInput).
func (r *Region) AddInput(in pipeline.Input) error { return r.pipe.AddInput(in) }

// RemoveInput removes a source from the running pipeline once what it
// captured is in its windows (see pipeline.Pipeline.RemoveInput).
func (r *Region) RemoveInput(name string) error { return r.pipe.RemoveInput(name) }
