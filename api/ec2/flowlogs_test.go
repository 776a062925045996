package ec2_test

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/flowlog"
)

const topoFile = "../../examples/topology.yaml"

var flowLogID = regexp.MustCompile(`^fl-[0-9a-f]{17}$`)

// seededID is the flow log examples/topology.yaml declares.
func seededID(t *testing.T, g *rig) string {
	t.Helper()
	out, err := g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{})
	if err != nil || len(out.FlowLogs) != 1 {
		t.Fatalf("describe: %v %d", err, len(out.FlowLogs))
	}
	return aws.ToString(out.FlowLogs[0].FlowLogId)
}

func s3Input(dest string, ids ...string) *ec2sdk.CreateFlowLogsInput {
	return &ec2sdk.CreateFlowLogsInput{ResourceIds: ids, ResourceType: types.FlowLogsResourceTypeSubnet,
		TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String(dest)}
}

func create(t *testing.T, g *rig, in *ec2sdk.CreateFlowLogsInput) *ec2sdk.CreateFlowLogsOutput {
	t.Helper()
	out, err := g.c.CreateFlowLogs(ctx, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return out
}

func describeAll(t *testing.T, g *rig, in *ec2sdk.DescribeFlowLogsInput) []types.FlowLog {
	t.Helper()
	out, err := g.c.DescribeFlowLogs(ctx, in)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if out.NextToken != nil {
		t.Fatalf("describe without MaxResults gave a NextToken")
	}
	return out.FlowLogs
}

func TestCreateS3AndDescribeEveryField(t *testing.T) {
	g := newRig(t, topoFile, nil)
	g.clk.Advance(1500 * time.Millisecond)
	in := s3Input("arn:aws:s3:::flows-bucket/prod/vpc/", pubSubnet)
	in.TrafficType = types.TrafficTypeReject
	in.MaxAggregationInterval = aws.Int32(60)
	in.LogFormat = aws.String("${version} ${interface-id} ${srcaddr} ${dstaddr} ${action}")
	in.DestinationOptions = &types.DestinationOptionsRequest{FileFormat: types.DestinationFileFormatParquet,
		HiveCompatiblePartitions: aws.Bool(true), PerHourPartition: aws.Bool(true)}
	in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpcFlowLog,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}, {Key: aws.String("env"), Value: aws.String("prod")}}}}
	in.ClientToken = aws.String("token-s3-1")
	out := create(t, g, in)
	if len(out.FlowLogIds) != 1 || !flowLogID.MatchString(out.FlowLogIds[0]) {
		t.Fatalf("FlowLogIds %q", out.FlowLogIds)
	}
	if len(out.Unsuccessful) != 0 || aws.ToString(out.ClientToken) != "token-s3-1" {
		t.Fatalf("Unsuccessful %v, ClientToken %v", out.Unsuccessful, out.ClientToken)
	}
	id := out.FlowLogIds[0]
	fls := describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{FlowLogIds: []string{id}})
	if len(fls) != 1 {
		t.Fatalf("%d flow logs", len(fls))
	}
	fl := fls[0]
	want := types.FlowLog{
		CreationTime:           aws.Time(time.Date(2024, 5, 1, 12, 0, 1, 623000000, time.UTC)),
		DeliverLogsStatus:      aws.String("SUCCESS"),
		FlowLogId:              aws.String(id),
		FlowLogStatus:          aws.String("ACTIVE"),
		ResourceId:             aws.String(pubSubnet),
		TrafficType:            types.TrafficTypeReject,
		LogDestinationType:     types.LogDestinationTypeS3,
		LogDestination:         aws.String("arn:aws:s3:::flows-bucket/prod/vpc/"),
		LogFormat:              aws.String("${version} ${interface-id} ${srcaddr} ${dstaddr} ${action}"),
		Tags:                   []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}, {Key: aws.String("env"), Value: aws.String("prod")}},
		MaxAggregationInterval: aws.Int32(60),
		DestinationOptions: &types.DestinationOptionsResponse{FileFormat: types.DestinationFileFormatParquet,
			HiveCompatiblePartitions: aws.Bool(true), PerHourPartition: aws.Bool(true)},
	}
	if !fl.CreationTime.Equal(*want.CreationTime) {
		t.Errorf("CreationTime %v, want %v", fl.CreationTime, want.CreationTime)
	}
	fl.CreationTime = want.CreationTime
	if !reflect.DeepEqual(fl, want) {
		t.Errorf("flow log\n%+v\nwant\n%+v", fl, want)
	}
	// A retry with the same token returns the same flow log and creates
	// nothing more.
	again := create(t, g, in)
	if !slices.Equal(again.FlowLogIds, []string{id}) || len(describeAll(t, g, nil)) != 2 {
		t.Errorf("retry: %q", again.FlowLogIds)
	}
	in.TrafficType = types.TrafficTypeAccept
	_, err := g.c.CreateFlowLogs(ctx, in)
	wantAPIError(t, err, 400, "IdempotentParameterMismatch", "")
}

