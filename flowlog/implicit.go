package flowlog

import "github.com/vpcflow/vpcflow/topology"

// Implicit returns the flow logs of a run that declares none itself: the
// topology's FlowLogs when it has some; else one flow log per VPC of the
// topology made from tmpl (the CreateFlowLogs parameters the user gave
// without resource ids); else, without a topology, one flow log of iface
// (single-interface mode), owned by its account in its region.
func Implicit(t *topology.Topology, iface *topology.ENI, tmpl Spec) ([]*FlowLog, error) {
	if t != nil && len(t.FlowLogs) > 0 {
		return FromTopology(t)
	}
	one := func(resType, resID, owner, region string) ([]*FlowLog, error) {
		s := tmpl
		s.ResourceIds, s.ResourceType = []string{resID}, resType
		fls, err := Build(t, &s, "flags")
		for _, fl := range fls {
			fl.OwnerID, fl.Region = owner, region
		}
		return fls, err
	}
	if t == nil {
		return one("NetworkInterface", iface.ID, iface.AccountID, iface.Region)
	}
	var out []*FlowLog
	for _, v := range t.VPCs {
		owner := v.OwnerID
		if owner == "" {
			owner = t.AccountID
		}
		fls, err := one("VPC", v.ID, owner, t.Region)
		if err != nil {
			return nil, err
		}
		out = append(out, fls...)
	}
	return out, nil
}
