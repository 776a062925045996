package policy

import (
	"github.com/vpcflow/vpcflow/topology"
)

// Hop is one filter a packet met (or skipped) on its way through an ENI.
type Hop struct {
	Kind      string    `json:"hop"` // "nacl" or "sg"
	ID        string    `json:"id"`  // acl-... or the ENI's groups joined by ","
	Direction Direction `json:"-"`
	Accept    bool      `json:"-"`
	Action    string    `json:"action"`         // ACCEPT, REJECT or SKIPPED
	Rule      string    `json:"rule,omitempty"` // deciding rule of this hop
	Note      string    `json:"note,omitempty"` // why it was skipped, or how it decided
}

// Explanation is a verdict with the path that led to it.
type Explanation struct {
	Verdict
	Path []Hop
}

// Explain evaluates p at eni without touching connection tracking and
// records every hop, for `vpcflow policy check`. With reply set, p is taken
// as the reply of a connection opened by the reverse packet: the security
// group passes it as tracked when it allows that reverse packet.
func (e *Engine) Explain(eni *topology.ENI, dir Direction, p *Packet, reply bool) Explanation {
	ep := e.policyOf(eni)
	if ep == nil {
		return Explanation{Verdict: Verdict{Rule: unknownENI}}
	}
	remote := p.Src
	if dir == Egress {
		remote = p.Dst
	}
	remote = remote.Unmap()
	var ex Explanation
	crossing := ep.acl != nil && !ep.inSubnet(remote)
	aclHop := func() bool {
		h := Hop{Kind: "nacl", Direction: dir}
		if ep.acl != nil {
			h.ID = ep.acl.id
		}
		if !crossing {
			h.Action, h.Accept = "SKIPPED", true
			h.Note = "same subnet: " + remote.String() + " is inside " + eni.SubnetID
			ex.Path = append(ex.Path, h)
			return true
		}
		x := ep.acl.eval(dir, p, remote)
		h.Accept, h.Rule = x.allow, x.name
		h.Action = Verdict{Accept: x.allow}.Action()
		ex.Path = append(ex.Path, h)
		if !x.allow {
			ex.Verdict = Verdict{Rule: x.name}
		} else if !ep.hasSG {
			ex.Verdict = Verdict{Accept: true, Rule: x.name}
		}
		return x.allow
	}
	sgHop := func() bool {
		h := Hop{Kind: "sg", Direction: dir, ID: joinGroups(eni)}
		if !ep.hasSG {
			h.Action, h.Accept, h.Note = "SKIPPED", true, "the interface has no security group"
			ex.Path = append(ex.Path, h)
			ex.Verdict = Verdict{Accept: true, Rule: ex.Verdict.Rule}
			return true
		}
		if reply {
			rev := reverse(p)
			rdir := Ingress
			if dir == Ingress {
				rdir = Egress
			}
			rremote := rev.Src
			if rdir == Egress {
				rremote = rev.Dst
			}
			if r := e.matchSG(ep.sg[rdir], &rev, rremote.Unmap()); r != nil {
				ref := &e.rules[r.id]
				h.Action, h.Accept, h.Rule = "ACCEPT", true, ref.tracked
				h.Note = "reply of a connection allowed by " + ref.name
				ex.Path = append(ex.Path, h)
				ex.Verdict = Verdict{Accept: true, Rule: ref.tracked}
				return true
			}
			h.Note = "the reverse packet is not allowed, so no tracked connection: evaluated as new"
		}
		if r := e.matchSG(ep.sg[dir], p, remote); r != nil {
			h.Action, h.Accept, h.Rule = "ACCEPT", true, e.rules[r.id].name
			ex.Path = append(ex.Path, h)
			ex.Verdict = Verdict{Accept: true, Rule: h.Rule}
			return true
		}
		h.Action, h.Rule = "REJECT", ep.none[dir]
		ex.Path = append(ex.Path, h)
		ex.Verdict = Verdict{Rule: h.Rule}
		return false
	}
	if dir == Ingress {
		if aclHop() {
			sgHop()
		}
	} else {
		if sgHop() {
			sgVerdict := ex.Verdict
			if aclHop() && ep.hasSG {
				ex.Verdict = sgVerdict
			}
		}
	}
	return ex
}

// Check is Explain's verdict alone: one new packet, no tracked state.
func (e *Engine) Check(eni *topology.ENI, dir Direction, p *Packet) Verdict {
	return e.Explain(eni, dir, p, false).Verdict
}

func reverse(p *Packet) Packet {
	r := *p
	r.Src, r.Dst = p.Dst, p.Src
	r.SrcPort, r.DstPort = p.DstPort, p.SrcPort
	// An echo reply answers an echo request: evaluate the request.
	switch {
	case p.Proto == topology.ProtoICMP && p.ICMPType == 0:
		r.ICMPType = 8
	case p.Proto == topology.ProtoICMPv6 && p.ICMPType == 129:
		r.ICMPType = 128
	}
	return r
}

func joinGroups(eni *topology.ENI) string {
	s := ""
	for i, g := range eni.Groups {
		if i > 0 {
			s += ","
		}
		s += g
	}
	return s
}
