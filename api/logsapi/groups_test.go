package logsapi_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func groupNames(gs []types.LogGroup) []string {
	out := []string{}
	for _, g := range gs {
		out = append(out, aws.ToString(g.LogGroupName))
	}
	return out
}

func TestCreateDescribeDeleteLogGroup(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	if _, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/vpc/flows")}); err != nil {
		t.Fatal(err)
	}
	out, err := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.LogGroups) != 1 || out.NextToken != nil {
		t.Fatalf("groups %+v, token %v", out.LogGroups, out.NextToken)
	}
	lg := out.LogGroups[0]
	// The API reference's LogGroup: arn ends in :*, logGroupArn does not;
	// a new group is STANDARD, never expires (no retentionInDays) and
	// stores nothing.
	if aws.ToString(lg.LogGroupName) != "/vpc/flows" ||
		aws.ToString(lg.Arn) != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flows:*" ||
		aws.ToString(lg.LogGroupArn) != "arn:aws:logs:us-east-1:123456789012:log-group:/vpc/flows" ||
		aws.ToInt64(lg.CreationTime) != t0.UnixMilli() || lg.LogGroupClass != types.LogGroupClassStandard ||
		lg.RetentionInDays != nil || aws.ToInt32(lg.MetricFilterCount) != 0 || aws.ToInt64(lg.StoredBytes) != 0 {
		t.Fatalf("log group %+v", lg)
	}

	_, err = g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("/vpc/flows")})
	apiErr(t, err, "ResourceAlreadyExistsException", "The specified log group already exists")
	_, err = g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
	apiErr(t, err, "InvalidParameterException", `1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
	_, err = g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g"), LogGroupClass: "COLD"})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value 'COLD' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")

	if _, err := g.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/vpc/flows")}); err != nil {
		t.Fatal(err)
	}
	_, err = g.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("/vpc/flows")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	out, err = g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(out.LogGroups) != 0 {
		t.Fatalf("after delete: %v %v", out, err)
	}
}

func TestCreateLogGroupOptions(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	_, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("archive"),
		LogGroupClass: types.LogGroupClassInfrequentAccess, KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/abcd"),
		DeletionProtectionEnabled: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	lg := out.LogGroups[0]
	if lg.LogGroupClass != types.LogGroupClassInfrequentAccess || aws.ToString(lg.KmsKeyId) != "arn:aws:kms:us-east-1:123456789012:key/abcd" ||
		!aws.ToBool(lg.DeletionProtectionEnabled) {
		t.Fatalf("%+v", lg)
	}
	// A protected group is not deleted: a ValidationException.
	_, err = g.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("archive")})
	apiCode(t, err, "ValidationException")
	// The class filters the listing.
	g.mkGroup(t, "std")
	out, err = g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupClass: types.LogGroupClassStandard})
	if err != nil || !reflect.DeepEqual(groupNames(out.LogGroups), []string{"std"}) {
		t.Fatalf("STANDARD groups: %v %v", groupNames(out.LogGroups), err)
	}
}

func TestDescribeLogGroupsFilterAndPages(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	for _, n := range []string{"/vpc/b", "/vpc/a", "/app/web", "/vpc/c", "other-vpc"} {
		g.mkGroup(t, n)
	}
	list := func(in *cwl.DescribeLogGroupsInput) []string {
		t.Helper()
		out, err := g.c.DescribeLogGroups(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return groupNames(out.LogGroups)
	}
	// Sorted by name; the prefix anchors at the start, the pattern matches
	// anywhere, case-sensitively.
	if got := list(&cwl.DescribeLogGroupsInput{}); !reflect.DeepEqual(got, []string{"/app/web", "/vpc/a", "/vpc/b", "/vpc/c", "other-vpc"}) {
		t.Fatal(got)
	}
	if got := list(&cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/vpc/")}); !reflect.DeepEqual(got, []string{"/vpc/a", "/vpc/b", "/vpc/c"}) {
		t.Fatal(got)
	}
	if got := list(&cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("vpc")}); !reflect.DeepEqual(got, []string{"/vpc/a", "/vpc/b", "/vpc/c", "other-vpc"}) {
		t.Fatal(got)
	}
	if got := list(&cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("VPC")}); len(got) != 0 {
		t.Fatal(got)
	}
	// Identifiers: names or ARNs; unknown ones are skipped.
	got := list(&cwl.DescribeLogGroupsInput{LogGroupIdentifiers: []string{"arn:aws:logs:us-east-1:123456789012:log-group:/vpc/c", "/app/web", "nope"}})
	if !reflect.DeepEqual(got, []string{"/app/web", "/vpc/c"}) {
		t.Fatal(got)
	}

	// Pages of two, following nextToken until it is absent.
	var all []string
	in := &cwl.DescribeLogGroupsInput{Limit: aws.Int32(2)}
	for pages := 0; ; pages++ {
		out, err := g.c.DescribeLogGroups(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.LogGroups) > 2 || pages > 3 {
			t.Fatalf("page %d: %v", pages, groupNames(out.LogGroups))
		}
		all = append(all, groupNames(out.LogGroups)...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !reflect.DeepEqual(all, []string{"/app/web", "/vpc/a", "/vpc/b", "/vpc/c", "other-vpc"}) {
		t.Fatal(all)
	}
	// The SDK's paginator walks the same pages.
	p := cwl.NewDescribeLogGroupsPaginator(g.c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(3)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.LogGroups)
	}
	if n != 5 {
		t.Fatalf("paginator saw %d groups", n)
	}

	_, err := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/vpc"), LogGroupNamePattern: aws.String("a")})
	apiErr(t, err, "InvalidParameterException", "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	_, err = g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(51)})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")
	_, err = g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{NextToken: aws.String("not-a-token")})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
}

func TestLogStreams(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app", "web-2", "web-1", "db")
	_, err := g.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("db")})
	apiErr(t, err, "ResourceAlreadyExistsException", "The specified log stream already exists")
	_, err = g.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("db")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("a:b")})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*")

	// db gets the oldest event, web-1 the newest; web-2 none (time 0).
	for _, p := range []struct {
		stream string
		at     time.Duration
	}{{"db", -time.Hour}, {"web-1", -time.Minute}} {
		if _, err := g.c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String(p.stream),
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(ms(p.at)), Message: aws.String("hello")}}}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(in *cwl.DescribeLogStreamsInput) []string {
		t.Helper()
		out, err := g.c.DescribeLogStreams(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		s := []string{}
		for _, x := range out.LogStreams {
			s = append(s, aws.ToString(x.LogStreamName))
		}
		return s
	}
	if got := names(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app")}); !reflect.DeepEqual(got, []string{"db", "web-1", "web-2"}) {
		t.Fatal(got)
	}
	if got := names(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true)}); !reflect.DeepEqual(got, []string{"web-1", "db", "web-2"}) {
		t.Fatal(got)
	}
	if got := names(&cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:app"), LogStreamNamePrefix: aws.String("web")}); !reflect.DeepEqual(got, []string{"web-1", "web-2"}) {
		t.Fatal(got)
	}
	// The model's pattern for logGroupIdentifier has no '*': the arn
	// member's form (with ":*") is refused, logGroupArn's is the one.
	_, err = g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:app:*")})
	apiErr(t, err, "InvalidParameterException", `1 validation error detected: Value 'arn:aws:logs:us-east-1:123456789012:log-group:app:*' at 'logGroupIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w#+=/:,.@-]*`)
	out, err := g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), LogStreamNamePrefix: aws.String("db")})
	if err != nil {
		t.Fatal(err)
	}
	db := out.LogStreams[0]
	if aws.ToString(db.Arn) != "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:db" ||
		aws.ToInt64(db.CreationTime) != t0.UnixMilli() || aws.ToInt64(db.FirstEventTimestamp) != ms(-time.Hour) ||
		aws.ToInt64(db.LastEventTimestamp) != ms(-time.Hour) || aws.ToInt64(db.LastIngestionTime) != t0.UnixMilli() {
		t.Fatalf("%+v", db)
	}
	// Paging by one.
	o1, err := g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), Limit: aws.Int32(1)})
	if err != nil || len(o1.LogStreams) != 1 || o1.NextToken == nil {
		t.Fatalf("%+v %v", o1, err)
	}
	o2, err := g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), Limit: aws.Int32(1), NextToken: o1.NextToken})
	if err != nil || aws.ToString(o2.LogStreams[0].LogStreamName) != "web-1" {
		t.Fatalf("%+v %v", o2, err)
	}

	_, err = g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("w")})
	apiErr(t, err, "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")
	_, err = g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), LogGroupIdentifier: aws.String("app")})
	apiErr(t, err, "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	_, err = g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	// An ARN of another account names no group of this one.
	_, err = g.c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String("arn:aws:logs:us-east-1:111122223333:log-group:app")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")

	if _, err := g.c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("db")}); err != nil {
		t.Fatal(err)
	}
	_, err = g.c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("db")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log stream does not exist.")
	if got := names(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app")}); !reflect.DeepEqual(got, []string{"web-1", "web-2"}) {
		t.Fatal(got)
	}
}

func TestRetentionPolicy(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "g")
	if _, err := g.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(3653)}); err != nil {
		t.Fatal(err)
	}
	retention := func() *int32 {
		t.Helper()
		out, err := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.LogGroups[0].RetentionInDays
	}
	if r := retention(); aws.ToInt32(r) != 3653 {
		t.Fatalf("retention %v", r)
	}
	// Only the values of the API reference are accepted.
	_, err := g.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("g"), RetentionInDays: aws.Int32(2)})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]")
	_, err = g.c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("nope"), RetentionInDays: aws.Int32(1)})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	if _, err := g.c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("g")}); err != nil {
		t.Fatal(err)
	}
	if r := retention(); r != nil {
		t.Fatalf("retention %v after DeleteRetentionPolicy", *r)
	}
	_, err = g.c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}
