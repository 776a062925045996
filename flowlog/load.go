package flowlog

import (
	"fmt"

	"github.com/vpcflow/vpcflow/topology"
)

// Load reads a topology file and checks all of it in one pass: the
// network (topology.Check) and the CreateFlowLogs parameters of its
// FlowLogs. It returns the topology and the flow logs it declares, or every
// problem of both, in line order, as a topology.ErrorList (FILE:LINE:
// path.to.key: problem; a flow-log problem ends with the error code
// CreateFlowLogs would return). Every command that reads a topology file
// uses it, so `vpcflow topology validate` passes exactly the files they
// accept.
func Load(path string) (*topology.Topology, []*FlowLog, error) {
	t, problems, err := topology.LoadChecked(path)
	if err != nil {
		return nil, nil, err
	}
	return checked(path, t, problems)
}

// Parse is Load for a topology held in memory; name is used in messages.
func Parse(name string, data []byte) (*topology.Topology, []*FlowLog, error) {
	t, problems := topology.Check(name, data)
	return checked(name, t, problems)
}

func checked(name string, t *topology.Topology, problems topology.ErrorList) (*topology.Topology, []*FlowLog, error) {
	if t == nil {
		return nil, nil, problems
	}
	fls, errs := fromTopology(t)
	if len(problems) == 0 && len(errs) == 0 {
		return t, fls, nil
	}
	all := problems.Merge(asTopologyErrors(name, errs))
	return nil, nil, all
}

// asTopologyErrors turns flow-log problems into topology ones, so one list
// holds both.
func asTopologyErrors(name string, errs Errors) topology.ErrorList {
	out := make(topology.ErrorList, 0, len(errs))
	for _, e := range errs {
		out = append(out, &topology.Error{File: name, Line: e.Line, Path: e.path, Msg: fmt.Sprintf("%s (%s)", e.Msg, e.Code)})
	}
	return out
}
