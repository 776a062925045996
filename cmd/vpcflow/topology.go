package main

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/topology"
)

func init() { register(newTopologyCmd) }

func newTopologyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "topology",
		Short: "Check topology files (VPCs, subnets, interfaces, security groups, NACLs)",
		Long: `A topology file declares the network vpcflow attributes packets to. Its keys
are those of the EC2 describe-* output (--output json), merged into one YAML
or JSON file; see docs/topology.md.`,
	}
	c.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Check a topology file and summarise what it declares",
		Long: `validate loads FILE, reports every problem at once, in line order, as
FILE:LINE: path.to.key: problem (unknown keys with a hint for near misses,
duplicate ids, bad CIDRs, addresses outside their subnet, overlapping
subnets, bad rule numbers, unknown references, and FlowLogs entries that
CreateFlowLogs would refuse, with its error code) and, when the file is
valid, prints a summary: counts of what it declares (network ACL entries
the file lists, then the defaults AWS adds), the VPCs with their subnets and
interfaces, and the flow logs.

pcap, run, gen pcap and policy check read a topology with the same checks:
a file valid here is valid for them.

Exit status: 0 valid, 1 invalid, 2 usage error.`,
		Example: `  vpcflow topology validate examples/topology.yaml

  # build a topology from a real account (jq -s add merges the outputs)
  jq -s 'add + {AccountId: "111122223333", Region: "us-east-1"}' \
    <(aws ec2 describe-vpcs) <(aws ec2 describe-subnets) \
    <(aws ec2 describe-network-interfaces) <(aws ec2 describe-security-groups) \
    <(aws ec2 describe-network-acls) > mine.json
  vpcflow topology validate mine.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("want one topology file, got %d arguments\nRun 'vpcflow topology validate --help' for usage.", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			top, fls, err := flowlog.Load(args[0])
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			topologySummary(cmd.OutOrStdout(), top, fls)
			return nil
		},
	})
	return c
}

// topologyPlural counts n things: "1 route table", "2 route tables",
// "3 entries", "2 internet gateways".
func topologyPlural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	if stem, ok := strings.CutSuffix(one, "y"); ok && !strings.HasSuffix(stem, "a") && !strings.HasSuffix(stem, "e") &&
		!strings.HasSuffix(stem, "o") && !strings.HasSuffix(stem, "u") {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func topologyPrefixes(ps ...[]netip.Prefix) string {
	var s []string
	for _, l := range ps {
		for _, p := range l {
			s = append(s, p.String())
		}
	}
	return strings.Join(s, " ")
}

func topologySummary(w io.Writer, t *topology.Topology, fls []*flowlog.FlowLog) {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fmt.Fprintf(w, "%s: valid\n", t.Name)
	fmt.Fprintf(w, "account %s, region %s\n", dash(t.AccountID), dash(t.Region))
	rules := 0
	for _, g := range t.SecurityGroups {
		rules += len(g.Ingress) + len(g.Egress)
	}
	// Entries the file lists have a line; the others are AWS's defaults
	// that vpcflow adds: the final deny-all (*) entries a listing leaves
	// out, and the allow-all entries of a default ACL the file does not
	// declare.
	declared, star, allow, implicit := 0, 0, 0, 0
	for _, a := range t.NetworkACLs {
		if a.Implicit {
			implicit++
		}
		for _, es := range [][]topology.ACLEntry{a.Ingress, a.Egress} {
			for _, e := range es {
				switch {
				case e.Line > 0:
					declared++
				case e.RuleNumber == topology.StarRule:
					star++
				default:
					allow++
				}
			}
		}
	}
	acls := topologyPlural(len(t.NetworkACLs)-implicit, "network ACL")
	if implicit > 0 {
		acls += fmt.Sprintf(" + %d implicit default", implicit)
	}
	entries := topologyPlural(declared, "entry")
	if star+allow > 0 {
		var added []string
		if star > 0 {
			added = append(added, fmt.Sprintf("%d deny-all *", star))
		}
		if allow > 0 {
			added = append(added, fmt.Sprintf("%d allow-all of the implicit default", allow))
		}
		entries += " + AWS's defaults: " + strings.Join(added, ", ")
	}
	fmt.Fprintf(w, "%s, %s, %s, %s (%s), %s (%s), %s, %s, %s, %s\n",
		topologyPlural(len(t.VPCs), "VPC"), topologyPlural(len(t.Subnets), "subnet"),
		topologyPlural(len(t.ENIs()), "network interface"),
		topologyPlural(len(t.SecurityGroups), "security group"), topologyPlural(rules, "rule"),
		acls, entries,
		topologyPlural(len(t.InternetGateways), "internet gateway"), topologyPlural(len(t.NATGateways), "NAT gateway"),
		topologyPlural(len(t.RouteTables), "route table"), topologyPlural(len(fls), "flow log"))
	byENI := map[*topology.Subnet][]*topology.ENI{}
	for _, e := range t.ENIs() {
		byENI[e.Subnet] = append(byENI[e.Subnet], e)
	}
	for _, v := range t.VPCs {
		fmt.Fprintf(w, "%s %s (DNS %s)\n", v.ID, topologyPrefixes(v.CIDRs, v.IPv6CIDRs), v.DNSAddr())
		for _, s := range v.Subnets {
			var c []netip.Prefix
			if s.CIDR.IsValid() {
				c = append(c, s.CIDR)
			}
			fmt.Fprintf(w, "  %s %s %s nacl %s\n", s.ID, topologyPrefixes(c, s.IPv6CIDRs), dash(s.AZID), s.ACL.ID)
			for _, e := range byENI[s] {
				mac := "-"
				if e.HasMAC {
					mac = topology.FormatMAC(e.MAC)
				}
				var addrs []string
				for _, a := range e.IPv4s {
					addrs = append(addrs, a.String())
				}
				for _, a := range e.IPv6s {
					addrs = append(addrs, a.String())
				}
				fmt.Fprintf(w, "    %s %s %s %s %s [%s]\n", e.ID, e.InterfaceType, mac, strings.Join(addrs, ","),
					dash(e.InstanceID), strings.Join(e.Groups, ","))
			}
		}
	}
	for _, f := range fls {
		dest := f.LogDestination
		if f.DestinationType == flowlog.DestCloudWatch {
			dest = "log group " + f.LogGroupName
		}
		fmt.Fprintf(w, "flow log %s: %s %s, %s, %d s, %s %s\n", f.ID, f.ResourceType, f.ResourceID, f.TrafficType,
			f.MaxAggregationInterval, f.DestinationType, dest)
	}
}
