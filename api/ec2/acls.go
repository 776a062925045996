package ec2

import (
	"encoding/xml"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
)

// The network ACL actions: CreateNetworkAcl, CreateNetworkAclEntry,
// ReplaceNetworkAclEntry, DeleteNetworkAclEntry and
// ReplaceNetworkAclAssociation
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateNetworkAclEntry.html
// and the pages of the others).
//
// An entry on the wire is NetworkAclId, RuleNumber, Protocol, RuleAction,
// Egress, CidrBlock or Ipv6CidrBlock, PortRange.From and PortRange.To, and
// Icmp.Type and Icmp.Code: the member the API reference calls IcmpTypeCode
// travels as Icmp. The AWS CLI sends Protocol as a number (--protocol tcp
// becomes Protocol=6) and --ingress as Egress=false.

// decodeEntry reads the parameters of CreateNetworkAclEntry and
// ReplaceNetworkAclEntry; EC2's model requires the first five.
func decodeEntry(p query.Params) (aclID string, e netstate.NetworkAclEntry, err error) {
	if err := unknownName(p, "IcmpTypeCode", "Icmp"); err != nil {
		return "", e, err
	}
	if err := required(p, "NetworkAclId", "RuleNumber", "Protocol", "RuleAction", "Egress"); err != nil {
		return "", e, err
	}
	if e.RuleNumber, _, err = p.Int("RuleNumber"); err != nil {
		return "", e, err
	}
	if e.Egress, _, err = p.Bool("Egress"); err != nil {
		return "", e, err
	}
	e.Protocol, e.RuleAction = p.String("Protocol"), p.String("RuleAction")
	e.CidrBlock, e.Ipv6CidrBlock = p.String("CidrBlock"), p.String("Ipv6CidrBlock")
	if pr, ok := p.Struct("PortRange"); ok {
		e.PortRange = &netstate.PortRange{}
		if e.PortRange.From, err = optInt(pr, "From"); err != nil {
			return "", e, err
		}
		if e.PortRange.To, err = optInt(pr, "To"); err != nil {
			return "", e, err
		}
	}
	if ic, ok := p.Struct("Icmp"); ok {
		e.IcmpTypeCode = &netstate.IcmpTypeCode{}
		if e.IcmpTypeCode.Type, err = optInt(ic, "Type"); err != nil {
			return "", e, err
		}
		if e.IcmpTypeCode.Code, err = optInt(ic, "Code"); err != nil {
			return "", e, err
		}
	}
	return p.String("NetworkAclId"), e, nil
}

// ---- CreateNetworkAcl ----

type createNetworkAclResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateNetworkAclResponse"`
	responseMeta
	NetworkAcl  networkAclXML `xml:"networkAcl"`
	ClientToken string        `xml:"clientToken,omitempty"`
}

func createNetworkAcl(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "VpcId"); err != nil {
		return nil, err
	}
	tags, err := tagSpecTags(p, "network-acl")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var out networkAclXML
	err = h.change(func(s *netstate.Store) (int, error) {
		a, v, err := s.CreateNetworkAcl(p.String("VpcId"), tags)
		if err == nil {
			out = renderNetworkAcl(h.changed(s), &a)
		}
		return v, err
	})
	if err != nil {
		return nil, err
	}
	// ClientToken is echoed, not remembered, as for CreateNetworkInterface.
	return &createNetworkAclResponse{NetworkAcl: out, ClientToken: p.String("ClientToken")}, nil
}

// ---- CreateNetworkAclEntry, ReplaceNetworkAclEntry, DeleteNetworkAclEntry ----

func createNetworkAclEntry(h *Handler, p query.Params) (response, error) {
	return entryAction(h, p, "CreateNetworkAclEntry", (*netstate.Store).CreateNetworkAclEntry)
}

func replaceNetworkAclEntry(h *Handler, p query.Params) (response, error) {
	return entryAction(h, p, "ReplaceNetworkAclEntry", (*netstate.Store).ReplaceNetworkAclEntry)
}

func entryAction(h *Handler, p query.Params, action string, do func(*netstate.Store, string, netstate.NetworkAclEntry) (int, error)) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	aclID, e, err := decodeEntry(p)
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	if err := h.change(func(s *netstate.Store) (int, error) { return do(s, aclID, e) }); err != nil {
		return nil, err
	}
	return returnTrue(action), nil
}

func deleteNetworkAclEntry(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "NetworkAclId", "RuleNumber", "Egress"); err != nil {
		return nil, err
	}
	rule, _, err := p.Int("RuleNumber")
	if err != nil {
		return nil, err
	}
	egress, _, err := p.Bool("Egress")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	aclID := p.String("NetworkAclId")
	if err := h.change(func(s *netstate.Store) (int, error) { return s.DeleteNetworkAclEntry(aclID, rule, egress) }); err != nil {
		return nil, err
	}
	return returnTrue("DeleteNetworkAclEntry"), nil
}

// ---- ReplaceNetworkAclAssociation ----

type replaceNetworkAclAssociationResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ ReplaceNetworkAclAssociationResponse"`
	responseMeta
	NewAssociationID string `xml:"newAssociationId"`
}

func replaceNetworkAclAssociation(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "AssociationId", "NetworkAclId"); err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var id string
	err = h.change(func(s *netstate.Store) (int, error) {
		var v int
		var err error
		id, v, err = s.ReplaceNetworkAclAssociation(p.String("AssociationId"), p.String("NetworkAclId"))
		return v, err
	})
	if err != nil {
		return nil, err
	}
	return &replaceNetworkAclAssociationResponse{NewAssociationID: id}, nil
}
