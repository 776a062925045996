package logsapi_test

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const appArn = "arn:aws:logs:us-east-1:123456789012:log-group:app"

func TestTags(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	if _, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"team": "DevOps"}}); err != nil {
		t.Fatal(err)
	}
	list := func() map[string]string {
		t.Helper()
		out, err := g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(appArn)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Tags
	}
	if got := list(); !reflect.DeepEqual(got, map[string]string{"team": "DevOps"}) {
		t.Fatal(got)
	}
	// The API reference's example: a new key is added, a known one
	// replaced.
	if _, err := g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: map[string]string{"stack": "Prod", "team": "Ops"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); !reflect.DeepEqual(got, map[string]string{"stack": "Prod", "team": "Ops"}) {
		t.Fatal(got)
	}
	if _, err := g.c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(appArn), TagKeys: []string{"team", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if got := list(); !reflect.DeepEqual(got, map[string]string{"stack": "Prod"}) {
		t.Fatal(got)
	}

	// At most 50 tags: the 51st is refused and nothing changes.
	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err := g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: many})
	var tm *types.TooManyTagsException
	if !errorsAs(err, &tm) || aws.ToString(tm.ResourceName) != appArn || tm.ErrorMessage() != "A resource can have no more than 50 tags." {
		t.Fatalf("want TooManyTagsException, got %v", err)
	}
	if got := list(); len(got) != 1 {
		t.Fatal(got)
	}

	// The arn member of DescribeLogGroups ends in ":*"; tagging wants
	// logGroupArn.
	_, err = g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(appArn + ":*")})
	apiCode(t, err, "InvalidParameterException") // '*' is outside the model's pattern
	_, err = g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
	apiErr(t, err, "ValidationException", "Invalid resourceArn")
	_, err = g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:nope"), Tags: map[string]string{"a": "b"}})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: map[string]string{"bad*key": "v"}})
	apiErr(t, err, "InvalidParameterException", `1 validation error detected: Value '{bad*key=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$]`)

	// A group deleted and created again starts without tags.
	if _, err := g.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(appArn)})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	g.mkGroup(t, "app")
	if got := list(); len(got) != 0 {
		t.Fatal(got)
	}
	r := g.post(t, "Logs_20140328.ListTagsForResource", `{"resourceArn":"`+appArn+`"}`)
	if r.text != `{"tags":{}}` {
		t.Fatal(r.text)
	}
}

// TestTagsSurviveRestart: tags given at creation, by TagResource and by
// TagLogGroup are kept with the group: after the data dir is closed and
// opened again both list actions return them, DescribeLogGroups does not
// (its LogGroup shape has no tags member), and a deleted group's tags do
// not come back with a new group of the same name, before or after a
// restart.
func TestTagsSurviveRestart(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	if _, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"team": "DevOps"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: map[string]string{"stack": "Prod"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"cost-center": "4711"}}); err != nil {
		t.Fatal(err)
	}
	g.mkGroup(t, "other")
	want := map[string]string{"team": "DevOps", "stack": "Prod", "cost-center": "4711"}
	check := func(group string, want map[string]string) {
		t.Helper()
		byArn, err := g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:" + group)})
		if err != nil {
			t.Fatal(err)
		}
		byName, err := g.c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String(group)})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(byArn.Tags, want) || !maps.Equal(byName.Tags, want) {
			t.Fatalf("%s: ListTagsForResource %v, ListTagsLogGroup %v, want %v", group, byArn.Tags, byName.Tags, want)
		}
	}
	check("app", want)
	g.restart(t)
	check("app", want)
	check("other", nil)
	if r := g.post(t, "Logs_20140328.DescribeLogGroups", `{}`); strings.Contains(r.text, "tags") || strings.Contains(r.text, "DevOps") {
		t.Fatalf("DescribeLogGroups lists tags: %s", r.text)
	}

	if _, err := g.c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	g.mkGroup(t, "app")
	check("app", nil)
	g.restart(t)
	check("app", nil)
}

