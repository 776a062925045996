package topology

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
)

// Load reads and validates a topology file (YAML or JSON). A file over
// MaxFileBytes is refused without being read whole.
func Load(path string) (*Topology, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse validates a topology held in memory; name is used in messages. The
// error, when not nil, is an ErrorList with every problem found, in line
// order. The semantic checks of FlowLogs entries are the flowlog package's
// (flowlog.Parse checks a whole file).
func Parse(name string, data []byte) (*Topology, error) {
	t, errs := Check(name, data)
	if len(errs) > 0 {
		return nil, errs
	}
	return t, nil
}

// LoadChecked reads a topology file as Load does and returns what Check
// returns; err is a problem reading the file.
func LoadChecked(path string) (t *Topology, problems ErrorList, err error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, nil, err
	}
	t, problems = Check(path, data)
	return t, problems, nil
}

// Check validates a topology held in memory and returns every problem, in
// line order, with the topology built as far as they allowed: nil when the
// document could not be decoded (a syntax error, an unknown key, a value of
// the wrong type), else every object whose id could be read, so a caller can check more of the file (flowlog.Parse checks its
// FlowLogs) before reporting all at once. A topology returned with problems
// is for such checks only.
func Check(name string, data []byte) (t *Topology, problems ErrorList) {
	d := &decoder{file: name, lines: map[string]int{}}
	defer func() {
		// The builder must never take the process down on odd input; a
		// panic here is a bug, reported as an error rather than a crash.
		if r := recover(); r != nil {
			t, problems = nil, ErrorList{{File: name, Msg: fmt.Sprintf("internal error: %v", r)}}
		}
	}()
	// The parser's cost grows with the square of the nesting: bounds
	// first (bounds.go).
	if len(data) > MaxFileBytes {
		return nil, ErrorList{tooBig(name, int64(len(data)), true)}
	}
	if e := checkBounds(name, data); e != nil {
		return nil, ErrorList{e}
	}
	body := d.parseDocument(data)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	var raw rawDoc
	d.decode(body, reflect.ValueOf(&raw).Elem(), "")
	if len(d.errs) > 0 {
		// Unknown keys and wrong types first: building on them would
		// report their echoes (a misspelt key is a missing one).
		return nil, d.errs.sorted()
	}
	b := &builder{decoder: d, raw: &raw}
	t = b.build()
	return t, d.errs.sorted()
}

type builder struct {
	*decoder
	raw *rawDoc
	t   *Topology
}

// at reports a problem at the line where path was written, falling back to
// the enclosing object's line.
func (b *builder) at(path string, fallback int, format string, args ...any) {
	line := b.lines[path]
	if line == 0 {
		line = fallback
	}
	// Absent keys have no line of their own: use the closest enclosing one.
	for p := path; line == 0 && p != ""; {
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
		line = b.lines[p]
	}
	b.errorf(line, path, format, args...)
}

// prefix parses the CIDR of a rule or route (host bits may be set, as
// AWS's APIs take them: the result is masked).
func (b *builder) prefix(path string, line int, s string, want6 bool) (netip.Prefix, bool) {
	return b.cidr(path, line, s, want6, ParsePrefix)
}

// network parses the CIDR of a VPC or subnet, which must name a network.
func (b *builder) network(path string, line int, s string, want6 bool) (netip.Prefix, bool) {
	return b.cidr(path, line, s, want6, ParseNetwork)
}

func (b *builder) cidr(path string, line int, s string, want6 bool, parse func(string) (netip.Prefix, error)) (netip.Prefix, bool) {
	p, err := parse(s)
	if err != nil {
		b.at(path, line, "%v", err)
		return netip.Prefix{}, false
	}
	if p.Addr().Is6() != want6 {
		fam := "IPv4"
		if want6 {
			fam = "IPv6"
		}
		b.at(path, line, "%q is not an %s CIDR", s, fam)
		return netip.Prefix{}, false
	}
	return p.Masked(), true
}

func (b *builder) addr(path string, line int, s string, want6 bool) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		b.at(path, line, "bad IP address %q", s)
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.Is6() != want6 {
		fam := "IPv4"
		if want6 {
			fam = "IPv6"
		}
		b.at(path, line, "%q is not an %s address", s, fam)
		return netip.Addr{}, false
	}
	return a, true
}

func (b *builder) required(path string, line int, v string) bool {
	if strings.TrimSpace(v) == "" {
		b.at(path, line, "required")
		return false
	}
	return true
}

