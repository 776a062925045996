package iam

import (
	"fmt"
	"testing"
)

const (
	flowLogs = "vpc-flow-logs.amazonaws.com"
	group    = "arn:aws:logs:us-east-1:123456789012:log-group:flowlogs"
	stream   = "arn:aws:logs:us-east-1:123456789012:log-group:flowlogs:log-stream:eni-0123456789abcdef0-all"
)

// roleWith creates a role with the given trust policy (the VPC guide's when
// "") and inline policies, and returns its ARN.
func roleWith(t *testing.T, s *Store, name, trust string, inline ...string) string {
	t.Helper()
	r := mustCreate(t, s, CreateRoleInput{RoleName: name, AssumeRolePolicyDocument: trust})
	for i, p := range inline {
		if err := s.PutRolePolicy(name, fmt.Sprint("p", i), p); err != nil {
			t.Fatalf("PutRolePolicy %d: %v", i, err)
		}
	}
	return r.Arn
}

// The exercise of AWS's VPC User Guide page "IAM role for publishing flow
// logs to CloudWatch Logs": the page's trust policy lets the flow logs
// service assume the role, and its permissions policy allows exactly the
// five CloudWatch Logs actions it lists, on any resource.
func TestFlowLogRoleOfTheVPCGuide(t *testing.T) {
	s, _ := openTest(t)
	arn := roleWith(t, s, "flowlogsRole", flowLogsTrust, flowLogsPermissions)

	if !s.CanAssume(arn, flowLogs) {
		t.Fatal("the flow logs service cannot assume the guide's role")
	}
	for _, other := range []string{"ec2.amazonaws.com", "delivery.logs.amazonaws.com", "vpc-flow-logs.amazonaws.com.cn", ""} {
		if s.CanAssume(arn, other) {
			t.Errorf("%q can assume the role", other)
		}
	}
	for _, action := range []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"} {
		for _, res := range []string{group, stream, "arn:aws:logs:eu-west-1:111122223333:log-group:other:*", "*"} {
			if !s.Allowed(arn, action, res) {
				t.Errorf("%s on %s: denied", action, res)
			}
		}
	}
	// Action names are not case-sensitive.
	if !s.Allowed(arn, "LOGS:putlogevents", stream) {
		t.Error("logs:PutLogEvents in another case: denied")
	}
	for _, action := range []string{"logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:PutLogEvent", "logs:CreateLogGroups", "s3:PutObject", "sts:AssumeRole", "logs:*"} {
		if s.Allowed(arn, action, stream) {
			t.Errorf("%s: allowed", action)
		}
	}
	// Another role, or none, allows nothing.
	if s.Allowed("arn:aws:iam::123456789012:role/other", "logs:PutLogEvents", stream) || s.CanAssume("arn:aws:iam::123456789012:role/other", flowLogs) {
		t.Error("an unknown role allows")
	}
	// A role without inline policies can be assumed but allows nothing.
	bare := roleWith(t, s, "bare", flowLogsTrust)
	if !s.CanAssume(bare, flowLogs) || s.Allowed(bare, "logs:PutLogEvents", stream) {
		t.Error("role without permissions")
	}
}

