package iam

import (
	"slices"
	"strings"
)

// Policy evaluation, as IAM's policy evaluation logic describes it for the
// policies a role has here (its trust policy, its inline policies):
//
//  1. A statement applies to a request when its principal (trust policy),
//     action, resource (inline policies) and conditions all match.
//  2. An applicable Deny decides: the request is denied.
//  3. Otherwise an applicable Allow allows it.
//  4. Otherwise it is denied (implicit deny).
//
// Conditions are evaluated against a request context the caller supplies.
// A statement whose conditions cannot be evaluated does not apply, whatever
// its effect: a Condition without a context, an operator this package does
// not evaluate (numeric, date, IP address, binary, the ForAnyValue: and
// ForAllValues: set operators), or a policy variable (${...}) in a
// Resource or condition value of a 2012-10-17 policy. Not applying is the
// cautious reading for an Allow (nothing is granted that AWS might refuse)
// and the permissive one for a Deny; docs/iam.md says so for users.

// Context is the request context condition keys are looked up in, for
// example {"aws:SourceAccount": "123456789012", "aws:SourceArn": "arn:..."}.
// Key names are compared without case, as IAM does. A nil Context means the
// request context is unknown, and any statement with a Condition does not
// apply; a non-nil one (even empty) is the whole context: a key it lacks is
// a key the request does not have.
type Context map[string]string

// CanAssume reports whether the role's trust policy lets the service
// principal (e.g. "vpc-flow-logs.amazonaws.com") perform sts:AssumeRole, for
// a request whose context is unknown: statements with a Condition do not
// apply. CanAssumeWith evaluates them.
func (s *Store) CanAssume(roleArn, servicePrincipal string) bool {
	return s.CanAssumeWith(roleArn, servicePrincipal, nil)
}

// CanAssumeWith is CanAssume with a request context for the Condition
// elements, such as the aws:SourceAccount and aws:SourceArn that AWS's VPC
// User Guide recommends a flow-log role's trust policy to test.
func (s *Store) CanAssumeWith(roleArn, servicePrincipal string, ctx Context) bool {
	e := s.cur.Load().byArn[roleArn]
	if e == nil || servicePrincipal == "" {
		return false
	}
	req := request{action: "sts:AssumeRole", service: servicePrincipal, ctx: lowerKeys(ctx)}
	return evaluate([]*policy{e.trust}, &req)
}

// Allowed reports whether the role's inline policies allow action (e.g.
// "logs:PutLogEvents") on resource (an ARN such as
// arn:aws:logs:us-east-1:123456789012:log-group:NAME:log-stream:S), for a
// request whose context is unknown: statements with a Condition do not
// apply. An unknown role allows nothing.
func (s *Store) Allowed(roleArn, action, resource string) bool {
	return s.AllowedWith(roleArn, action, resource, nil)
}

// AllowedWith is Allowed with a request context for the Condition elements.
func (s *Store) AllowedWith(roleArn, action, resource string, ctx Context) bool {
	e := s.cur.Load().byArn[roleArn]
	if e == nil {
		return false
	}
	pols := make([]*policy, 0, len(e.policies))
	for _, name := range e.policyNames {
		pols = append(pols, e.policies[name].parsed)
	}
	req := request{action: action, resource: resource, checkResource: true, ctx: lowerKeys(ctx)}
	return evaluate(pols, &req)
}

// request is what a statement is matched against.
type request struct {
	action        string
	service       string // the service principal; "" for identity policies
	resource      string
	checkResource bool
	ctx           map[string]string // lower-case keys; nil: unknown
}

func lowerKeys(ctx Context) map[string]string {
	if ctx == nil {
		return nil
	}
	m := make(map[string]string, len(ctx))
	for k, v := range ctx {
		m[strings.ToLower(k)] = v
	}
	return m
}

func evaluate(pols []*policy, req *request) bool {
	allowed := false
	for _, p := range pols {
		for i := range p.statements {
			st := &p.statements[i]
			if !st.applies(p.version, req) {
				continue
			}
			if !st.allow {
				return false // an explicit Deny wins
			}
			allowed = true
		}
	}
	return allowed
}

func (st *statement) applies(version string, req *request) bool {
	if req.service != "" {
		if st.principals == nil || st.principals.matches(req.service) == st.notPrincipal {
			return false
		}
	}
	if anyMatch(st.actions, func(pat string) bool { return matchAction(pat, req.action) }) == st.notAction {
		return false
	}
	if req.checkResource {
		if version == version2012 && slices.ContainsFunc(st.resources, hasVariable) {
			return false // policy variables are not substituted
		}
		if anyMatch(st.resources, func(pat string) bool { return matchResource(pat, req.resource) }) == st.notResource {
			return false
		}
	}
	if st.hasCond {
		ok, known := evalConditions(st.conditions, version, req.ctx)
		if !known || !ok {
			return false
		}
	}
	return true
}

func anyMatch(pats []string, match func(string) bool) bool {
	return slices.ContainsFunc(pats, match)
}

