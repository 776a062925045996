package ec2

import (
	"encoding/xml"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/netstate"
)

// The actions that change the network: each reads its parameters as EC2
// names them on the wire (the query names of EC2's model, which are what
// the SDKs and the AWS CLI send), refuses a malformed or incomplete
// request, answers DryRun=true with DryRunOperation once the request reads
// well, and otherwise makes one call of the network store through
// Backend.ChangeNetwork, so that the packet path judges the next packet by
// the changed network. What the change itself checks (ids that exist,
// CIDR ranges, quotas, duplicates) is the store's, with EC2's error codes
// (docs/netstate.md); this package reads and writes, and checks only what
// can be checked without the network, so DryRun checks that much.
//
// This file holds what the actions share, and the actions on VPCs,
// subnets, network interfaces and tags; groups.go has the security group
// actions, acls.go the network ACL ones.

// change runs one change of the network store through the backend.
func (h *Handler) change(f func(s *netstate.Store) (int, error)) error {
	_, err := h.b.ChangeNetwork(f)
	return err
}

// changed renders what a change made, from the network as the change left
// it: call it inside the change, where no other change can come between.
func (h *Handler) changed(s *netstate.Store) *netCtx {
	id := h.b.Identity()
	return newNetCtx(s.Network(), id.Account, id.Region)
}

// returnResponse is the answer of an action whose result is only that it
// succeeded: <return>true</return>, as EC2 writes it for CreateTags,
// DeleteNetworkInterface and the like.
type returnResponse struct {
	XMLName xml.Name
	responseMeta
	Return bool `xml:"return"`
}

func returnTrue(action string) *returnResponse {
	return &returnResponse{XMLName: responseName(action), Return: true}
}

func responseName(action string) xml.Name {
	return xml.Name{Space: Namespace, Local: action + "Response"}
}

// required refuses a request without one of the parameters EC2's model
// requires (MissingParameter, naming the first missing).
func required(p query.Params, names ...string) error {
	for _, n := range names {
		if v, ok := p.Lookup(n); !ok || v == "" {
			return query.MissingParameter(p.Name(n))
		}
	}
	return nil
}

// unsupported refuses parameters this emulator does not implement:
// ignoring one would make something other than what was asked for. A
// boolean counts only when true and a count only when above zero, the
// values that ask for nothing.
func unsupported(p query.Params, action string, names ...string) error {
	for _, n := range names {
		if !p.Has(n) {
			continue
		}
		v, _ := p.Lookup(n)
		switch v {
		case "false", "0":
			continue
		}
		return query.Errorf("InvalidParameter", "The parameter %s of %s is not supported by this emulator.", p.Name(n), action)
	}
	return nil
}

// unknownName refuses a name EC2's documentation shows but its wire
// format does not use, naming the one to send instead; EC2 itself refuses
// parameters it does not know (UnknownParameter).
func unknownName(p query.Params, name, wire string) error {
	if p.Has(name) {
		return query.Errorf("UnknownParameter", "The parameter %s is not recognized; its query name is %s.", p.Name(name), p.Name(wire))
	}
	return nil
}