func TestCreateCloudWatchLogs(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out := create(t, g, &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{webENI, dbENI}, ResourceType: types.FlowLogsResourceTypeNetworkInterface,
		TrafficType: types.TrafficTypeAccept, LogGroupName: aws.String("/vpc/flows"),
		DeliverLogsPermissionArn: aws.String(flowLogsRole)})
	if len(out.FlowLogIds) != 2 || len(out.Unsuccessful) != 0 || out.ClientToken != nil {
		t.Fatalf("create: %+v", out)
	}
	for i, eni := range []string{webENI, dbENI} {
		fls := describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{FlowLogIds: []string{out.FlowLogIds[i]}})
		if len(fls) != 1 {
			t.Fatalf("%d flow logs", len(fls))
		}
		fl := fls[0]
		fl.CreationTime = nil
		want := types.FlowLog{
			DeliverLogsPermissionArn: aws.String(flowLogsRole),
			DeliverLogsStatus:        aws.String("SUCCESS"),
			FlowLogId:                aws.String(out.FlowLogIds[i]),
			FlowLogStatus:            aws.String("ACTIVE"),
			LogGroupName:             aws.String("/vpc/flows"),
			ResourceId:               aws.String(eni),
			TrafficType:              types.TrafficTypeAccept,
			LogDestinationType:       types.LogDestinationTypeCloudWatchLogs,
			// The log group's ARN, in the account and Region of the service.
			LogDestination:         aws.String("arn:aws:logs:us-east-1:111122223333:log-group:/vpc/flows"),
			LogFormat:              aws.String(defaultFormat),
			MaxAggregationInterval: aws.Int32(600),
		}
		if !reflect.DeepEqual(fl, want) {
			t.Errorf("flow log\n%+v\nwant\n%+v", fl, want)
		}
	}
	// A log-group ARN given as LogDestination is reported as given.
	arn := "arn:aws:logs:us-east-1:111122223333:log-group:other"
	out = create(t, g, &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
		TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeCloudWatchLogs, LogDestination: aws.String(arn),
		DeliverLogsPermissionArn: aws.String(flowLogsRole)})
	fl := describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{FlowLogIds: out.FlowLogIds})[0]
	if aws.ToString(fl.LogDestination) != arn || aws.ToString(fl.LogGroupName) != "other" {
		t.Errorf("by ARN: LogDestination %q LogGroupName %q", aws.ToString(fl.LogDestination), aws.ToString(fl.LogGroupName))
	}
}

