package iam

import (
	"strings"
	"testing"
)

// The policy parser and evaluator take documents from the network: no
// input may make them panic, and a document accepted once is accepted
// again with the same meaning.
func FuzzPolicy(f *testing.F) {
	for _, seed := range []string{
		flowLogsTrust, flowLogsPermissions, "", "{}", "null", "[]", `"x"`, "{",
		doc(`[{"Effect":"Allow","Principal":{"Service":["a","b"]},"NotAction":"sts:*","Condition":{"StringLikeIfExists":{"k":["*",1,true]}}}]`),
		doc(`[{"Sid":"A1","Effect":"Deny","NotAction":["logs:*"],"NotResource":"arn:aws:logs:*:*:log-group:*:*"}]`),
		doc(`[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}/*"}]`),
		`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}`,
		doc(`[{"Effect":"Allow","Action":"a:b","Resource":"arn:aws-xx:s3"}]`),
	} {
		f.Add(seed, "logs:PutLogEvents", stream)
	}
	f.Fuzz(func(t *testing.T, document, action, resource string) {
		ctx := Context{"aws:SourceAccount": testAccount, "aws:SourceArn": resource, "k": action}
		for _, kind := range []policyKind{trustPolicy, identityPolicy} {
			p, err := parsePolicy(document, kind)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("not an *Error: %v", err)
				}
				continue
			}
			again, err := parsePolicy(document, kind)
			if err != nil {
				t.Fatalf("accepted once, then: %v", err)
			}
			for _, c := range []Context{nil, ctx} {
				req := request{action: action, resource: resource, checkResource: kind == identityPolicy, ctx: lowerKeys(c)}
				if kind == trustPolicy {
					req.service = resource
				}
				if evaluate([]*policy{p}, &req) != evaluate([]*policy{again}, &req) {
					t.Fatal("two parses evaluate differently")
				}
			}
		}
		// The matchers on arbitrary patterns.
		glob(document, resource)
		globSegments(document, resource)
		matchArn(document, resource)
		matchResource(strings.ToLower(document), resource)
		EncodePolicyDocument(document)
	})
}
