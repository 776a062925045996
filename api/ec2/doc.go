// Package ec2 answers the EC2 Query API of the emulator: the flow-log
// actions (CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs) over the
// service's flow-log registry, the Describe actions of the network
// (DescribeVpcs, DescribeSubnets, DescribeNetworkInterfaces,
// DescribeSecurityGroups, DescribeSecurityGroupRules, DescribeNetworkAcls,
// DescribeRouteTables) and the actions that change it (CreateVpc,
// CreateSubnet, CreateSecurityGroup, DeleteSecurityGroup,
// AuthorizeSecurityGroupIngress/Egress, RevokeSecurityGroupIngress/Egress,
// CreateNetworkAcl, CreateNetworkAclEntry, ReplaceNetworkAclEntry,
// DeleteNetworkAclEntry, ReplaceNetworkAclAssociation,
// CreateNetworkInterface, DeleteNetworkInterface, CreateTags, DeleteTags).
// It exists so the real AWS CLI and SDKs work against `vpcflow serve`
// unchanged, with only --endpoint-url pointing at it.
//
// The HTTP front reads the body, checks the SigV4 signature, decodes the
// form with package query and calls Handler.Serve; this package turns the
// parameters into calls of a Backend (a region.Region) and the results into
// EC2's XML. It holds no state.
//
// # Protocol
//
// As the EC2 API reference describes it
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html,
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/query-api-troubleshooting.html,
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
//
//   - Requests: Action and Version=2016-11-15 with the action's parameters,
//     form-encoded. Lists are flattened with 1-based indexes (ResourceId.1,
//     Filter.1.Name, Filter.1.Value.1, TagSpecification.1.Tag.1.Key),
//     structures use dots (DestinationOptions.FileFormat).
//   - Responses: <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
//     with <requestId>; element names are the lowerCamel names of EC2's
//     model; lists are <fooSet><item>...</item></fooSet>.
//   - Errors: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
//     with a 4xx status for client errors (400, or 412 for DryRunOperation)
//     and 500 for InternalError.
//   - An unknown action is InvalidAction; a missing Action MissingAction; a
//     missing Version MissingParameter; another version NoSuchVersion ("The
//     requested version (V) of service AmazonEC2 does not exist"), the answer
//     EC2 gives — only 2016-11-15, the version of every current SDK, is
//     answered.
//   - DryRun=true checks the request and answers DryRunOperation (412)
//     without doing anything. Every caller may do everything, so
//     UnauthorizedOperation never comes.
//
// # Flow logs
//
// CreateFlowLogs takes every parameter of the API reference's table except
// TagFieldSpecification.N (refused with InvalidParameter: records carry no
// tag fields). Required parameters missing are MissingParameter, a value
// outside an enumeration InvalidParameterValue, an interval other than 60 or
// 600 InvalidParameter "Invalid Flow Log Max Aggregation Interval" (AWS's
// message), a CloudWatch Logs destination without DeliverLogsPermissionArn
// InvalidParameter (the reference requires the role there). The registry
// then applies the rest: destination consistency, LogFormat, ClientToken
// idempotency. A resource the network does not have is an Unsuccessful item
// (the flow logs of the other resources are created); a duplicate fails
// the whole request with FlowLogAlreadyExists and creates nothing, as AWS
// answers it.
//
// DescribeFlowLogs takes FlowLogId.N (unknown ids are absent from the
// answer), the filters deliver-log-status, log-destination-type,
// flow-log-id, log-group-name, resource-id, traffic-type, tag:<key> and
// tag-key (exact values), MaxResults (1-1000; absent means all) and
// NextToken. Each item carries the FlowLog shape: creationTime with
// milliseconds, deliverLogsStatus, deliverLogsErrorMessage only when the
// status is FAILED, destinationOptions for S3, tagSet when tagged,
// logGroupName and, for CloudWatch Logs, logDestination as the log group's
// ARN in the service's account and Region.
//
// DeleteFlowLogs deletes the known ids and reports each unknown one as an
// Unsuccessful item with InvalidFlowLogId.NotFound.
//
// # The network
//
// The network lives in the network store (package netstate,
// docs/netstate.md), which keeps it as EC2 does. The Describe actions read
// it (Backend.Network). Each takes its ids list (VpcId.N, SubnetId.N,
// NetworkInterfaceId.N, GroupId.N and GroupName.N, SecurityGroupRuleId.N,
// NetworkAclId.N, RouteTableId.N; an unknown one fails the call with the
// NotFound code of the resource), filters (EC2's names for the resource,
// tag:<key>, tag-key and tag-value included, with * and ? wildcards),
// MaxResults (5-1000; 5-100 for route tables) and NextToken. A field the
// store does not keep (DHCP options, subnet launch settings, attachment
// ids, ...) is an omitted element, and a filter over it matches nothing.
//
// The actions that change the network read their parameters under EC2's
// query names, which are what the SDKs and the AWS CLI send: the member
// the API reference calls UserIdGroupPairs is IpPermissions.N.Groups.M,
// and IcmpTypeCode is Icmp (Icmp.Type, Icmp.Code); the reference's names
// are refused with UnknownParameter, which names the query name. The
// ingress actions also take the older flat form (IpProtocol, FromPort,
// ToPort, CidrIp, SourceSecurityGroupName, SourceSecurityGroupOwnerId),
// which the egress actions document as not supported. TagSpecification.N
// must name the type of resource the action creates (vpc, subnet,
// security-group, security-group-rule, network-acl, network-interface).
// Parameters of features the store does not have (IPv6 CIDRs, IPAM pools,
// secondary addresses, dedicated tenancy, ...) are refused with
// InvalidParameter rather than ignored.
//
// A request that reads well makes one call of the store through
// Backend.ChangeNetwork, which hands the changed network to the packet
// path: the next packet is judged by it. The store's checks (EC2's error
// codes, HTTP 400) and its answer make the response: the created resource
// as the Describe actions show it, <return>true</return> where EC2 answers
// only that, securityGroupRuleSet for the authorize actions,
// unknownIpPermissionSet and revokedSecurityGroupRuleSet for the revoke
// ones, newAssociationId for ReplaceNetworkAclAssociation. DryRun=true
// answers DryRunOperation once the request reads well, without asking the
// store: the ids it names are not looked up. ClientToken
// (CreateNetworkInterface, CreateNetworkAcl) is echoed, not remembered.
//
// # Pagination
//
// Results are in a fixed order (flow logs by creation time then id, the
// network by id) and a NextToken names the last item of its page, so a
// page never repeats or skips an item that existed throughout, while
// resources are created and deleted between calls.
package ec2