// matches reports whether the principal set names the service principal.
// "*" and {"AWS": "*"} name everyone (AWS documents them as equivalent).
// IAM does not match principal values with wildcards (User Guide, Principal
// element), so they are compared exactly.
func (ps *principalSet) matches(service string) bool {
	if ps.anyone || slices.Contains(ps.byType["AWS"], "*") {
		return true
	}
	return slices.Contains(ps.byType["Service"], service)
}

// matchAction matches an action pattern: "service:Action" names are
// compared without case; * matches any run of characters and ? any one.
func matchAction(pat, action string) bool {
	return glob(strings.ToLower(pat), strings.ToLower(action))
}

// matchResource matches a Resource value against an ARN. Case matters.
// Wildcards apply within each colon-separated segment; a * that ends a
// segment of the pattern may also match across colons ("If the * wildcard
// is the last character of a resource ARN segment, it can expand to match
// beyond the colon boundaries"), which is what makes
// arn:aws:logs:*:*:* or ...:log-group:NAME:* match a log stream's ARN.
func matchResource(pat, arn string) bool {
	return pat == "*" || globSegments(pat, arn)
}

func hasVariable(s string) bool { return strings.Contains(s, "${") }

// glob matches s against pat: * matches any run of characters, ? any
// single one. Iterative, with one backtrack point (the classic algorithm):
// linear in practice and never recursive, whatever the pattern.
func glob(pat, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, -1
	for sx < len(s) {
		if px < len(pat) {
			switch c := pat[px]; {
			case c == '*':
				starPx, starSx = px, sx
				px++
				continue
			case c == '?', c == s[sx]:
				px++
				sx++
				continue
			}
		}
		if starPx >= 0 {
			starSx++
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// globSegments matches an ARN pattern whose * may cross colons only where it
// ends a segment (is followed by ':' or ends the pattern). A table of
// reachable states keeps it polynomial for any pattern.
func globSegments(pat, s string) bool {
	// cur[j]: pat[:i] matches s[:j].
	cur := make([]bool, len(s)+1)
	next := make([]bool, len(s)+1)
	cur[0] = true
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		clear(next)
		switch c {
		case '*':
			cross := i+1 == len(pat) || pat[i+1] == ':'
			for j := 0; j <= len(s); j++ {
				if cur[j] {
					next[j] = true
				} else if j > 0 && next[j-1] && (cross || s[j-1] != ':') {
					next[j] = true
				}
			}
		case '?':
			for j := 1; j <= len(s); j++ {
				next[j] = cur[j-1] && s[j-1] != ':'
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = cur[j-1] && s[j-1] == c
			}
		}
		cur, next = next, cur
	}
	return cur[len(s)]
}

// evalConditions evaluates a statement's conditions, which must all hold.
// known is false when one of them cannot be evaluated.
func evalConditions(conds []condition, version string, ctx map[string]string) (ok, known bool) {
	if ctx == nil {
		return false, false
	}
	ok = true
	for i := range conds {
		res, k := conds[i].eval(version, ctx)
		if !k {
			return false, false
		}
		ok = ok && res
	}
	return ok, true
}

// eval evaluates one key of one operator block: for a positive operator the
// key's value must match one of the values, for a negated one none. A key
// the request lacks makes a positive operator false and a negated one true
// (IAM User Guide, condition operators), and any ...IfExists true.
func (c *condition) eval(version string, ctx map[string]string) (res, known bool) {
	base, prefix, ifExists, _ := splitOperator(c.operator)
	if prefix != "" {
		return false, false
	}
	if version == version2012 && slices.ContainsFunc(c.values, hasVariable) {
		return false, false
	}
	v, present := ctx[strings.ToLower(c.key)]
	if base == "Null" {
		if ifExists {
			return false, false
		}
		return slices.ContainsFunc(c.values, func(want string) bool {
			return strings.EqualFold(want, "true") != present
		}), true
	}
	var match func(want string) bool
	switch base {
	case "StringEquals", "StringNotEquals":
		match = func(w string) bool { return v == w }
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		match = func(w string) bool { return strings.EqualFold(v, w) }
	case "StringLike", "StringNotLike":
		match = func(w string) bool { return glob(w, v) }
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		match = func(w string) bool { return matchArn(w, v) }
	case "Bool":
		match = func(w string) bool { return strings.EqualFold(v, w) }
	default:
		return false, false
	}
	negated := strings.Contains(base, "Not")
	if !present {
		return ifExists || negated, true
	}
	return slices.ContainsFunc(c.values, match) != negated, true
}

// matchArn is ArnEquals/ArnLike: "Each of the six colon-delimited
// components of the ARN is checked separately and each can include
// multi-character match wildcards (*) or single-character match wildcards
// (?)." The sixth component keeps its own colons.
func matchArn(pat, arn string) bool {
	p := strings.SplitN(pat, ":", 6)
	a := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return false
	}
	for i := range p {
		if !glob(p[i], a[i]) {
			return false
		}
	}
	return true
}
