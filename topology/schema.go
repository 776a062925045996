package topology

// The raw* types mirror the JSON that `aws ec2 describe-... --output json`
// prints, key for key, so a user can paste real output. Keys AWS returns
// that vpcflow does not use are listed in the ignore tags: accepted, never
// an error. Everything here is "as written"; build.go validates and turns it
// into the typed model.

type rawDoc struct {
	AccountId          string
	Region             string
	Vpcs               []rawVpc
	Subnets            []rawSubnet
	NetworkInterfaces  []rawENI
	SecurityGroups     []rawSG
	NetworkAcls        []rawACL
	InternetGateways   []rawIGW
	NatGateways        []rawNAT
	ManagedPrefixLists []rawPrefixList
	RouteTables        []rawRouteTable
	FlowLogs           []FlowLogSpec
	_                  struct{} `aws:",ignore=NextToken,ResponseMetadata"`
}

type rawTag struct {
	Key   string
	Value string
}

type rawVpc struct {
	Line                        int `aws:",line"`
	VpcId                       string
	CidrBlock                   string
	CidrBlockAssociationSet     []rawCidrAssoc
	Ipv6CidrBlockAssociationSet []rawIpv6CidrAssoc
	OwnerId                     string
	IsDefault                   bool
	Tags                        []rawTag
	_                           struct{} `aws:",ignore=DhcpOptionsId,State,InstanceTenancy,BlockPublicAccessStates,EncryptionControl"`
}

type rawCidrAssoc struct {
	CidrBlock string
	_         struct{} `aws:",ignore=AssociationId,CidrBlockState"`
}

type rawIpv6CidrAssoc struct {
	Ipv6CidrBlock string
	_             struct{} `aws:",ignore=AssociationId,Ipv6CidrBlockState,NetworkBorderGroup,Ipv6Pool,Ipv6AddressAttribute,IpSource"`
}

type rawSubnet struct {
	Line                        int `aws:",line"`
	SubnetId                    string
	VpcId                       string
	CidrBlock                   string
	Ipv6CidrBlockAssociationSet []rawIpv6CidrAssoc
	AvailabilityZone            string
	AvailabilityZoneId          string
	OutpostArn                  string
	OwnerId                     string
	Tags                        []rawTag
	_                           struct{} `aws:",ignore=AvailableIpAddressCount,DefaultForAz,MapPublicIpOnLaunch,MapCustomerOwnedIpOnLaunch,CustomerOwnedIpv4Pool,State,AssignIpv6AddressOnCreation,SubnetArn,EnableDns64,Ipv6Native,PrivateDnsNameOptionsOnLaunch,EnableLniAtDeviceIndex,BlockPublicAccessStates"`
}

type rawENI struct {
	Line                            int `aws:",line"`
	NetworkInterfaceId              string
	SubnetId                        string
	VpcId                           string
	MacAddress                      string
	PrivateIpAddress                string
	PrivateIpAddresses              []rawPrivateIP
	Ipv6Addresses                   []rawIpv6Addr
	Association                     *rawAssociation
	Attachment                      *rawAttachment
	InterfaceType                   string
	Groups                          []rawGroupRef
	OwnerId                         string
	Description                     string
	RequesterManaged                bool
	ConnectionTrackingConfiguration *rawConnTrack
	Nitro                           bool // vpcflow extension: caps the aggregation interval at 60 s
	TagSet                          []rawTag
	_                               struct{} `aws:",ignore=AvailabilityZone,PrivateDnsName,Ipv4Prefixes,Ipv6Prefixes,RequesterId,SourceDestCheck,Status,DenyAllIgwTraffic,Ipv6Native,Ipv6Address,Operator,AssociatedSubnets,OutpostArn,PublicDnsName,PublicIpDnsNameOptions"`
}

type rawPrivateIP struct {
	PrivateIpAddress string
	Primary          bool
	Association      *rawAssociation
	_                struct{} `aws:",ignore=PrivateDnsName"`
}

type rawIpv6Addr struct {
	Ipv6Address   string
	IsPrimaryIpv6 bool
}

type rawAssociation struct {
	PublicIp string
	_        struct{} `aws:",ignore=IpOwnerId,PublicDnsName,CarrierIp,CustomerOwnedIp,AllocationId,AssociationId"`
}

type rawAttachment struct {
	InstanceId string
	_          struct{} `aws:",ignore=AttachTime,AttachmentId,DeleteOnTermination,DeviceIndex,NetworkCardIndex,InstanceOwnerId,Status,EnaSrdSpecification,EnaQueueCount"`
}

type rawGroupRef struct {
	GroupId string
	_       struct{} `aws:",ignore=GroupName"`
}

type rawConnTrack struct {
	TcpEstablishedTimeout *int
	UdpStreamTimeout      *int
	UdpTimeout            *int
}

type rawSG struct {
	Line                int `aws:",line"`
	GroupId             string
	GroupName           string
	VpcId               string
	Description         string
	OwnerId             string
	IpPermissions       []rawPermission
	IpPermissionsEgress []rawPermission
	Tags                []rawTag
	_                   struct{} `aws:",ignore=SecurityGroupArn"`
}

