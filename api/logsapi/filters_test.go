package logsapi_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// sshRejects is the VPC user guide's metric filter for rejected SSH
// traffic, counting 1 per record, 0 in minutes without one.
func sshRejects(group, name string) *cwl.PutMetricFilterInput {
	return &cwl.PutMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String(name),
		FilterPattern: aws.String(`[version, account, eni, source, destination, srcport, destport="22", protocol="6", packets, bytes, windowstart, windowend, action="REJECT", flowlogstatus]`),
		MetricTransformations: []types.MetricTransformation{{MetricName: aws.String("SSHRejects"), MetricNamespace: aws.String("VPCFlowLogs"),
			MetricValue: aws.String("1"), DefaultValue: aws.Float64(0)}}}
}

// apiErrSuffix checks the code and the end of the message, for messages
// whose start renders a value in the service's own way.
func apiErrSuffix(t *testing.T, err error, code, suffix string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || !strings.HasSuffix(ae.ErrorMessage(), suffix) {
		t.Fatalf("want %s ...%q, got %v", code, suffix, err)
	}
}

func TestMetricFilters(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "/vpc/flows", "eni-a")
	if _, err := g.c.PutMetricFilter(ctx, sshRejects("/vpc/flows", "ssh-rejects")); err != nil {
		t.Fatal(err)
	}
	out, err := g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("/vpc/flows")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.MetricFilters) != 1 || out.NextToken != nil {
		t.Fatalf("%+v", out)
	}
	f := out.MetricFilters[0]
	want := sshRejects("/vpc/flows", "ssh-rejects")
	if aws.ToString(f.FilterName) != "ssh-rejects" || aws.ToString(f.LogGroupName) != "/vpc/flows" ||
		aws.ToString(f.FilterPattern) != aws.ToString(want.FilterPattern) || aws.ToInt64(f.CreationTime) != t0.UnixMilli() ||
		len(f.MetricTransformations) != 1 {
		t.Fatalf("%+v", f)
	}
	mt := f.MetricTransformations[0]
	if aws.ToString(mt.MetricName) != "SSHRejects" || aws.ToString(mt.MetricNamespace) != "VPCFlowLogs" ||
		aws.ToString(mt.MetricValue) != "1" || mt.DefaultValue == nil || *mt.DefaultValue != 0 {
		t.Fatalf("%+v", mt)
	}
	groups, err := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || aws.ToInt32(groups.LogGroups[0].MetricFilterCount) != 1 {
		t.Fatalf("metricFilterCount: %v %v", groups, err)
	}

	// Events put through the API run the filter: two rejected SSH
	// records, one accepted.
	g.put(t, "/vpc/flows", "eni-a", events(
		ms(-3*time.Minute), flow("eni-a", "203.0.113.12", "10.0.0.5", 49152, 22, 6, "REJECT", ms(-3*time.Minute)),
		ms(-3*time.Minute), flow("eni-a", "10.0.0.5", "10.0.1.7", 40000, 443, 6, "ACCEPT", ms(-3*time.Minute)),
		ms(-2*time.Minute), flow("eni-a", "198.51.100.7", "10.0.0.5", 51000, 22, 6, "REJECT", ms(-2*time.Minute))))
	sum := 0.0
	for _, m := range g.svc.MetricStats("VPCFlowLogs", "SSHRejects", nil) {
		sum += m.Sum
	}
	if sum != 2 {
		t.Fatalf("SSHRejects sum %v, want 2", sum)
	}

	// Paging, sorted by name.
	for _, n := range []string{"b", "a"} {
		if _, err := g.c.PutMetricFilter(ctx, sshRejects("/vpc/flows", n)); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	in := &cwl.DescribeMetricFiltersInput{Limit: aws.Int32(2)}
	for pages := 0; ; pages++ {
		out, err := g.c.DescribeMetricFilters(ctx, in)
		if err != nil || pages > 2 {
			t.Fatal(err, pages)
		}
		for _, f := range out.MetricFilters {
			names = append(names, aws.ToString(f.FilterName))
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if !reflect.DeepEqual(names, []string{"a", "b", "ssh-rejects"}) {
		t.Fatal(names)
	}
	// A token from another listing is refused.
	o1, err := g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{FilterNamePrefix: aws.String("s"), LogGroupName: aws.String("/vpc/flows"), NextToken: o1.NextToken})
	apiErr(t, err, "InvalidParameterException", "The specified nextToken is invalid.")
	out, err = g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{LogGroupName: aws.String("/vpc/flows"), FilterNamePrefix: aws.String("ssh")})
	if err != nil || len(out.MetricFilters) != 1 {
		t.Fatalf("%v %v", out, err)
	}
	out, err = g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{MetricName: aws.String("SSHRejects"), MetricNamespace: aws.String("VPCFlowLogs")})
	if err != nil || len(out.MetricFilters) != 3 {
		t.Fatalf("%v %v", out, err)
	}
	_, err = g.c.DescribeMetricFilters(ctx, &cwl.DescribeMetricFiltersInput{MetricName: aws.String("SSHRejects")})
	apiCode(t, err, "InvalidParameterException")

	if _, err := g.c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("/vpc/flows"), FilterName: aws.String("a")}); err != nil {
		t.Fatal(err)
	}
	_, err = g.c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("/vpc/flows"), FilterName: aws.String("a")})
	apiCode(t, err, "ResourceNotFoundException")
	_, err = g.c.DeleteMetricFilter(ctx, &cwl.DeleteMetricFilterInput{LogGroupName: aws.String("nope"), FilterName: aws.String("a")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
}

func TestPutMetricFilterErrors(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "g")
	_, err := g.c.PutMetricFilter(ctx, sshRejects("nope", "f"))
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	two := sshRejects("g", "f")
	two.MetricTransformations = append(two.MetricTransformations, two.MetricTransformations[0])
	_, err = g.c.PutMetricFilter(ctx, two)
	apiErrSuffix(t, err, "InvalidParameterException", "at 'metricTransformations' failed to satisfy constraint: Member must have length less than or equal to 1")
	bad := sshRejects("g", "f")
	bad.FilterPattern = aws.String(`{ $.a = `)
	_, err = g.c.PutMetricFilter(ctx, bad)
	apiCode(t, err, "InvalidParameterException")
	unit := sshRejects("g", "f")
	unit.MetricTransformations[0].Unit = "Parsecs"
	_, err = g.c.PutMetricFilter(ctx, unit)
	apiErrSuffix(t, err, "InvalidParameterException", "at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set: [Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None]")
}