// The guide recommends adding aws:SourceAccount and aws:SourceArn
// conditions to the trust policy against the confused deputy problem.
func TestFlowLogRoleWithConfusedDeputyConditions(t *testing.T) {
	s, _ := openTest(t)
	trust := doc(`[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole",
		"Condition":{
		    "StringEquals":{"aws:SourceAccount":"123456789012"},
		    "ArnLike":{"aws:SourceArn":"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}}}]`)
	arn := roleWith(t, s, "guarded", trust, flowLogsPermissions)
	ctx := Context{"aws:SourceAccount": "123456789012", "aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-0123456789abcdef0"}
	if !s.CanAssumeWith(arn, flowLogs, ctx) {
		t.Fatal("the flow log of the account cannot assume the role")
	}
	// Condition keys are not case-sensitive.
	if !s.CanAssumeWith(arn, flowLogs, Context{"AWS:SOURCEACCOUNT": "123456789012", "aws:sourcearn": ctx["aws:SourceArn"]}) {
		t.Fatal("condition keys compared with case")
	}
	for name, c := range map[string]Context{
		"another account":          {"aws:SourceAccount": "111122223333", "aws:SourceArn": ctx["aws:SourceArn"]},
		"another Region":           {"aws:SourceAccount": "123456789012", "aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/fl-0123456789abcdef0"},
		"not a flow log":           {"aws:SourceAccount": "123456789012", "aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:instance/i-1"},
		"no source ARN":            {"aws:SourceAccount": "123456789012"},
		"empty context":            {},
		"unknown context (nil)":    nil,
		"source account in a list": {"aws:SourceAccount": "123456789012,111122223333", "aws:SourceArn": ctx["aws:SourceArn"]},
	} {
		if s.CanAssumeWith(arn, flowLogs, c) {
			t.Errorf("%s: assumed", name)
		}
	}
	// CanAssume knows no request context: the conditional statement does
	// not apply.
	if s.CanAssume(arn, flowLogs) {
		t.Error("CanAssume evaluated conditions without a context")
	}
}

