package iam

import (
	"net/url"
	"strings"
	"testing"
)

// doc wraps statements in a 2012-10-17 policy.
func doc(statements string) string {
	return `{"Version":"2012-10-17","Statement":` + statements + `}`
}

func TestMalformedTrustPolicies(t *testing.T) {
	ok := `{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}`
	cases := []struct{ name, doc, msg string }{
		// Observed: awscli given a file name without file://, and an SDK
		// user URL-encoding the document before sending it.
		{"not JSON", "trust-policy.json", "This policy contains invalid Json"},
		{"URL-encoded", url.QueryEscape(doc(`[` + ok + `]`)), "This policy contains invalid Json"},
		{"trailing comma", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole",}]`), "This policy contains invalid Json"},
		{"a JSON string", `"{}"`, "This policy contains invalid Json"},
		{"missing Effect", doc(`[{"Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]`), "Syntax errors in policy."},
		{"unknown Effect", doc(`[{"Effect":"Permit","Principal":"*","Action":"sts:AssumeRole"}]`), "Syntax errors in policy."},
		{"unknown Version", `{"Version":"2020-01-01","Statement":[` + ok + `]}`, "Syntax errors in policy."},
		{"Version not a string", `{"Version":2012,"Statement":[` + ok + `]}`, "Syntax errors in policy."},
		{"no Statement", `{"Version":"2012-10-17"}`, "Syntax errors in policy."},
		{"empty Statement", doc(`[]`), "Syntax errors in policy."},
		{"unknown top element", `{"Version":"2012-10-17","Statements":[` + ok + `]}`, "Syntax errors in policy."},
		{"unknown statement element", doc(`[{"Effect":"Allow","Principals":"*","Action":"sts:AssumeRole"}]`), "Syntax errors in policy."},
		{"Action and NotAction", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotAction":"sts:TagSession"}]`), "Syntax errors in policy."},
		{"Action a number", doc(`[{"Effect":"Allow","Principal":"*","Action":1}]`), "Syntax errors in policy."},
		{"Principal a plain service name", doc(`[{"Effect":"Allow","Principal":"vpc-flow-logs.amazonaws.com","Action":"sts:AssumeRole"}]`), "Syntax errors in policy."},
		// Observed: "Has prohibited field Resource" for a permissions policy
		// given as a trust policy.
		{"Resource", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}]`), "Has prohibited field Resource"},
		{"NotResource", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}]`), "Has prohibited field NotResource"},
		{"no Principal", doc(`[{"Effect":"Allow","Action":"sts:AssumeRole"}]`), "Missing required field Principal"},
		// Observed: Invalid principal in policy: "SERVICE":"".
		{"empty service", doc(`[{"Effect":"Allow","Principal":{"Service":""},"Action":"sts:AssumeRole"}]`), `Invalid principal in policy: "SERVICE":""`},
		{"AWS principal not an account", doc(`[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:root"},"Action":"sts:AssumeRole"}]`), `Invalid principal in policy: "AWS":"arn:aws:iam::123:root"`},
		{"unknown principal type", doc(`[{"Effect":"Allow","Principal":{"Services":"x"},"Action":"sts:AssumeRole"}]`), `Invalid principal in policy: "SERVICES":"x"`},
		{"no principals", doc(`[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"sts:AssumeRole"}]`),
			"Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"},
		{"Effect in lower case", doc(`[{"Effect":"allow","Principal":"*","Action":"sts:AssumeRole"}]`), "The policy failed legacy parsing"},
		{"duplicate Sid", doc(`[{"Sid":"A","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Sid":"A","Effect":"Deny","Principal":"*","Action":"sts:TagSession"}]`),
			"Statement IDs (SID) in a single policy must be unique."},
		{"no Action", doc(`[{"Effect":"Allow","Principal":"*"}]`), "Policy statement must contain actions."},
		{"empty Action", doc(`[{"Effect":"Allow","Principal":"*","Action":[]}]`), "Policy statement must contain actions."},
		{"Action without vendor", doc(`[{"Effect":"Allow","Principal":"*","Action":"AssumeRole"}]`), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"Action with two colons", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:Assume:Role"}]`), "Actions/Condition can contain only one colon."},
		{"bad vendor", doc(`[{"Effect":"Allow","Principal":"*","Action":"st s:AssumeRole"}]`), "Vendor st s is not valid"},
		{"unknown condition operator", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEqualz":{"aws:SourceAccount":"1"}}}]`), "Syntax errors in policy."},
		{"condition value an object", doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":{}}}}]`), "Syntax errors in policy."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parsePolicy(c.doc, trustPolicy)
			wantErr(t, err, 400, CodeMalformedPolicyDocument, c.msg)
		})
	}
	valid := []string{
		flowLogsTrust,
		`{"Statement":` + ok + `}`, // Statement as an object, no Version (2008-10-17)
		`{"Version":"2008-10-17","Id":"x","Statement":[` + ok + `]}`,
		doc(`[{"Sid":"","Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","vpc-flow-logs.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}]`),
		doc(`[{"Effect":"Allow","Principal":{"AWS":["123456789012","arn:aws:iam::111122223333:role/x","*"]},"Action":"sts:*"}]`),
		doc(`[{"Effect":"Deny","NotPrincipal":{"Service":"vpc-flow-logs.amazonaws.com"},"NotAction":"sts:TagSession"}]`),
		doc(`[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"n":5},"ForAnyValue:StringLikeIfExists":{"k":["a","b"]},"Unknown":{}}}]`),
	}
	for i, d := range valid {
		if _, err := parsePolicy(d, trustPolicy); err != nil {
			t.Errorf("valid[%d]: %v", i, err)
		}
	}
}