// tagSpecTags reads TagSpecification.N of an action that creates a
// resource of type want: the tags of its specifications. A specification
// of another resource type is refused, as EC2 refuses one the action does
// not create.
func tagSpecTags(p query.Params, want string) ([]netstate.Tag, error) {
	var out []netstate.Tag
	for _, s := range p.Structs("TagSpecification") {
		rt, ok := s.Lookup("ResourceType")
		if !ok || rt == "" {
			// AWS's code and message for a specification without a type.
			return nil, query.Errorf("InvalidParameterValue", "Tag specification resource type must have a value")
		}
		if rt != want {
			return nil, query.Errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		tags, err := s.Tags("Tag")
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			out = append(out, netstate.Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out, nil
}

// ---- CreateVpc ----

type createVpcResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateVpcResponse"`
	responseMeta
	Vpc vpcXML `xml:"vpc"`
}

func createVpc(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := unsupported(p, "CreateVpc", "AmazonProvidedIpv6CidrBlock", "Ipv6Pool", "Ipv6CidrBlock",
		"Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId", "Ipv6NetmaskLength", "Ipv6CidrBlockNetworkBorderGroup"); err != nil {
		return nil, err
	}
	if err := required(p, "CidrBlock"); err != nil {
		return nil, err
	}
	if t, ok := p.Lookup("InstanceTenancy"); ok {
		if err := oneOf(p, "InstanceTenancy", t, []string{"default", "dedicated", "host"}); err != nil {
			return nil, err
		}
		if t != "default" {
			return nil, query.Errorf("InvalidParameter", "The parameter InstanceTenancy of CreateVpc is not supported by this emulator for tenancy %s.", t)
		}
	}
	tags, err := tagSpecTags(p, "vpc")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var out vpcXML
	err = h.change(func(s *netstate.Store) (int, error) {
		v, ver, err := s.CreateVpc(p.String("CidrBlock"), tags)
		if err == nil {
			out = renderVpc(h.changed(s), &v)
		}
		return ver, err
	})
	if err != nil {
		return nil, err
	}
	return &createVpcResponse{Vpc: out}, nil
}

// ---- CreateSubnet ----

type createSubnetResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateSubnetResponse"`
	responseMeta
	Subnet subnetXML `xml:"subnet"`
}

func createSubnet(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := unsupported(p, "CreateSubnet", "AvailabilityZoneId", "Ipv6CidrBlock", "Ipv6Native", "OutpostArn",
		"Ipv4IpamPoolId", "Ipv4NetmaskLength", "Ipv6IpamPoolId", "Ipv6NetmaskLength"); err != nil {
		return nil, err
	}
	if err := required(p, "VpcId", "CidrBlock"); err != nil {
		return nil, err
	}
	tags, err := tagSpecTags(p, "subnet")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var out subnetXML
	err = h.change(func(s *netstate.Store) (int, error) {
		sn, ver, err := s.CreateSubnet(p.String("VpcId"), p.String("CidrBlock"), p.String("AvailabilityZone"), tags)
		if err == nil {
			out = renderSubnet(h.changed(s), &sn)
		}
		return ver, err
	})
	if err != nil {
		return nil, err
	}
	return &createSubnetResponse{Subnet: out}, nil
}

// ---- CreateNetworkInterface, DeleteNetworkInterface ----

type createNetworkInterfaceResponse struct {
	XMLName xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateNetworkInterfaceResponse"`
	responseMeta
	NetworkInterface eniXML `xml:"networkInterface"`
	ClientToken      string `xml:"clientToken,omitempty"`
}

func createNetworkInterface(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := unsupported(p, "CreateNetworkInterface", "PrivateIpAddresses", "SecondaryPrivateIpAddressCount",
		"Ipv6Addresses", "Ipv6AddressCount", "Ipv4Prefix", "Ipv4PrefixCount", "Ipv6Prefix", "Ipv6PrefixCount",
		"InterfaceType", "EnablePrimaryIpv6", "ConnectionTrackingSpecification", "Operator"); err != nil {
		return nil, err
	}
	if err := required(p, "SubnetId"); err != nil {
		return nil, err
	}
	groups, err := idList(p, "SecurityGroupId")
	if err != nil {
		return nil, err
	}
	tags, err := tagSpecTags(p, "network-interface")
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	var out eniXML
	err = h.change(func(s *netstate.Store) (int, error) {
		e, ver, err := s.CreateNetworkInterface(p.String("SubnetId"), p.String("PrivateIpAddress"), groups, p.String("Description"), tags)
		if err == nil {
			out = renderENI(h.changed(s), &e)
		}
		return ver, err
	})
	if err != nil {
		return nil, err
	}
	// ClientToken is echoed as EC2 does; a retry with the same token is not
	// recognised (docs/netstate.md), so a client retrying after a lost
	// answer makes a second interface.
	return &createNetworkInterfaceResponse{NetworkInterface: out, ClientToken: p.String("ClientToken")}, nil
}

func deleteNetworkInterface(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	if err := required(p, "NetworkInterfaceId"); err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	err = h.change(func(s *netstate.Store) (int, error) { return s.DeleteNetworkInterface(p.String("NetworkInterfaceId")) })
	if err != nil {
		return nil, err
	}
	return returnTrue("DeleteNetworkInterface"), nil
}

// ---- CreateTags, DeleteTags ----

func resourceIDs(p query.Params) ([]string, error) {
	ids, err := idList(p, "ResourceId")
	if err == nil && len(ids) == 0 {
		err = query.MissingParameter("ResourceId")
	}
	return ids, err
}

func createTags(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	ids, err := resourceIDs(p)
	if err != nil {
		return nil, err
	}
	qt, err := p.Tags("Tag")
	if err != nil {
		return nil, err
	}
	if len(qt) == 0 {
		return nil, query.MissingParameter("Tag")
	}
	tags := make([]netstate.Tag, 0, len(qt))
	for _, t := range qt {
		tags = append(tags, netstate.Tag{Key: t.Key, Value: t.Value})
	}
	if dry {
		return nil, errDryRun
	}
	if err := h.change(func(s *netstate.Store) (int, error) { return s.CreateTags(ids, tags) }); err != nil {
		return nil, err
	}
	return returnTrue("CreateTags"), nil
}

// deleteTagList reads DeleteTags' Tag.N: a Value given, even empty, must
// match; a tag without Value is deleted whatever its value
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteTags.html).
func deleteTagList(p query.Params) ([]netstate.DeleteTag, error) {
	var out []netstate.DeleteTag
	for _, s := range p.Structs("Tag") {
		k, ok := s.Lookup("Key")
		if !ok {
			return nil, query.MissingParameter(s.Name("Key"))
		}
		t := netstate.DeleteTag{Key: k}
		if v, ok := s.Lookup("Value"); ok {
			t.Value = &v
		}
		out = append(out, t)
	}
	return out, nil
}

func deleteTags(h *Handler, p query.Params) (response, error) {
	dry, err := dryRun(p)
	if err != nil {
		return nil, err
	}
	ids, err := resourceIDs(p)
	if err != nil {
		return nil, err
	}
	tags, err := deleteTagList(p)
	if err != nil {
		return nil, err
	}
	if dry {
		return nil, errDryRun
	}
	if err := h.change(func(s *netstate.Store) (int, error) { return s.DeleteTags(ids, tags) }); err != nil {
		return nil, err
	}
	return returnTrue("DeleteTags"), nil
}