// newID says whether id, the key of an entry at line, is set and not one
// seen already (what names the kind in the error); else it reports why.
func newID[T any](b *builder, key string, line int, id string, seen map[string]T, what string) bool {
	if !b.required(key, line, id) {
		return false
	}
	if _, dup := seen[id]; dup {
		b.at(key, line, "duplicate %s id %s", what, id)
		return false
	}
	return true
}

func parseMAC(s string) ([6]byte, bool) {
	var m [6]byte
	s = strings.TrimSpace(s)
	sep := byte(':')
	if len(s) == 17 && s[2] == '-' {
		sep = '-'
	}
	if len(s) != 17 {
		return m, false
	}
	for i := 0; i < 6; i++ {
		if i > 0 && s[i*3-1] != sep {
			return m, false
		}
		hi, ok1 := unhex(s[i*3])
		lo, ok2 := unhex(s[i*3+1])
		if !ok1 || !ok2 {
			return m, false
		}
		m[i] = hi<<4 | lo
	}
	return m, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (b *builder) build() *Topology {
	r := b.raw
	t := &Topology{
		Name:      b.file,
		AccountID: strings.TrimSpace(r.AccountId),
		Region:    strings.TrimSpace(r.Region),
		FlowLogs:  r.FlowLogs,
		byMAC:     map[uint64]*ENI{},
		byIP:      map[netip.Addr]*ENI{},
		vpcByID:   map[string]*VPC{},
		subByID:   map[string]*Subnet{},
		sgByID:    map[string]*SecurityGroup{},
		eniByID:   map[string]*ENI{},
		aclByID:   map[string]*NetworkACL{},
		plByID:    map[string]*PrefixList{},
		natByID:   map[string]*NATGateway{},
		igwByID:   map[string]*InternetGateway{},
		rtBySub:   map[*Subnet]*RouteTable{},
		mainRT:    map[*VPC]*RouteTable{},
		explicit:  map[*Subnet]bool{},
	}
	b.t = t
	for path, line := range b.lines {
		if strings.HasPrefix(path, "FlowLogs[") {
			if t.flowLogLines == nil {
				t.flowLogLines = map[string]int{}
			}
			t.flowLogLines[path] = line
		}
	}
	if t.AccountID != "" && !isAccountID(t.AccountID) {
		b.at("AccountId", 0, "want 12 digits, got %q", t.AccountID)
	}
	b.vpcs()
	b.subnets()
	b.prefixLists()
	b.securityGroups()
	b.networkACLs()
	b.enis()
	b.sgRules() // after ENIs: SG references resolve to member addresses
	b.gateways()
	b.routeTables()
	return t
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (b *builder) vpcs() {
	t := b.t
	for i, rv := range b.raw.Vpcs {
		p := fmt.Sprintf("Vpcs[%d]", i)
		if !newID(b, p+".VpcId", rv.Line, rv.VpcId, t.vpcByID, "VPC") {
			continue
		}
		v := &VPC{ID: rv.VpcId, OwnerID: rv.OwnerId, Line: rv.Line, byIP: map[netip.Addr]*ENI{}}
		if rv.CidrBlock != "" {
			if pf, ok := b.network(p+".CidrBlock", rv.Line, rv.CidrBlock, false); ok {
				v.CIDRs = append(v.CIDRs, pf)
			} else {
				v.badCIDR = true
			}
		}
		for j, a := range rv.CidrBlockAssociationSet {
			if pf, ok := b.network(fmt.Sprintf("%s.CidrBlockAssociationSet[%d].CidrBlock", p, j), rv.Line, a.CidrBlock, false); ok {
				if !containsPrefix(v.CIDRs, pf) {
					v.CIDRs = append(v.CIDRs, pf)
				}
			} else {
				v.badCIDR = true
			}
		}
		for j, a := range rv.Ipv6CidrBlockAssociationSet {
			if pf, ok := b.network(fmt.Sprintf("%s.Ipv6CidrBlockAssociationSet[%d].Ipv6CidrBlock", p, j), rv.Line, a.Ipv6CidrBlock, true); ok {
				v.IPv6CIDRs = append(v.IPv6CIDRs, pf)
				t.hasIPv6 = true
			} else {
				v.badCIDR = true
			}
		}
		if len(v.CIDRs) == 0 && len(v.IPv6CIDRs) == 0 && !v.badCIDR {
			b.at(p+".CidrBlock", rv.Line, "required")
		}
		t.vpcByID[v.ID] = v
		t.VPCs = append(t.VPCs, v)
	}
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

func inAny(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q.Bits() <= p.Bits() && q.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

func (b *builder) vpcRef(path string, line int, id string) *VPC {
	if !b.required(path, line, id) {
		return nil
	}
	v := b.t.vpcByID[id]
	if v == nil {
		b.at(path, line, "unknown VPC %s (not in Vpcs)", id)
	}
	return v
}

func (b *builder) subnets() {
	t := b.t
	for i, rs := range b.raw.Subnets {
		p := fmt.Sprintf("Subnets[%d]", i)
		if !newID(b, p+".SubnetId", rs.Line, rs.SubnetId, t.subByID, "subnet") {
			continue
		}
		v := b.vpcRef(p+".VpcId", rs.Line, rs.VpcId)
		s := &Subnet{ID: rs.SubnetId, VPCID: rs.VpcId, VPC: v, AZ: rs.AvailabilityZone,
			AZID: rs.AvailabilityZoneId, OutpostArn: rs.OutpostArn, Line: rs.Line}
		// A VPC with a bad CIDR has no say on where its subnets lie: the
		// problem is reported once, at the VPC.
		judge := v != nil && !v.badCIDR
		if rs.CidrBlock != "" {
			if pf, ok := b.network(p+".CidrBlock", rs.Line, rs.CidrBlock, false); ok {
				s.CIDR = pf
				if judge && !inAny(v.CIDRs, pf) {
					b.at(p+".CidrBlock", rs.Line, "%s is outside the CIDRs of %s", pf, v.ID)
				}
			} else {
				s.badCIDR = true
			}
		}
		for j, a := range rs.Ipv6CidrBlockAssociationSet {
			kp := fmt.Sprintf("%s.Ipv6CidrBlockAssociationSet[%d].Ipv6CidrBlock", p, j)
			if pf, ok := b.network(kp, rs.Line, a.Ipv6CidrBlock, true); ok {
				s.IPv6CIDRs = append(s.IPv6CIDRs, pf)
				if judge && !inAny(v.IPv6CIDRs, pf) {
					b.at(kp, rs.Line, "%s is outside the IPv6 CIDRs of %s", pf, v.ID)
				}
			} else {
				s.badCIDR6 = true
			}
		}
		if !s.CIDR.IsValid() && len(s.IPv6CIDRs) == 0 && !s.badCIDR && !s.badCIDR6 {
			b.at(p+".CidrBlock", rs.Line, "required")
		}
		if v != nil {
			for _, o := range v.Subnets {
				if s.CIDR.IsValid() && o.CIDR.IsValid() && s.CIDR.Overlaps(o.CIDR) {
					b.at(p+".CidrBlock", rs.Line, "%s overlaps %s (%s) in %s", s.CIDR, o.ID, o.CIDR, v.ID)
				}
				for _, a := range s.IPv6CIDRs {
					for _, c := range o.IPv6CIDRs {
						if a.Overlaps(c) {
							b.at(p+".Ipv6CidrBlockAssociationSet", rs.Line, "%s overlaps %s (%s) in %s", a, o.ID, c, v.ID)
						}
					}
				}
			}
			v.Subnets = append(v.Subnets, s)
		}
		t.subByID[s.ID] = s
		t.Subnets = append(t.Subnets, s)
	}
}

func (b *builder) prefixLists() {
	t := b.t
	for i, rp := range b.raw.ManagedPrefixLists {
		p := fmt.Sprintf("ManagedPrefixLists[%d]", i)
		if !newID(b, p+".PrefixListId", rp.Line, rp.PrefixListId, t.plByID, "prefix list") {
			continue
		}
		pl := &PrefixList{ID: rp.PrefixListId, Line: rp.Line}
		for j, e := range rp.Entries {
			kp := fmt.Sprintf("%s.Entries[%d].Cidr", p, j)
			pf, err := ParsePrefix(e.Cidr)
			if err != nil {
				b.at(kp, rp.Line, "%v", err)
				continue
			}
			pl.CIDRs = append(pl.CIDRs, pf.Masked())
		}
		t.plByID[pl.ID] = pl
		t.PrefixLists = append(t.PrefixLists, pl)
	}
}

func (b *builder) securityGroups() {
	t := b.t
	for i, rg := range b.raw.SecurityGroups {
		p := fmt.Sprintf("SecurityGroups[%d]", i)
		if !newID(b, p+".GroupId", rg.Line, rg.GroupId, t.sgByID, "security group") {
			continue
		}
		if rg.VpcId != "" {
			b.vpcRef(p+".VpcId", rg.Line, rg.VpcId)
		}
		g := &SecurityGroup{Index: len(t.SecurityGroups), ID: rg.GroupId, Name: rg.GroupName, VPCID: rg.VpcId, Line: rg.Line}
		t.sgByID[g.ID] = g
		t.SecurityGroups = append(t.SecurityGroups, g)
	}
}

// sgRules parses permissions once every group exists, so references to
// groups declared later in the file resolve.
func (b *builder) sgRules() {
	t := b.t
	for i, rg := range b.raw.SecurityGroups {
		g := t.sgByID[rg.GroupId]
		if g == nil || g.Line != rg.Line {
			continue // skipped above as missing or duplicate
		}
		p := fmt.Sprintf("SecurityGroups[%d]", i)
		g.Ingress = b.permissions(p+".IpPermissions", rg.IpPermissions)
		if rg.IpPermissionsEgress == nil {
			// AWS default for a group whose egress was never edited: allow all.
			g.Egress = []SGRule{{Num: 1, Proto: Any, From: Any, To: Any, Line: rg.Line,
				Prefixes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}}}
		} else {
			g.Egress = b.permissions(p+".IpPermissionsEgress", rg.IpPermissionsEgress)
		}
	}
}

func (b *builder) permissions(path string, perms []rawPermission) []SGRule {
	out := make([]SGRule, 0, len(perms))
	for j, rp := range perms {
		p := fmt.Sprintf("%s[%d]", path, j)
		r := SGRule{Num: j + 1, Line: rp.Line}
		proto, err := ParseProtocol(rp.IpProtocol)
		if err != nil {
			b.at(p+".IpProtocol", rp.Line, "%v", err)
			continue
		}
		r.Proto = proto
		from, to, err := sgPorts(proto, rp.FromPort, rp.ToPort)
		if err != nil {
			b.at(p+".FromPort", rp.Line, "%v", err)
			continue
		}
		r.From, r.To = from, to
		for k, ipr := range rp.IpRanges {
			if pf, ok := b.prefix(fmt.Sprintf("%s.IpRanges[%d].CidrIp", p, k), rp.Line, ipr.CidrIp, false); ok {
				r.Prefixes = append(r.Prefixes, pf)
			}
		}
		for k, ipr := range rp.Ipv6Ranges {
			if pf, ok := b.prefix(fmt.Sprintf("%s.Ipv6Ranges[%d].CidrIpv6", p, k), rp.Line, ipr.CidrIpv6, true); ok {
				r.Prefixes = append(r.Prefixes, pf)
			}
		}
		for k, pl := range rp.PrefixListIds {
			kp := fmt.Sprintf("%s.PrefixListIds[%d].PrefixListId", p, k)
			l := b.t.plByID[pl.PrefixListId]
			if l == nil {
				b.at(kp, rp.Line, "unknown prefix list %q: declare its entries in ManagedPrefixLists", pl.PrefixListId)
				continue
			}
			r.Prefixes = append(r.Prefixes, l.CIDRs...)
		}
		for k, gp := range rp.UserIdGroupPairs {
			kp := fmt.Sprintf("%s.UserIdGroupPairs[%d].GroupId", p, k)
			g := b.t.sgByID[gp.GroupId]
			if g == nil {
				b.at(kp, rp.Line, "unknown security group %q (not in SecurityGroups)", gp.GroupId)
				continue
			}
			r.Groups = append(r.Groups, g)
		}
		// (one given but refused is reported where it was written)
		if len(rp.IpRanges)+len(rp.Ipv6Ranges)+len(rp.UserIdGroupPairs)+len(rp.PrefixListIds) == 0 {
			b.at(p, rp.Line, "permission has no source/destination: want IpRanges, Ipv6Ranges, UserIdGroupPairs or PrefixListIds")
		}
		out = append(out, r)
	}
	return out
}

func (b *builder) networkACLs() {
	t := b.t
	assoc := map[*Subnet]string{} // subnet -> path of its association, for duplicates
	for i, ra := range b.raw.NetworkAcls {
		p := fmt.Sprintf("NetworkAcls[%d]", i)
		if !newID(b, p+".NetworkAclId", ra.Line, ra.NetworkAclId, t.aclByID, "network ACL") {
			continue
		}
		v := b.vpcRef(p+".VpcId", ra.Line, ra.VpcId)
		a := &NetworkACL{ID: ra.NetworkAclId, VPCID: ra.VpcId, IsDefault: ra.IsDefault, Line: ra.Line}
		if v != nil && ra.IsDefault {
			if v.DefaultACL != nil {
				b.at(p+".IsDefault", ra.Line, "%s already has a default network ACL (%s)", v.ID, v.DefaultACL.ID)
			} else {
				v.DefaultACL = a
			}
		}
		for j, as := range ra.Associations {
			kp := fmt.Sprintf("%s.Associations[%d].SubnetId", p, j)
			s := t.subByID[as.SubnetId]
			switch {
			case s == nil:
				b.at(kp, ra.Line, "unknown subnet %q (not in Subnets)", as.SubnetId)
			case v != nil && s.VPC != v:
				b.at(kp, ra.Line, "subnet %s is in %s, not %s", s.ID, s.VPCID, v.ID)
			case assoc[s] != "":
				b.at(kp, ra.Line, "subnet %s is already associated with %s", s.ID, assoc[s])
			default:
				assoc[s] = a.ID
				s.ACL = a
				t.explicit[s] = true
				a.Subnets = append(a.Subnets, s)
			}
		}
		a.Ingress, a.Egress = b.aclEntries(p+".Entries", ra.Entries)
		t.aclByID[a.ID] = a
		t.NetworkACLs = append(t.NetworkACLs, a)
	}
	for _, v := range t.VPCs {
		if v.DefaultACL == nil {
			// [Choice] A VPC without a default NACL gets an implicit
			// allow-all one, like the default NACL AWS creates with a VPC.
			a := &NetworkACL{ID: "acl-default-" + v.ID, VPCID: v.ID, IsDefault: true, Implicit: true, Line: v.Line}
			for _, eg := range []bool{false, true} {
				es := []ACLEntry{
					{RuleNumber: 100, Allow: true, Proto: Any, Prefix: netip.MustParsePrefix("0.0.0.0/0"), PortTo: 65535, ICMPType: Any, ICMPCode: Any},
					{RuleNumber: 101, Allow: true, Proto: Any, Prefix: netip.MustParsePrefix("::/0"), PortTo: 65535, ICMPType: Any, ICMPCode: Any},
				}
				es = withStar(es)
				if eg {
					a.Egress = es
				} else {
					a.Ingress = es
				}
			}
			v.DefaultACL = a
			t.aclByID[a.ID] = a
			t.NetworkACLs = append(t.NetworkACLs, a)
		}
	}
	for _, s := range t.Subnets {
		if s.ACL == nil && s.VPC != nil {
			s.ACL = s.VPC.DefaultACL
			s.ACL.Subnets = append(s.ACL.Subnets, s)
		}
	}
}

// withStar appends the implicit deny entries (IPv4 and IPv6) unless the
// file already listed them, as describe-network-acls does.
func withStar(es []ACLEntry) []ACLEntry {
	has4, has6 := false, false
	for _, e := range es {
		if e.RuleNumber == StarRule {
			if e.Prefix.Addr().Is4() {
				has4 = true
			} else {
				has6 = true
			}
		}
	}
	if !has4 {
		es = append(es, ACLEntry{RuleNumber: StarRule, Proto: Any, Prefix: netip.MustParsePrefix("0.0.0.0/0"), PortTo: 65535, ICMPType: Any, ICMPCode: Any})
	}
	if !has6 {
		es = append(es, ACLEntry{RuleNumber: StarRule, Proto: Any, Prefix: netip.MustParsePrefix("::/0"), PortTo: 65535, ICMPType: Any, ICMPCode: Any})
	}
	return es
}

func (b *builder) aclEntries(path string, raw []rawACLEntry) (in, eg []ACLEntry) {
	seen := map[[2]int]string{} // (egress, rule number) -> path
	for j, re := range raw {
		p := fmt.Sprintf("%s[%d]", path, j)
		e := ACLEntry{Line: re.Line, PortTo: 65535, ICMPType: Any, ICMPCode: Any}
		if re.RuleNumber == nil {
			b.at(p+".RuleNumber", re.Line, "required")
			continue
		}
		e.RuleNumber = *re.RuleNumber
		if e.RuleNumber < 1 || e.RuleNumber > StarRule {
			b.at(p+".RuleNumber", re.Line, "rule number %d out of range 1-32766 (32767 is the implicit * entry)", e.RuleNumber)
			continue
		}
		dir := 0
		if re.Egress {
			dir = 1
		}
		if e.RuleNumber != StarRule {
			k := [2]int{dir, e.RuleNumber}
			if prev, dup := seen[k]; dup {
				b.at(p+".RuleNumber", re.Line, "rule number %d repeats %s", e.RuleNumber, prev)
				continue
			}
			seen[k] = p
		}
		proto, err := ParseProtocol(re.Protocol)
		if err != nil {
			b.at(p+".Protocol", re.Line, "%v", err)
			continue
		}
		e.Proto = proto
		switch strings.ToLower(re.RuleAction) {
		case "allow":
			e.Allow = true
		case "deny":
		default:
			b.at(p+".RuleAction", re.Line, "want allow or deny, got %q", re.RuleAction)
			continue
		}
		if e.RuleNumber == StarRule && (e.Allow || proto != Any) {
			b.at(p+".RuleNumber", re.Line, "rule 32767 is the implicit * entry: it denies all traffic")
			continue
		}
		switch {
		case re.CidrBlock != "" && re.Ipv6CidrBlock != "":
			b.at(p+".Ipv6CidrBlock", re.Line, "an entry has CidrBlock or Ipv6CidrBlock, not both")
			continue
		case re.CidrBlock != "":
			pf, ok := b.prefix(p+".CidrBlock", re.Line, re.CidrBlock, false)
			if !ok {
				continue
			}
			e.Prefix = pf
		case re.Ipv6CidrBlock != "":
			pf, ok := b.prefix(p+".Ipv6CidrBlock", re.Line, re.Ipv6CidrBlock, true)
			if !ok {
				continue
			}
			e.Prefix = pf
		default:
			b.at(p+".CidrBlock", re.Line, "required (or Ipv6CidrBlock)")
			continue
		}
		if re.PortRange != nil && (proto == ProtoTCP || proto == ProtoUDP) {
			if re.PortRange.From == nil || re.PortRange.To == nil {
				b.at(p+".PortRange", re.Line, "want both From and To")
				continue
			}
			f, to := *re.PortRange.From, *re.PortRange.To
			if f < 0 || f > 65535 || to < 0 || to > 65535 || f > to {
				b.at(p+".PortRange", re.Line, "bad port range %d-%d", f, to)
				continue
			}
			e.PortFrom, e.PortTo = f, to
		}
		if re.IcmpTypeCode != nil && (proto == ProtoICMP || proto == ProtoICMPv6) {
			if re.IcmpTypeCode.Type != nil {
				e.ICMPType = *re.IcmpTypeCode.Type
			}
			if re.IcmpTypeCode.Code != nil {
				e.ICMPCode = *re.IcmpTypeCode.Code
			}
			if e.ICMPType < Any || e.ICMPType > 255 || e.ICMPCode < Any || e.ICMPCode > 255 {
				b.at(p+".IcmpTypeCode", re.Line, "ICMP type/code out of range -1..255: %d/%d", e.ICMPType, e.ICMPCode)
				continue
			}
		}
		if re.Egress {
			eg = append(eg, e)
		} else {
			in = append(in, e)
		}
	}
	sortEntries(in)
	sortEntries(eg)
	return withStar(in), withStar(eg)
}

func sortEntries(es []ACLEntry) {
	// insertion sort keeps file order among the two 32767 entries and is
	// plenty for the ≤ 40 entries a NACL can hold.
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].RuleNumber < es[j-1].RuleNumber; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

func (b *builder) enis() {
	t := b.t
	for i, rn := range b.raw.NetworkInterfaces {
		p := fmt.Sprintf("NetworkInterfaces[%d]", i)
		if !newID(b, p+".NetworkInterfaceId", rn.Line, rn.NetworkInterfaceId, t.eniByID, "network interface") {
			continue
		}
		e := &ENI{ID: rn.NetworkInterfaceId, SubnetID: rn.SubnetId, VPCID: rn.VpcId, Line: rn.Line,
			InterfaceType: rn.InterfaceType, RequesterManaged: rn.RequesterManaged,
			Description: rn.Description, Nitro: rn.Nitro, Region: t.Region, AccountID: rn.OwnerId}
		if e.InterfaceType == "" {
			e.InterfaceType = "interface"
		}
		if e.AccountID == "" {
			e.AccountID = t.AccountID
		} else if !isAccountID(e.AccountID) {
			b.at(p+".OwnerId", rn.Line, "want 12 digits, got %q", e.AccountID)
		}
		if rn.Attachment != nil {
			e.InstanceID = rn.Attachment.InstanceId
		}
		if !b.required(p+".SubnetId", rn.Line, rn.SubnetId) {
			continue
		}
		s := t.subByID[rn.SubnetId]
		if s == nil {
			b.at(p+".SubnetId", rn.Line, "unknown subnet %q (not in Subnets)", rn.SubnetId)
			continue
		}
		e.Subnet, e.VPC, e.AZID = s, s.VPC, s.AZID
		if e.VPCID == "" {
			e.VPCID = s.VPCID
		} else if e.VPCID != s.VPCID {
			b.at(p+".VpcId", rn.Line, "%s but subnet %s is in %s", e.VPCID, s.ID, s.VPCID)
		}
		if rn.MacAddress != "" {
			m, ok := parseMAC(rn.MacAddress)
			if !ok {
				b.at(p+".MacAddress", rn.Line, "bad MAC address %q: want 6 hex pairs like 0a:1b:2c:3d:4e:5f", rn.MacAddress)
			} else if o := t.byMAC[macKey(m)]; o != nil {
				b.at(p+".MacAddress", rn.Line, "MAC %s is already %s's", FormatMAC(m), o.ID)
			} else {
				e.MAC, e.HasMAC = m, true
			}
		}
		if rn.Association != nil && rn.Association.PublicIp != "" {
			if a, ok := b.addr(p+".Association.PublicIp", rn.Line, rn.Association.PublicIp, false); ok {
				e.PublicIPv4 = a
			}
		}
		// Primary address: PrivateIpAddress, else the entry marked Primary.
		if rn.PrivateIpAddress != "" {
			if a, ok := b.addr(p+".PrivateIpAddress", rn.Line, rn.PrivateIpAddress, false); ok {
				e.PrimaryIPv4 = a
			}
		}
		for j, pa := range rn.PrivateIpAddresses {
			kp := fmt.Sprintf("%s.PrivateIpAddresses[%d].PrivateIpAddress", p, j)
			a, ok := b.addr(kp, rn.Line, pa.PrivateIpAddress, false)
			if !ok {
				continue
			}
			if pa.Primary {
				if e.PrimaryIPv4.IsValid() && e.PrimaryIPv4 != a {
					b.at(kp, rn.Line, "marked Primary but PrivateIpAddress is %s", e.PrimaryIPv4)
					continue
				}
				e.PrimaryIPv4 = a
			}
		}
		if e.PrimaryIPv4.IsValid() {
			e.IPv4s = append(e.IPv4s, e.PrimaryIPv4)
		}
		for _, pa := range rn.PrivateIpAddresses {
			a, err := netip.ParseAddr(strings.TrimSpace(pa.PrivateIpAddress))
			if err == nil && a.Unmap() != e.PrimaryIPv4 && a.Unmap().Is4() {
				e.IPv4s = append(e.IPv4s, a.Unmap())
			}
		}
		for j, a6 := range rn.Ipv6Addresses {
			if a, ok := b.addr(fmt.Sprintf("%s.Ipv6Addresses[%d].Ipv6Address", p, j), rn.Line, a6.Ipv6Address, true); ok {
				e.IPv6s = append(e.IPv6s, a)
			}
		}
		if len(e.IPv4s) == 0 && len(e.IPv6s) == 0 {
			b.at(p+".PrivateIpAddress", rn.Line, "required (or Ipv6Addresses for an IPv6-only interface)")
		}
		// Addresses inside the subnet and unique in the VPC.
		for j, a := range append(append([]netip.Addr{}, e.IPv4s...), e.IPv6s...) {
			kp := p + ".PrivateIpAddress"
			if j > 0 && a.Is4() {
				kp = p + ".PrivateIpAddresses"
			} else if a.Is6() {
				kp = p + ".Ipv6Addresses"
			}
			if a.Is4() && s.badCIDR || a.Is6() && s.badCIDR6 {
				continue // the subnet's CIDR is reported, not every address in it
			}
			if !s.Contains(a) {
				where := s.CIDR.String()
				if a.Is6() {
					where = fmt.Sprint(s.IPv6CIDRs)
				}
				if a.Is4() && !s.CIDR.IsValid() || a.Is6() && len(s.IPv6CIDRs) == 0 {
					where = "it has no " + family(a) + " CIDR"
				}
				b.at(kp, rn.Line, "%s is outside subnet %s (%s)", a, s.ID, where)
				continue
			}
			if e.VPC != nil {
				if o := e.VPC.byIP[a]; o != nil && o != e {
					b.at(kp, rn.Line, "%s is already %s's in %s", a, o.ID, e.VPC.ID)
					continue
				}
			}
		}
		for j, g := range rn.Groups {
			kp := fmt.Sprintf("%s.Groups[%d].GroupId", p, j)
			sg := t.sgByID[g.GroupId]
			if sg == nil {
				b.at(kp, rn.Line, "unknown security group %q (not in SecurityGroups)", g.GroupId)
				continue
			}
			if sg.VPCID != "" && sg.VPCID != e.VPCID {
				b.at(kp, rn.Line, "security group %s is in %s, the interface in %s", sg.ID, sg.VPCID, e.VPCID)
				continue
			}
			e.Groups = append(e.Groups, sg.ID)
			e.SecurityGroups = append(e.SecurityGroups, sg)
			sg.Members = append(sg.Members, e)
		}
		if ct := rn.ConnectionTrackingConfiguration; ct != nil {
			set := func(key string, dst *int, v *int) {
				if v == nil {
					return
				}
				if *v < 1 {
					b.at(p+".ConnectionTrackingConfiguration."+key, rn.Line, "want a positive number of seconds, got %d", *v)
					return
				}
				*dst = *v
			}
			set("TcpEstablishedTimeout", &e.TCPEstablishedTimeout, ct.TcpEstablishedTimeout)
			set("UdpStreamTimeout", &e.UDPStreamTimeout, ct.UdpStreamTimeout)
			set("UdpTimeout", &e.UDPTimeout, ct.UdpTimeout)
		}
		t.eniByID[e.ID] = e
		t.enis = append(t.enis, e)
		if e.HasMAC {
			t.byMAC[macKey(e.MAC)] = e
		}
		if e.VPC != nil {
			for _, a := range append(append([]netip.Addr{}, e.IPv4s...), e.IPv6s...) {
				if e.VPC.byIP[a] == nil {
					e.VPC.byIP[a] = e
				}
			}
		}
	}
	sortENIs(t.enis)
	for i, e := range t.enis {
		e.Index = i
		for _, a := range append(append([]netip.Addr{}, e.IPv4s...), e.IPv6s...) {
			if o, seen := t.byIP[a]; !seen {
				t.byIP[a] = e
			} else if o != e {
				t.byIP[a] = nil // same address in two VPCs: needs the VPC
			}
		}
	}
}

func (b *builder) gateways() {
	t := b.t
	for i, rg := range b.raw.InternetGateways {
		p := fmt.Sprintf("InternetGateways[%d]", i)
		if !newID(b, p+".InternetGatewayId", rg.Line, rg.InternetGatewayId, t.igwByID, "internet gateway") {
			continue
		}
		g := &InternetGateway{ID: rg.InternetGatewayId, Line: rg.Line}
		for j, a := range rg.Attachments {
			if b.vpcRef(fmt.Sprintf("%s.Attachments[%d].VpcId", p, j), rg.Line, a.VpcId) != nil {
				g.VPCIDs = append(g.VPCIDs, a.VpcId)
			}
		}
		t.igwByID[g.ID] = g
		t.InternetGateways = append(t.InternetGateways, g)
	}
	for i, rn := range b.raw.NatGateways {
		p := fmt.Sprintf("NatGateways[%d]", i)
		if !newID(b, p+".NatGatewayId", rn.Line, rn.NatGatewayId, t.natByID, "NAT gateway") {
			continue
		}
		n := &NATGateway{ID: rn.NatGatewayId, SubnetID: rn.SubnetId, VPCID: rn.VpcId, Line: rn.Line}
		switch strings.ToLower(rn.ConnectivityType) {
		case "", "public":
			n.Public = true
		case "private":
		default:
			b.at(p+".ConnectivityType", rn.Line, "want public or private, got %q", rn.ConnectivityType)
		}
		s := t.subByID[rn.SubnetId]
		if b.required(p+".SubnetId", rn.Line, rn.SubnetId) && s == nil {
			b.at(p+".SubnetId", rn.Line, "unknown subnet %q (not in Subnets)", rn.SubnetId)
		}
		if rn.VpcId != "" {
			if v := b.vpcRef(p+".VpcId", rn.Line, rn.VpcId); v != nil && s != nil && s.VPC != v {
				b.at(p+".VpcId", rn.Line, "%s but subnet %s is in %s", rn.VpcId, s.ID, s.VPCID)
			}
		} else if s != nil {
			n.VPCID = s.VPCID
		}
		for j, a := range rn.NatGatewayAddresses {
			kp := fmt.Sprintf("%s.NatGatewayAddresses[%d]", p, j)
			if a.NetworkInterfaceId != "" {
				if t.eniByID[a.NetworkInterfaceId] == nil {
					b.at(kp+".NetworkInterfaceId", rn.Line, "unknown network interface %q (declare it in NetworkInterfaces with InterfaceType nat_gateway)", a.NetworkInterfaceId)
				} else {
					n.ENIs = append(n.ENIs, a.NetworkInterfaceId)
				}
			}
			if a.PrivateIp != "" {
				if ip, ok := b.addr(kp+".PrivateIp", rn.Line, a.PrivateIp, false); ok {
					n.PrivateIPs = append(n.PrivateIPs, ip)
				}
			}
			if a.PublicIp != "" {
				if ip, ok := b.addr(kp+".PublicIp", rn.Line, a.PublicIp, false); ok {
					n.PublicIPs = append(n.PublicIPs, ip)
				}
			}
		}
		t.natByID[n.ID] = n
		t.NATGateways = append(t.NATGateways, n)
	}
}