func TestTrustPolicyVariants(t *testing.T) {
	s, _ := openTest(t)
	stmt := func(effect, principal, action string) string {
		return fmt.Sprintf(`{"Effect":%q,%s,%s}`, effect, principal, action)
	}
	cases := []struct {
		name  string
		trust string
		can   map[string]bool
	}{
		{"service as a string", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: true, "ec2.amazonaws.com": false}},
		{"service in an array", doc(`[` + stmt("Allow", `"Principal":{"Service":["ec2.amazonaws.com","vpc-flow-logs.amazonaws.com"]}`, `"Action":["sts:AssumeRole"]`) + `]`),
			map[string]bool{flowLogs: true, "ec2.amazonaws.com": true, "lambda.amazonaws.com": false}},
		{"a different service", doc(`[` + stmt("Allow", `"Principal":{"Service":"ec2.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false, "ec2.amazonaws.com": true}},
		{"service in another case", doc(`[` + stmt("Allow", `"Principal":{"Service":"VPC-Flow-Logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false}},
		{"statement as an object, no Version", `{"Statement":` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `}`,
			map[string]bool{flowLogs: true}},
		{"anyone", doc(`[` + stmt("Allow", `"Principal":"*"`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: true, "ec2.amazonaws.com": true}},
		{"AWS *", doc(`[` + stmt("Allow", `"Principal":{"AWS":"*"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: true}},
		{"an account, not a service", doc(`[` + stmt("Allow", `"Principal":{"AWS":"arn:aws:iam::123456789012:root"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false}},
		{"another action", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRoleWithSAML"`) + `]`),
			map[string]bool{flowLogs: false}},
		{"sts:*", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:*"`) + `]`),
			map[string]bool{flowLogs: true}},
		{"sts:Assume?ole in another case", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"STS:assume?ole"`) + `]`),
			map[string]bool{flowLogs: true}},
		{"Allow then Deny of the same service", doc(`[` +
			stmt("Allow", `"Principal":{"Service":["vpc-flow-logs.amazonaws.com","ec2.amazonaws.com"]}`, `"Action":"sts:AssumeRole"`) + `,` +
			stmt("Deny", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false, "ec2.amazonaws.com": true}},
		{"Deny of anyone", doc(`[` +
			stmt("Deny", `"Principal":"*"`, `"Action":"sts:*"`) + `,` +
			stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false}},
		{"Deny only", doc(`[` + stmt("Deny", `"Principal":{"Service":"ec2.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: false, "ec2.amazonaws.com": false}},
		{"NotAction other than AssumeRole", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"NotAction":"sts:TagSession"`) + `]`),
			map[string]bool{flowLogs: true}},
		{"NotAction of AssumeRole", doc(`[` + stmt("Allow", `"Principal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"NotAction":["sts:TagSession","sts:AssumeRole"]`) + `]`),
			map[string]bool{flowLogs: false}},
		{"Deny with NotPrincipal", doc(`[` +
			stmt("Allow", `"Principal":"*"`, `"Action":"sts:AssumeRole"`) + `,` +
			stmt("Deny", `"NotPrincipal":{"Service":"vpc-flow-logs.amazonaws.com"}`, `"Action":"sts:AssumeRole"`) + `]`),
			map[string]bool{flowLogs: true, "ec2.amazonaws.com": false}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arn := roleWith(t, s, fmt.Sprint("trust", i), c.trust)
			for svc, want := range c.can {
				if got := s.CanAssume(arn, svc); got != want {
					t.Errorf("CanAssume(%s) = %v, want %v", svc, got, want)
				}
			}
		})
	}
}

func TestAllowedWildcardsAndDeny(t *testing.T) {
	s, _ := openTest(t)
	type check struct {
		action, resource string
		want             bool
	}
	cases := []struct {
		name   string
		inline []string
		checks []check
	}{
		{"action wildcards", []string{doc(`[{"Effect":"Allow","Action":["logs:Put*","logs:Describe?ogGroups"],"Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true},
			{"logs:PutRetentionPolicy", group, true},
			{"logs:DescribeLogGroups", group, true},
			{"logs:DescribeLogStreams", group, false},
			{"logs:CreateLogStream", group, false},
			{"logs:putlogevents", stream, true},
		}},
		{"every action", []string{doc(`[{"Effect":"Allow","Action":"*","Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true}, {"s3:GetObject", "arn:aws:s3:::b/k", true},
		}},
		// The * that ends a segment reaches across the log group's colons
		// into the stream; elsewhere wildcards stay within a segment.
		{"resource wildcards", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":["arn:aws:logs:us-east-1:123456789012:log-group:flowlogs:*","arn:aws:logs:*:*:log-group:all-regions"]}]`)}, []check{
			{"logs:PutLogEvents", stream, true},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:flowlogs:log-stream:x", true},
			{"logs:PutLogEvents", group, false}, // no ":..." after the group name
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:flowlogs2:log-stream:x", false},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:111122223333:log-group:flowlogs:log-stream:x", false},
			{"logs:PutLogEvents", "arn:aws:logs:eu-west-1:111122223333:log-group:all-regions", true},
			{"logs:PutLogEvents", "arn:aws:logs:eu-west-1:111122223333:log-group:all-regions:log-stream:x", false},
			{"s3:PutObject", stream, false},
		}},
		{"arn:aws:logs:*:*:*", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true}, {"logs:CreateLogGroup", group, true}, {"logs:PutLogEvents", "arn:aws:s3:::b", false},
		}},
		{"? within a segment", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:us-east-?:123456789012:log-group:g?:log-stream:s"}]`)}, []check{
			{"logs:PutLogEvents", "arn:aws:logs:us-east-2:123456789012:log-group:g1:log-stream:s", true},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-12:123456789012:log-group:g1:log-stream:s", false},
		}},
		{"* inside a segment does not cross colons", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:us-east-1:123456789012:log-group:a*b"}]`)}, []check{
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:a-to-b", true},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:a:b", false},
		}},
		{"resource names are case-sensitive", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:us-east-1:123456789012:log-group:FlowLogs:*"}]`)}, []check{
			{"logs:PutLogEvents", stream, false},
		}},
		{"explicit deny wins", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"*"},{"Effect":"Deny","Action":"logs:DeleteLogGroup","Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true}, {"logs:DeleteLogGroup", group, false}, {"logs:deleteloggroup", group, false},
		}},
		{"deny in another policy of the role", []string{flowLogsPermissions, doc(`[{"Effect":"Deny","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:*:*:log-group:flowlogs:*"}]`)}, []check{
			{"logs:PutLogEvents", stream, false},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:other:log-stream:s", true},
			{"logs:CreateLogStream", stream, true},
		}},
		{"deny without allow", []string{doc(`[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, false}, {"s3:GetObject", "arn:aws:s3:::b/k", false},
		}},
		// NotAction with Allow allows everything else, in every service.
		{"Allow NotAction", []string{doc(`[{"Effect":"Allow","NotAction":"logs:Delete*","Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true}, {"logs:DeleteLogGroup", group, false}, {"s3:GetObject", "arn:aws:s3:::b/k", true},
		}},
		{"Deny NotAction", []string{flowLogsPermissions, doc(`[{"Effect":"Deny","NotAction":["logs:PutLogEvents","logs:CreateLogStream"],"Resource":"*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true}, {"logs:CreateLogStream", stream, true}, {"logs:CreateLogGroup", group, false},
		}},
		{"Deny NotResource", []string{doc(`[{"Effect":"Allow","Action":"logs:*","Resource":"*"},{"Effect":"Deny","Action":"logs:PutLogEvents","NotResource":"arn:aws:logs:us-east-1:123456789012:log-group:flowlogs:*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:other:log-stream:s", false},
			{"logs:CreateLogStream", "arn:aws:logs:us-east-1:123456789012:log-group:other:log-stream:s", true},
		}},
		{"Allow NotResource", []string{doc(`[{"Effect":"Allow","Action":"logs:*","NotResource":"arn:aws:logs:*:*:log-group:secret*"}]`)}, []check{
			{"logs:PutLogEvents", stream, true},
			{"logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:secret:log-stream:s", false},
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arn := roleWith(t, s, fmt.Sprint("perm", i), flowLogsTrust, c.inline...)
			for _, k := range c.checks {
				if got := s.Allowed(arn, k.action, k.resource); got != k.want {
					t.Errorf("Allowed(%s, %s) = %v, want %v", k.action, k.resource, got, k.want)
				}
			}
		})
	}
}

func TestConditions(t *testing.T) {
	s, _ := openTest(t)
	allowIf := func(cond string) string {
		return doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*","Condition":` + cond + `}]`)
	}
	cases := []struct {
		name string
		pol  string
		ctx  Context
		want bool
	}{
		{"StringEquals holds", allowIf(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`), Context{"aws:SourceAccount": "123456789012"}, true},
		{"StringEquals fails", allowIf(`{"StringEquals":{"aws:SourceAccount":"123456789012"}}`), Context{"aws:SourceAccount": "111122223333"}, false},
		{"values are ORed", allowIf(`{"StringEquals":{"aws:SourceAccount":["111122223333","123456789012"]}}`), Context{"aws:SourceAccount": "123456789012"}, true},
		{"keys are ANDed", allowIf(`{"StringEquals":{"a":"1","b":"2"}}`), Context{"a": "1", "b": "3"}, false},
		{"operators are ANDed", allowIf(`{"StringEquals":{"a":"1"},"StringLike":{"b":"x*"}}`), Context{"a": "1", "b": "xyz"}, true},
		{"missing key, positive operator", allowIf(`{"StringEquals":{"a":"1"}}`), Context{}, false},
		{"missing key, negated operator", allowIf(`{"StringNotEquals":{"a":"1"}}`), Context{}, true},
		{"StringNotEquals present", allowIf(`{"StringNotEquals":{"a":["1","2"]}}`), Context{"a": "2"}, false},
		{"IfExists, missing key", allowIf(`{"StringEqualsIfExists":{"a":"1"}}`), Context{}, true},
		{"IfExists, present key", allowIf(`{"StringEqualsIfExists":{"a":"1"}}`), Context{"a": "2"}, false},
		{"StringEqualsIgnoreCase", allowIf(`{"StringEqualsIgnoreCase":{"a":"ABC"}}`), Context{"a": "abc"}, true},
		{"StringEquals is case-sensitive", allowIf(`{"StringEquals":{"a":"ABC"}}`), Context{"a": "abc"}, false},
		{"ArnLike segments", allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:123456789012:vpc-flow-log/*"}}`), Context{"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-1"}, true},
		{"ArnEquals takes wildcards too", allowIf(`{"ArnEquals":{"aws:SourceArn":"arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/*"}}`), Context{"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-1"}, true},
		{"ArnLike not an ARN", allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:ec2:*:*:*"}}`), Context{"aws:SourceArn": "fl-1"}, false},
		{"ArnNotLike", allowIf(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:ec2:*:111122223333:*"}}`), Context{"aws:SourceArn": "arn:aws:ec2:us-east-1:123456789012:vpc-flow-log/fl-1"}, true},
		{"Bool", allowIf(`{"Bool":{"aws:SecureTransport":true}}`), Context{"aws:SecureTransport": "true"}, true},
		{"Null true: key absent", allowIf(`{"Null":{"aws:SourceArn":"true"}}`), Context{}, true},
		{"Null false: key present", allowIf(`{"Null":{"aws:SourceArn":"false"}}`), Context{"aws:SourceArn": "x"}, true},
		{"Null true, key present", allowIf(`{"Null":{"aws:SourceArn":"true"}}`), Context{"aws:SourceArn": "x"}, false},
		// Not evaluated: the statement does not apply.
		{"no context", allowIf(`{"StringEquals":{"a":"1"}}`), nil, false},
		{"numeric operator", allowIf(`{"NumericLessThan":{"n":"5"}}`), Context{"n": "1"}, false},
		{"set operator", allowIf(`{"ForAnyValue:StringEquals":{"a":"1"}}`), Context{"a": "1"}, false},
		{"policy variable", allowIf(`{"StringEquals":{"a":"${aws:username}"}}`), Context{"a": "${aws:username}"}, false},
		{"policy variable in a 2008 policy is text", `{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*","Condition":{"StringEquals":{"a":"${x}"}}}]}`, Context{"a": "${x}"}, true},
		{"policy variable in Resource", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:*:*:log-group:${aws:username}"}]`), Context{}, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			arn := roleWith(t, s, fmt.Sprint("cond", i), flowLogsTrust, c.pol)
			if got := s.AllowedWith(arn, "logs:PutLogEvents", stream, c.ctx); got != c.want {
				t.Errorf("AllowedWith = %v, want %v", got, c.want)
			}
		})
	}
	// A Deny with a condition that cannot be evaluated does not apply
	// either: it denies nothing (docs/iam.md warns of this).
	arn := roleWith(t, s, "denyIf", flowLogsTrust, flowLogsPermissions,
		doc(`[{"Effect":"Deny","Action":"logs:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceAccount":"123456789012"}}}]`))
	if !s.Allowed(arn, "logs:PutLogEvents", stream) {
		t.Error("Deny with a condition applied without a context")
	}
	if s.AllowedWith(arn, "logs:PutLogEvents", stream, Context{"aws:SourceAccount": "111122223333"}) {
		t.Error("Deny with a condition that holds did not deny")
	}
	if !s.AllowedWith(arn, "logs:PutLogEvents", stream, Context{"aws:SourceAccount": "123456789012"}) {
		t.Error("Deny with a condition that fails denied")
	}
}

func TestGlobs(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"", "", true}, {"", "a", false}, {"a*", "a", true}, {"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"?", "", false}, {"a?c", "abc", true}, {"**a", "ba", true}, {"a*", "b", false},
	} {
		if got := glob(c.pat, c.s); got != c.want {
			t.Errorf("glob(%q, %q) = %v", c.pat, c.s, got)
		}
	}
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"arn:aws:logs:*:*:*", stream, true},
		{"arn:aws:logs:us-east-1:*", stream, true},          // the last * crosses every colon
		{"arn:aws:logs:us-*-1:*:log-group:*", stream, true}, // us-* is inside a segment, matching "east"
		{"arn:aws:logs:u*1:*:*", "arn:aws:logs:us:x-1:g", false},
		{"arn:aws:logs:*", "arn:aws:s3:::b", false},
		{"a?c", "a:c", false},
	} {
		if got := globSegments(c.pat, c.s); got != c.want {
			t.Errorf("globSegments(%q, %q) = %v", c.pat, c.s, got)
		}
	}
}