func TestCreateUnknownResourceAndDuplicate(t *testing.T) {
	g := newRig(t, topoFile, nil)
	out := create(t, g, s3Input("arn:aws:s3:::b", "subnet-0000000000000dead", appSubnet))
	if len(out.FlowLogIds) != 1 || len(out.Unsuccessful) != 1 {
		t.Fatalf("create: %+v", out)
	}
	u := out.Unsuccessful[0]
	if aws.ToString(u.ResourceId) != "subnet-0000000000000dead" || aws.ToString(u.Error.Code) != "InvalidSubnetID.NotFound" ||
		aws.ToString(u.Error.Message) != "The specified subnet does not exist." {
		t.Errorf("unsuccessful %s %s %q", aws.ToString(u.ResourceId), aws.ToString(u.Error.Code), aws.ToString(u.Error.Message))
	}
	before := len(describeAll(t, g, nil))
	// The same configuration on the same subnet, with a new subnet: the
	// whole request fails and the new subnet gets no flow log either.
	_, err := g.c.CreateFlowLogs(ctx, s3Input("arn:aws:s3:::b", dbSubnet, appSubnet))
	wantAPIError(t, err, 400, "FlowLogAlreadyExists", "Error. There is an existing Flow Log with the same configuration and log destination.")
	if n := len(describeAll(t, g, nil)); n != before {
		t.Errorf("%d flow logs after the duplicate, want %d", n, before)
	}
	// Every resource unknown: 200, no flow log, one item each.
	out = create(t, g, &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{"vpc-0000000000000dead", "vpc-0000000000000beef"},
		ResourceType: types.FlowLogsResourceTypeVpc, TrafficType: types.TrafficTypeAll,
		LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b")})
	if len(out.FlowLogIds) != 0 || len(out.Unsuccessful) != 2 || aws.ToString(out.Unsuccessful[1].Error.Code) != "InvalidVpcID.NotFound" {
		t.Errorf("all unknown: %+v", out)
	}
}

func TestCreateErrors(t *testing.T) {
	g := newRig(t, topoFile, nil)
	role := aws.String(flowLogsRole)
	for _, tc := range []struct {
		name      string
		in        *ec2sdk.CreateFlowLogsInput
		code, msg string
	}{
		{"traffic type", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: "ANY", LogGroupName: aws.String("g"), DeliverLogsPermissionArn: role},
			"InvalidParameterValue", "Value ( ANY ) for parameter TrafficType is invalid. Valid values are ACCEPT, REJECT, ALL."},
		{"resource type", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: "Vpc",
			TrafficType: types.TrafficTypeAll, LogGroupName: aws.String("g"), DeliverLogsPermissionArn: role},
			"InvalidParameterValue", "Value ( Vpc ) for parameter ResourceType is invalid."},
		{"destination type", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: "S3", LogDestination: aws.String("arn:aws:s3:::b")},
			"InvalidParameterValue", "Value ( S3 ) for parameter LogDestinationType is invalid."},
		{"file format", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b"),
			DestinationOptions: &types.DestinationOptionsRequest{FileFormat: "csv"}},
			"InvalidParameterValue", "Value ( csv ) for parameter DestinationOptions.FileFormat is invalid."},
		{"interval", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b"),
			MaxAggregationInterval: aws.Int32(30)},
			"InvalidParameter", "Invalid Flow Log Max Aggregation Interval"},
		{"traffic type missing", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			LogGroupName: aws.String("g"), DeliverLogsPermissionArn: role},
			"MissingParameter", "The request must contain the parameter TrafficType"},
		{"no role for CloudWatch Logs", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogGroupName: aws.String("g")},
			"InvalidParameter", "DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs."},
		{"log group with s3", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b"),
			LogGroupName: aws.String("g")},
			"InvalidParameter", "LogGroupName: not allowed with LogDestinationType s3"},
		{"no destination", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3},
			"InvalidParameter", "LogDestination"},
		{"reserved prefix", s3Input("arn:aws:s3:::b/AWSLogs/", appSubnet), "InvalidParameter", "AWSLogs"},
		{"log format", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b"),
			LogFormat: aws.String("${srcaddr} ")}, "InvalidParameter", "LogFormat"},
		{"tag fields", &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{vpcID}, ResourceType: types.FlowLogsResourceTypeVpc,
			TrafficType: types.TrafficTypeAll, LogDestinationType: types.LogDestinationTypeS3, LogDestination: aws.String("arn:aws:s3:::b"),
			TagFieldSpecifications: []types.TagFieldSpecificationRequest{{ResourceType: "instance", TagKeys: []string{"Name"}}}},
			"InvalidParameter", "TagFieldSpecification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.c.CreateFlowLogs(ctx, tc.in)
			wantAPIError(t, err, 400, tc.code, tc.msg)
		})
	}
	if n := len(describeAll(t, g, nil)); n != 1 {
		t.Errorf("%d flow logs after failed requests, want the seeded one", n)
	}
	// Parameters the SDK itself requires, sent without it.
	st, body := g.raw(t, form("Action", "CreateFlowLogs", "Version", "2016-11-15", "ResourceType", "VPC", "TrafficType", "ALL"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter ResourceId")
	st, body = g.raw(t, form("Action", "CreateFlowLogs", "Version", "2016-11-15", "ResourceId.1", vpcID, "TrafficType", "ALL"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter ResourceType")
	st, body = g.raw(t, form("Action", "CreateFlowLogs", "Version", "2016-11-15", "ResourceId.1", vpcID, "ResourceType", "VPC",
		"TrafficType", "ALL", "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b", "MaxAggregationInterval", "sixty"))
	wantErrorDoc(t, st, body, 400, "InvalidParameterValue", "Value ( sixty ) for parameter MaxAggregationInterval is invalid. Expecting an integer.")
	st, body = g.raw(t, form("Action", "CreateFlowLogs", "Version", "2016-11-15", "ResourceId.1", vpcID, "ResourceType", "VPC",
		"TrafficType", "ALL", "LogDestinationType", "s3", "LogDestination", "arn:aws:s3:::b", "DestinationOptions.PerHourPartition", "yes"))
	wantErrorDoc(t, st, body, 400, "InvalidParameterValue", "Value ( yes ) for parameter DestinationOptions.PerHourPartition is invalid. Expecting a boolean: true or false.")
}

func TestDryRun(t *testing.T) {
	g := newRig(t, topoFile, nil)
	const msg = "Request would have succeeded, but DryRun flag is set."
	in := s3Input("arn:aws:s3:::b", appSubnet)
	in.DryRun = aws.Bool(true)
	_, err := g.c.CreateFlowLogs(ctx, in)
	wantAPIError(t, err, 412, "DryRunOperation", msg)
	// A dry run still checks the request.
	in.LogDestination = aws.String("arn:aws:s3:::b/AWSLogs/")
	_, err = g.c.CreateFlowLogs(ctx, in)
	wantAPIError(t, err, 400, "InvalidParameter", "AWSLogs")
	id := seededID(t, g)
	_, err = g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{DryRun: aws.Bool(true)})
	wantAPIError(t, err, 412, "DryRunOperation", msg)
	_, err = g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{DryRun: aws.Bool(true), Filter: []types.Filter{{Name: aws.String("bad"), Values: []string{"x"}}}})
	wantAPIError(t, err, 400, "InvalidParameterValue", "The filter 'bad' is invalid")
	_, err = g.c.DeleteFlowLogs(ctx, &ec2sdk.DeleteFlowLogsInput{DryRun: aws.Bool(true), FlowLogIds: []string{id}})
	wantAPIError(t, err, 412, "DryRunOperation", msg)
	if fls := describeAll(t, g, nil); len(fls) != 1 || aws.ToString(fls[0].FlowLogId) != id {
		t.Errorf("after dry runs: %d flow logs", len(fls))
	}
	_, err = g.c.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{DryRun: aws.Bool(true)})
	wantAPIError(t, err, 412, "DryRunOperation", msg)
}