// TestLegacyTagActions: TagLogGroup, UntagLogGroup and ListTagsLogGroup
// with the shapes and errors of their API reference pages: tags is a map
// for TagLogGroup and a list of keys for UntagLogGroup; an unknown group is
// ResourceNotFoundException; TagLogGroup lists no TooManyTagsException, so
// a 51st tag is an InvalidParameterException.
func TestLegacyTagActions(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "/app/web")
	// The API reference's examples: tag, list, untag.
	if _, err := g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: map[string]string{"Team": "Green", "Env": "Prod"}}); err != nil {
		t.Fatal(err)
	}
	r := g.post(t, "Logs_20140328.ListTagsLogGroup", `{"logGroupName":"/app/web"}`)
	if r.status != 200 || r.text != `{"tags":{"Env":"Prod","Team":"Green"}}` {
		t.Fatalf("ListTagsLogGroup: %d %s", r.status, r.text)
	}
	if _, err := g.c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: []string{"Env", "absent"}}); err != nil {
		t.Fatal(err)
	}
	out, err := g.c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("/app/web")})
	if err != nil || !reflect.DeepEqual(out.Tags, map[string]string{"Team": "Green"}) {
		t.Fatalf("%v %v", out, err)
	}
	// TagResource sees what TagLogGroup did, and the other way round.
	byArn, err := g.c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/app/web")})
	if err != nil || !reflect.DeepEqual(byArn.Tags, map[string]string{"Team": "Green"}) {
		t.Fatalf("%v %v", byArn, err)
	}

	many := map[string]string{}
	for i := 0; i < 50; i++ {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	_, err = g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: many})
	apiErr(t, err, "InvalidParameterException", "A resource can have no more than 50 tags.")
	_, err = g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/app/none"), Tags: map[string]string{"a": "b"}})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("/app/none"), Tags: []string{"a"}})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.ListTagsLogGroup(ctx, &cwl.ListTagsLogGroupInput{LogGroupName: aws.String("/app/none")})
	apiErr(t, err, "ResourceNotFoundException", "The specified log group does not exist.")
	_, err = g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("/app/web"), Tags: map[string]string{"k": strings.Repeat("v", 257)}})
	apiErr(t, err, "InvalidParameterException", "1 validation error detected: Value '{k="+strings.Repeat("v", 257)+"}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256]")

	// What the SDK would not send: the model's shape rules.
	for _, c := range []struct{ target, body, msg string }{
		{"TagLogGroup", `{"logGroupName":"/app/web"}`, "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"TagLogGroup", `{"logGroupName":"/app/web","tags":{}}`, "1 validation error detected: Value '{}' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"UntagLogGroup", `{"logGroupName":"/app/web","tags":[]}`, "1 validation error detected: Value '[]' at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"UntagLogGroup", `{"logGroupName":"/app/web","tags":["a*b"]}`, `1 validation error detected: Value '[a*b]' at 'tags' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$]`},
		{"ListTagsLogGroup", `{}`, "1 validation error detected: Value null at 'logGroupName' failed to satisfy constraint: Member must not be null"},
		{"ListTagsLogGroup", `{"logGroupName":"bad name"}`, "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"},
	} {
		g.post(t, "Logs_20140328."+c.target, c.body).wantError(t, 400, "InvalidParameterException", c.msg)
	}
}

// TestReservedTagPrefix: keys beginning with "aws:", in any case, are
// AWS's (Billing user guide, user-defined tag restrictions: "The reserved
// prefix is aws:"): none can be set, at creation or later, nor removed.
// The message is vpcflow's.
func TestReservedTagPrefix(t *testing.T) {
	t.Parallel()
	g := newRig(t, rigOpts{})
	g.mkGroup(t, "app")
	const msg = "Tag keys beginning with 'aws:' are reserved for AWS use."
	_, err := g.c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("new"), Tags: map[string]string{"aws:cloudformation:stack-name": "s"}})
	apiErr(t, err, "InvalidParameterException", msg)
	_, err = g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: map[string]string{"AWS:Owner": "me"}})
	apiErr(t, err, "InvalidParameterException", msg)
	_, err = g.c.TagLogGroup(ctx, &cwl.TagLogGroupInput{LogGroupName: aws.String("app"), Tags: map[string]string{"Aws:x": "y"}})
	apiErr(t, err, "InvalidParameterException", msg)
	_, err = g.c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(appArn), TagKeys: []string{"aws:createdBy"}})
	apiErr(t, err, "InvalidParameterException", msg)
	_, err = g.c.UntagLogGroup(ctx, &cwl.UntagLogGroupInput{LogGroupName: aws.String("app"), Tags: []string{"aws:createdBy"}})
	apiErr(t, err, "InvalidParameterException", msg)
	// A value may begin with it, and a key may contain it further on.
	if _, err := g.c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(appArn), Tags: map[string]string{"source": "aws:cdk", "x-aws:y": "z"}}); err != nil {
		t.Fatal(err)
	}
	if out, _ := g.c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("new")}); len(out.LogGroups) != 0 {
		t.Fatalf("a refused CreateLogGroup created the group: %+v", out.LogGroups)
	}
}