type rawPermission struct {
	Line             int `aws:",line"`
	IpProtocol       string
	FromPort         *int
	ToPort           *int
	IpRanges         []rawIpRange
	Ipv6Ranges       []rawIpv6Range
	UserIdGroupPairs []rawGroupPair
	PrefixListIds    []rawPrefixListRef
}

type rawIpRange struct {
	CidrIp      string
	Description string
}

type rawIpv6Range struct {
	CidrIpv6    string
	Description string
}

type rawGroupPair struct {
	GroupId     string
	Description string
	_           struct{} `aws:",ignore=GroupName,PeeringStatus,UserId,VpcId,VpcPeeringConnectionId"`
}

type rawPrefixListRef struct {
	PrefixListId string
	Description  string
}

type rawACL struct {
	Line         int `aws:",line"`
	NetworkAclId string
	VpcId        string
	IsDefault    bool
	Associations []rawACLAssoc
	Entries      []rawACLEntry
	OwnerId      string
	Tags         []rawTag
}

type rawACLAssoc struct {
	SubnetId string
	_        struct{} `aws:",ignore=NetworkAclAssociationId,NetworkAclId"`
}

type rawACLEntry struct {
	Line          int `aws:",line"`
	RuleNumber    *int
	Protocol      string
	RuleAction    string
	Egress        bool
	CidrBlock     string
	Ipv6CidrBlock string
	PortRange     *struct {
		From *int
		To   *int
	}
	IcmpTypeCode *struct {
		Type *int
		Code *int
	}
}

type rawIGW struct {
	Line              int `aws:",line"`
	InternetGatewayId string
	Attachments       []struct {
		VpcId string
		_     struct{} `aws:",ignore=State"`
	}
	OwnerId string
	Tags    []rawTag
}

type rawNAT struct {
	Line                int `aws:",line"`
	NatGatewayId        string
	SubnetId            string
	VpcId               string
	ConnectivityType    string
	NatGatewayAddresses []struct {
		NetworkInterfaceId string
		PrivateIp          string
		PublicIp           string
		_                  struct{} `aws:",ignore=AllocationId,AssociationId,IsPrimary,FailureMessage,Status"`
	}
	Tags []rawTag
	_    struct{} `aws:",ignore=CreateTime,DeleteTime,FailureCode,FailureMessage,ProvisionedBandwidth,State,AttachedAppliances,AvailabilityMode,AutoProvisionZones,AutoScalingIps,RouteTableId"`
}

type rawPrefixList struct {
	Line         int `aws:",line"`
	PrefixListId string
	Entries      []struct {
		Cidr        string
		Description string
	}
	_ struct{} `aws:",ignore=PrefixListName,AddressFamily,State,StateMessage,PrefixListArn,MaxEntries,Version,Tags,OwnerId,IpamPrefixListResolverSyncEnabled"`
}

type rawRouteTable struct {
	Line         int `aws:",line"`
	RouteTableId string
	VpcId        string
	Associations []struct {
		SubnetId string
		Main     bool
		_        struct{} `aws:",ignore=RouteTableAssociationId,RouteTableId,AssociationState,GatewayId"`
	}
	Routes []rawRoute
	_      struct{} `aws:",ignore=OwnerId,Tags,PropagatingVgws"`
}

type rawRoute struct {
	Line                        int `aws:",line"`
	DestinationCidrBlock        string
	DestinationIpv6CidrBlock    string
	DestinationPrefixListId     string
	GatewayId                   string
	NatGatewayId                string
	TransitGatewayId            string
	VpcPeeringConnectionId      string
	NetworkInterfaceId          string
	InstanceId                  string
	LocalGatewayId              string
	EgressOnlyInternetGatewayId string
	CarrierGatewayId            string
	CoreNetworkArn              string
	_                           struct{} `aws:",ignore=Origin,State,InstanceOwnerId"`
}

// FlowLogSpec is one entry of FlowLogs: the CreateFlowLogs request
// parameters as written (semantic checks are the flowlog package's job).
// Pointer fields are nil when the key is absent, so defaults stay the
// caller's decision.
type FlowLogSpec struct {
	Line                     int `aws:",line"` // line of the entry, for error messages
	ResourceIds              []string
	ResourceType             string
	TrafficType              string
	LogDestinationType       string
	LogDestination           string
	LogGroupName             string
	DeliverLogsPermissionArn string
	DeliverCrossAccountRole  string
	LogFormat                string
	MaxAggregationInterval   *int
	DestinationOptions       *DestinationOptions
	TagSpecifications        []TagSpecification
	_                        struct{} `aws:",ignore=ClientToken,DryRun"`
}

// DestinationOptions is CreateFlowLogs' DestinationOptions (S3 only).
type DestinationOptions struct {
	FileFormat               string
	HiveCompatiblePartitions *bool
	PerHourPartition         *bool
}

// TagSpecification is CreateFlowLogs' TagSpecifications entry.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// Tag is an EC2 tag.
type Tag struct {
	Key   string
	Value string
}