func TestDelete(t *testing.T) {
	g := newRig(t, topoFile, nil)
	id := seededID(t, g)
	out, err := g.c.DeleteFlowLogs(ctx, &ec2sdk.DeleteFlowLogsInput{FlowLogIds: []string{"fl-00000000000000000", id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Unsuccessful) != 1 {
		t.Fatalf("unsuccessful %+v", out.Unsuccessful)
	}
	u := out.Unsuccessful[0]
	if aws.ToString(u.ResourceId) != "fl-00000000000000000" || aws.ToString(u.Error.Code) != "InvalidFlowLogId.NotFound" ||
		aws.ToString(u.Error.Message) != "The specified flow log does not exist." {
		t.Errorf("item %s %s %q", aws.ToString(u.ResourceId), aws.ToString(u.Error.Code), aws.ToString(u.Error.Message))
	}
	if n := len(describeAll(t, g, nil)); n != 0 {
		t.Errorf("%d flow logs after delete", n)
	}
	// Full success: an empty <unsuccessful/>, as in the API reference's
	// example response.
	out2 := create(t, g, s3Input("arn:aws:s3:::b", appSubnet))
	st, body := g.raw(t, form("Action", "DeleteFlowLogs", "Version", "2016-11-15", "FlowLogId.1", out2.FlowLogIds[0]))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DeleteFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-test</requestId><unsuccessful></unsuccessful></DeleteFlowLogsResponse>`
	if st != 200 || body != want {
		t.Errorf("raw delete: %d\n%s\nwant\n%s", st, body, want)
	}
	st, body = g.raw(t, form("Action", "DeleteFlowLogs", "Version", "2016-11-15"))
	wantErrorDoc(t, st, body, 400, "MissingParameter", "The request must contain the parameter FlowLogId")
}

func TestDescribeFilters(t *testing.T) {
	g := newRig(t, topoFile, nil)
	seeded := seededID(t, g)
	role := aws.String(flowLogsRole)
	g.clk.Advance(time.Second)
	cw := create(t, g, &ec2sdk.CreateFlowLogsInput{ResourceIds: []string{webENI}, ResourceType: types.FlowLogsResourceTypeNetworkInterface,
		TrafficType: types.TrafficTypeReject, LogGroupName: aws.String("rejects"), DeliverLogsPermissionArn: role,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcFlowLog, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sec")}}}}}).FlowLogIds[0]
	g.clk.Advance(time.Second)
	sub := create(t, g, s3Input("arn:aws:s3:::b", appSubnet)).FlowLogIds[0]
	for _, tc := range []struct {
		name   string
		values []string
		want   []string
	}{
		{"deliver-log-status", []string{"SUCCESS"}, []string{seeded, cw, sub}},
		{"deliver-log-status", []string{"FAILED"}, nil},
		{"log-destination-type", []string{"s3"}, []string{seeded, sub}},
		{"log-destination-type", []string{"cloud-watch-logs"}, []string{cw}},
		{"flow-log-id", []string{sub, cw}, []string{cw, sub}},
		{"log-group-name", []string{"rejects"}, []string{cw}},
		{"resource-id", []string{vpcID, appSubnet}, []string{seeded, sub}},
		{"traffic-type", []string{"REJECT"}, []string{cw}},
		{"traffic-type", []string{"ALL", "ACCEPT"}, []string{seeded, sub}},
		{"tag:team", []string{"net"}, []string{seeded}},
		{"tag:team", []string{"net", "sec"}, []string{seeded, cw}},
		{"tag:team", []string{"ops"}, nil},
		{"tag-key", []string{"team"}, []string{seeded, cw}},
		{"tag-key", []string{"env"}, nil},
	} {
		fls := describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{Filter: []types.Filter{{Name: aws.String(tc.name), Values: tc.values}}})
		var got []string
		for _, fl := range fls {
			got = append(got, aws.ToString(fl.FlowLogId))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s=%q: %q, want %q", tc.name, tc.values, got, tc.want)
		}
	}
	// Two filters are ANDed; ids and filters together.
	fls := describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{Filter: []types.Filter{
		{Name: aws.String("log-destination-type"), Values: []string{"s3"}},
		{Name: aws.String("tag-key"), Values: []string{"team"}}}})
	if len(fls) != 1 || aws.ToString(fls[0].FlowLogId) != seeded {
		t.Errorf("two filters: %d", len(fls))
	}
	fls = describeAll(t, g, &ec2sdk.DescribeFlowLogsInput{FlowLogIds: []string{sub, "fl-00000000000000000"},
		Filter: []types.Filter{{Name: aws.String("traffic-type"), Values: []string{"ALL"}}}})
	if len(fls) != 1 || aws.ToString(fls[0].FlowLogId) != sub {
		t.Errorf("ids and filter: %d", len(fls))
	}
	_, err := g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{Filter: []types.Filter{{Name: aws.String("resource-type"), Values: []string{"VPC"}}}})
	wantAPIError(t, err, 400, "InvalidParameterValue", "The filter 'resource-type' is invalid")
}

func TestDescribePagination(t *testing.T) {
	g := newRig(t, topoFile, nil)
	all := []string{seededID(t, g)}
	for _, eni := range []string{webENI, bastENI, natENI, appENI, dbENI} {
		g.clk.Advance(time.Millisecond)
		in := s3Input("arn:aws:s3:::b", eni)
		in.ResourceType = types.FlowLogsResourceTypeNetworkInterface
		all = append(all, create(t, g, in).FlowLogIds...)
	}
	var got []string
	var pages int
	p := ec2sdk.NewDescribeFlowLogsPaginator(g.c, &ec2sdk.DescribeFlowLogsInput{MaxResults: aws.Int32(4)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, fl := range out.FlowLogs {
			got = append(got, aws.ToString(fl.FlowLogId))
		}
	}
	if pages != 2 || !slices.Equal(got, all) {
		t.Errorf("%d pages: %q, want 2 pages: %q", pages, got, all)
	}
	// Deleting an item of the first page and creating one between pages:
	// the second page is what follows the first page's last item.
	out, err := g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{MaxResults: aws.Int32(2)})
	if err != nil || len(out.FlowLogs) != 2 || out.NextToken == nil {
		t.Fatalf("first page: %v %+v", err, out)
	}
	if _, err := g.c.DeleteFlowLogs(ctx, &ec2sdk.DeleteFlowLogsInput{FlowLogIds: []string{all[0], all[3]}}); err != nil {
		t.Fatal(err)
	}
	g.clk.Advance(time.Second)
	late := create(t, g, s3Input("arn:aws:s3:::late", dbSubnet)).FlowLogIds[0]
	out, err = g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{MaxResults: aws.Int32(10), NextToken: out.NextToken})
	got = nil
	for _, fl := range out.FlowLogs {
		got = append(got, aws.ToString(fl.FlowLogId))
	}
	if want := []string{all[2], all[4], all[5], late}; err != nil || !slices.Equal(got, want) || out.NextToken != nil {
		t.Errorf("second page: %v %q, want %q", err, got, want)
	}
	for _, tok := range []string{"garbage", "djF8dnBjc3x2cGMtMQ"} { // the second is a DescribeVpcs token
		_, err = g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{NextToken: aws.String(tok)})
		wantAPIError(t, err, 400, "InvalidParameterValue", "NextToken")
	}
	for _, n := range []int32{0, 1001} {
		_, err = g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{MaxResults: aws.Int32(n)})
		wantAPIError(t, err, 400, "InvalidParameterValue", "for parameter MaxResults is invalid. Expecting a value between 1 and 1000.")
	}
}

// failing marks one flow log FAILED, as the region does when delivery
// fails, to see how DescribeFlowLogs reports it.
type failing struct {
	ec2.Backend
	id string
}

func (f failing) DescribeFlowLogs(flt flowlog.Filter) ([]flowlog.Entry, error) {
	es, err := f.Backend.DescribeFlowLogs(flt)
	for i := range es {
		if es[i].FlowLog.ID == f.id {
			es[i].DeliverLogsStatus, es[i].DeliverLogsErrorMessage = flowlog.DeliveryFailed, flowlog.DeliveryAccessError
		}
	}
	return es, err
}

func TestDescribeDeliveryFailure(t *testing.T) {
	var fail *failing
	g := newRig(t, topoFile, func(b ec2.Backend) ec2.Backend {
		fail = &failing{Backend: b}
		return fail
	})
	fail.id = seededID(t, g)
	fls := describeAll(t, g, nil)
	if len(fls) != 1 || aws.ToString(fls[0].DeliverLogsStatus) != "FAILED" || aws.ToString(fls[0].DeliverLogsErrorMessage) != "Access error" {
		t.Fatalf("FAILED: %+v", fls)
	}
	// On SUCCESS the element is absent, not empty.
	_, body := g.raw(t, form("Action", "DescribeFlowLogs", "Version", "2016-11-15"))
	if !strings.Contains(body, "<deliverLogsErrorMessage>Access error</deliverLogsErrorMessage><deliverLogsStatus>FAILED</deliverLogsStatus>") {
		t.Errorf("raw: %s", body)
	}
	fail.id = ""
	_, body = g.raw(t, form("Action", "DescribeFlowLogs", "Version", "2016-11-15"))
	if strings.Contains(body, "deliverLogsErrorMessage") {
		t.Errorf("raw on SUCCESS: %s", body)
	}
}

// TestDescribeRaw checks one whole document against the API reference's
// FlowLog shape: element names, order, the millisecond creationTime.
func TestDescribeRaw(t *testing.T) {
	g := newRig(t, topoFile, nil)
	id := seededID(t, g)
	st, body := g.raw(t, form("Action", "DescribeFlowLogs", "Version", "2016-11-15", "FlowLogId.1", id))
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<DescribeFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-test</requestId>` +
		`<flowLogSet><item>` +
		`<creationTime>2024-05-01T12:00:00.123Z</creationTime>` +
		`<deliverLogsStatus>SUCCESS</deliverLogsStatus>` +
		`<flowLogId>` + id + `</flowLogId>` +
		`<flowLogStatus>ACTIVE</flowLogStatus>` +
		`<resourceId>vpc-0f1e2d3c4b5a69788</resourceId>` +
		`<trafficType>ALL</trafficType>` +
		`<logDestinationType>s3</logDestinationType>` +
		`<logDestination>arn:aws:s3:::demo-flow-bucket</logDestination>` +
		`<logFormat>` + defaultFormat + `</logFormat>` +
		`<tagSet><item><key>team</key><value>net</value></item></tagSet>` +
		`<maxAggregationInterval>60</maxAggregationInterval>` +
		`<destinationOptions><fileFormat>plain-text</fileFormat><hiveCompatiblePartitions>false</hiveCompatiblePartitions><perHourPartition>false</perHourPartition></destinationOptions>` +
		`</item></flowLogSet></DescribeFlowLogsResponse>`
	if st != 200 || body != want {
		t.Errorf("got %d\n%s\nwant\n%s", st, body, want)
	}
}
