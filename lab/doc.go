// Package lab builds a topology's VPCs out of Linux network namespaces, so
// real programs can send real packets through security groups and network
// ACLs that the kernel enforces as AWS does, and live capture can turn the
// traffic into the flow-log records AWS would write for it.
//
// What it builds for a lab id ID (docs/lab.md has the picture):
//
//   - vf-ID-<eni-id>: one namespace per network interface, an "instance"
//     whose eth0 carries the ENI's MAC and private addresses, with a
//     default route via its subnet's router address (the subnet's base + 1,
//     as AWS's VPC router);
//   - vf-ID-router: the VPC router of every VPC of the lab: one bridge per
//     subnet (the router's address on it), one port per ENI, policy routing
//     per subnet from the route tables, and the internet gateway's 1:1 NAT
//     of public IPv4 addresses;
//   - vf-ID-internet: public peers (the documentation ranges, less the
//     ENIs' public addresses), behind the router's internet link;
//   - a NAT gateway is its interface's namespace, which forwards what the
//     subnets route to it with the source translated to its address.
//
// Lab.Apply makes a built lab follow a new version of its topology (an
// EC2 API change under vpcflow serve --lab): rules, interfaces added and
// removed, routes; subnets are fixed.
//
// Nothing is made in the host's namespace: deleting the namespaces named
// vf-ID-* removes every interface, route and nftables table of the lab, so
// `vpcflow lab down` cleans up after a crash from the names alone.
//
// Where the rules are enforced follows from where AWS writes its records:
// on the interface whose filtering decided, for packets dropped as well as
// delivered. A live capture of an ENI's link (its port in the router
// namespace) must therefore see every packet before the filter of its
// direction drops it: what the ENI receives is judged in the ENI's
// namespace (network ACL inbound, then security group inbound), what it
// sends is judged at its port in the router namespace (security group
// outbound, then network ACL outbound), in the order package policy
// evaluates them. Each nftables rule's comment is the rule name policy
// gives (acl-ID/ingress/100, sg-ID/egress/2, sg-ID/tracked, ...), so the
// kernel's counters can be compared with the x-rule of records.
package lab
