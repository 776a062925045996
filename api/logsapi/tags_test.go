package logsapi_test

import (
	"fmt"
	"reflect"
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