func TestMalformedPermissionsPolicies(t *testing.T) {
	cases := []struct{ name, doc, msg string }{
		// Observed: a file name without file://, and a document JSON-encoded
		// twice (a JSON string).
		{"not JSON", "policy.json", "Syntax errors in policy."},
		{"JSON-encoded twice", `"{\"Version\": \"2012-10-17\"}"`, "Syntax errors in policy."},
		{"URL-encoded", url.QueryEscape(flowLogsPermissions), "Syntax errors in policy."},
		{"missing Effect", doc(`[{"Action":"logs:PutLogEvents","Resource":"*"}]`), "Syntax errors in policy."},
		{"unknown Version", `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}`, "Syntax errors in policy."},
		{"Resource and NotResource", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*","NotResource":"*"}]`), "Syntax errors in policy."},
		// Observed for PutRolePolicy given a trust policy.
		{"Principal", doc(`[{"Effect":"Allow","Principal":"*","Action":"logs:PutLogEvents","Resource":"*"}]`), "Policy document should not specify a principal."},
		{"NotPrincipal", doc(`[{"Effect":"Allow","NotPrincipal":{"AWS":"123456789012"},"Action":"logs:PutLogEvents","Resource":"*"}]`), "Policy document should not specify a principal."},
		{"Effect in upper case", doc(`[{"Effect":"DENY","Action":"logs:PutLogEvents","Resource":"*"}]`), "The policy failed legacy parsing"},
		{"no Resource", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents"}]`), "Policy statement must contain resources."},
		{"empty Resource", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":[]}]`), "Policy statement must contain resources."},
		{"no Action", doc(`[{"Effect":"Allow","Resource":"*"}]`), "Policy statement must contain actions."},
		{"Resource not an ARN", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"flowlogs"}]`), `Resource flowlogs must be in ARN format or "*".`},
		{"unknown partition", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws-xx:logs:us-east-1:123456789012:log-group:g"}]`),
			`Partition "aws-xx" is not valid for resource "arn:aws-xx:logs:us-east-1:123456789012:log-group:g".`},
		{"no service", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws"}]`), "Resource vendor must be fully qualified and cannot contain regexes."},
		{"wildcard service", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:*:us-east-1:123456789012:log-group:g"}]`), "Resource vendor must be fully qualified and cannot contain regexes."},
		{"IAM ARN with a region", doc(`[{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam:us-east-1:123456789012:role/x"}]`),
			"IAM resource arn:aws:iam:us-east-1:123456789012:role/x cannot contain region information."},
		{"short ARN with ::", doc(`[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs::log-group"}]`), "The policy failed legacy parsing"},
		// Observed (CloudTrail of CreatePolicy): hyphens are not allowed.
		{"Sid with a hyphen", doc(`[{"Sid":"flow-logs","Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]`),
			"Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"},
		{"duplicate Sid", doc(`[{"Sid":"A","Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"logs:CreateLogStream","Resource":"*"}]`),
			"Statement IDs (SID) in a single policy must be unique."},
		{"Action without vendor", doc(`[{"Effect":"Allow","Action":"PutLogEvents","Resource":"*"}]`), "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parsePolicy(c.doc, identityPolicy)
			wantErr(t, err, 400, CodeMalformedPolicyDocument, c.msg)
		})
	}
	valid := []string{
		flowLogsPermissions,
		`{"Statement":{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:*"}}`,
		doc(`[{"Sid":"Logs1","Effect":"Deny","NotAction":["logs:Put*","logs:Create?og*"],"NotResource":"arn:aws:logs:us-east-1:123456789012:log-group:g:*"}]`),
		doc(`[{"Effect":"Allow","Action":"*","Resource":["arn:aws:s3:::bucket/*","arn:aws:s3:us-east-1:123456789012:accesspoint/ap"]}]`),
	}
	for i, d := range valid {
		if _, err := parsePolicy(d, identityPolicy); err != nil {
			t.Errorf("valid[%d]: %v", i, err)
		}
	}
}

// IAM returns documents URL-encoded per RFC 3986: everything but
// A-Z a-z 0-9 - . _ ~ as %XX (upper-case hex, UTF-8 bytes).
func TestEncodePolicyDocument(t *testing.T) {
	in := `{"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "arn:aws:s3:::b/x~y_z"}]}` + "\né"
	want := `%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Action%22%3A%20%22s3%3A%2A%22%2C%20%22Resource%22%3A%20%22arn%3Aaws%3As3%3A%3A%3Ab%2Fx~y_z%22%7D%5D%7D%0A%C3%A9`
	if got := EncodePolicyDocument(in); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if back, err := url.PathUnescape(want); err != nil || back != in {
		t.Fatalf("does not decode back: %q, %v", back, err)
	}
	if strings.ContainsAny(EncodePolicyDocument(flowLogsTrust), " \n\"{}:/*") {
		t.Fatal("reserved characters left unencoded")
	}
}