func TestTestMetricFilter(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	// A term matches anywhere in the message; values are extracted only
	// by space-delimited patterns.
	out, err := g.c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String("ERROR"),
		LogEventMessages: []string{"[ERROR] 400 BAD REQUEST", "[ERROR] 400 BAD REQUEST", "[INFO] 200 OK"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Matches) != 2 || out.Matches[0].EventNumber != 1 || out.Matches[1].EventNumber != 2 ||
		aws.ToString(out.Matches[0].EventMessage) != "[ERROR] 400 BAD REQUEST" || len(out.Matches[0].ExtractedValues) != 0 {
		t.Fatalf("%+v", out.Matches)
	}
	// The user guide's space-delimited example over an Apache log line:
	// brackets and quotes enclose one field.
	line := `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534`
	out, err = g.c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String(`[ip, user, username, timestamp, request, status_code, bytes > 1000]`),
		LogEventMessages: []string{line, strings.Replace(line, "1534", "999", 1)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Matches) != 1 {
		t.Fatalf("%+v", out.Matches)
	}
	wantVals := map[string]string{"$ip": "127.0.0.1", "$user": "-", "$username": "frank", "$timestamp": "10/Oct/2000:13:25:15 -0700",
		"$request": "GET /apache_pb.gif HTTP/1.0", "$status_code": "200", "$bytes": "1534"}
	if !reflect.DeepEqual(out.Matches[0].ExtractedValues, wantVals) {
		t.Fatalf("%v", out.Matches[0].ExtractedValues)
	}
	// No match is an empty list, not an absent one.
	r := g.post(t, "Logs_20140328.TestMetricFilter", `{"filterPattern":"WARN","logEventMessages":["a","b"]}`)
	if r.status != 200 || r.text != `{"matches":[]}` {
		t.Fatalf("%d %s", r.status, r.text)
	}
	// The extracted values come in the order of the message's fields.
	r = g.post(t, "Logs_20140328.TestMetricFilter", `{"filterPattern":"[a, b, c]","logEventMessages":["1 2 3"]}`)
	if r.text != `{"matches":[{"eventNumber":1,"eventMessage":"1 2 3","extractedValues":{"$a":"1","$b":"2","$c":"3"}}]}` {
		t.Fatal(r.text)
	}

	_, err = g.c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String(`{ $.a = `), LogEventMessages: []string{"x"}})
	apiCode(t, err, "InvalidParameterException")
	_, err = g.c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String("x"), LogEventMessages: strings.Split(strings.Repeat("m,", 50)+"m", ",")})
	apiErrSuffix(t, err, "InvalidParameterException", "at 'logEventMessages' failed to satisfy constraint: Member must have length less than or equal to 50")
	_, err = g.c.TestMetricFilter(ctx, &cwl.TestMetricFilterInput{FilterPattern: aws.String("x"), LogEventMessages: []string{}})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '[]' at 'logEventMessages' failed to satisfy constraint: Member must have length greater than or equal to 1")
}
