package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// The policy language: parsing and IAM's MalformedPolicyDocument checks.
//
// A role holds two kinds of policy. Its trust policy (the
// AssumeRolePolicyDocument of CreateRole) is a resource-based policy: it
// names who may assume the role in Principal and has no Resource. Its
// inline policies (PutRolePolicy) are identity-based: they name actions and
// resources and must not name a principal. Both share the grammar of the
// IAM User Guide's "IAM JSON policy element reference"; the checks below
// return the messages IAM returns for each mistake, in the order IAM finds
// them as far as it is known (docs/iam.md lists them and where each one
// comes from).

type policyKind int

const (
	identityPolicy policyKind = iota // PutRolePolicy
	trustPolicy                      // CreateRole's AssumeRolePolicyDocument
)

// Messages of MalformedPolicyDocument, as IAM writes them.
const (
	msgInvalidJSON      = "This policy contains invalid Json"
	msgSyntax           = "Syntax errors in policy."
	msgLegacy           = "The policy failed legacy parsing"
	msgNoPrincipalAllow = "Policy document should not specify a principal."
	msgMissingPrincipal = "Missing required field Principal"
	msgNoPrincipals     = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
	msgSidUnique        = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlnum         = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgNeedActions      = "Policy statement must contain actions."
	msgNeedResources    = "Policy statement must contain resources."
	msgActionVendor     = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgActionColons     = "Actions/Condition can contain only one colon."
	msgResourceVendor   = "Resource vendor must be fully qualified and cannot contain regexes."
)

// Policy language versions. A policy without Version is 2008-10-17, the
// version in which policy variables are plain text.
const (
	version2012 = "2012-10-17"
	version2008 = "2008-10-17"
)

// Principal types a Principal object may name.
var principalTypes = []string{"AWS", "Service", "Federated", "CanonicalUser"}

// Condition operators IAM accepts, before an "IfExists" suffix and a
// "ForAnyValue:"/"ForAllValues:" prefix.
var conditionOperators = []string{
	"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
	"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}

// Partitions a resource ARN may name.
var partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc", "*"}

// policy is a parsed, valid policy document.
type policy struct {
	version    string // "" when absent
	statements []statement
}

type statement struct {
	sid    string
	effect string // as written: IAM accepts any case in its grammar, then insists on Allow or Deny
	allow  bool   // Effect Allow; else Deny

	// principals is nil without Principal/NotPrincipal (identity policies).
	principals   *principalSet
	notPrincipal bool

	actions   []string // Action or NotAction values
	notAction bool

	resources   []string // Resource or NotResource values; none in a trust policy
	notResource bool

	conditions []condition // nil without Condition
	hasCond    bool
}

// principalSet is a Principal (or NotPrincipal) value: "*" (anyone) or
// values by type.
type principalSet struct {
	anyone bool
	byType map[string][]string // by type as written; check rejects types not in principalTypes
}

// condition is one key of one operator block of a Condition element.
type condition struct {
	operator string // as written, with prefix and suffix
	key      string
	values   []string // numbers and booleans in their JSON text
}

// parsePolicy parses and validates doc as a policy of the given kind. A
// document IAM would reject is an *Error with code MalformedPolicyDocument.
func parsePolicy(doc string, kind policyKind) (*policy, error) {
	var top any
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	err := dec.Decode(&top)
	if err == nil {
		if _, e := dec.Token(); e != io.EOF {
			err = fmt.Errorf("data after the document")
		}
	}
	obj, isObj := top.(map[string]any)
	if err != nil || !isObj {
		// IAM words this differently for the two kinds; both were observed
		// for documents that are not JSON objects (a file name given without
		// file://, a URL-encoded or a doubly encoded document).
		if kind == trustPolicy {
			return nil, malformed(msgInvalidJSON)
		}
		return nil, malformed(msgSyntax)
	}
	p, ok := parseSyntax(obj)
	if !ok {
		return nil, malformed(msgSyntax)
	}
	if err := p.check(kind); err != nil {
		return nil, err
	}
	return p, nil
}

// parseSyntax reads the grammar: known elements only, each of the right
// JSON type. Anything else is IAM's "Syntax errors in policy."
func parseSyntax(obj map[string]any) (*policy, bool) {
	p := &policy{}
	for k, v := range obj {
		switch k {
		case "Version":
			s, ok := v.(string)
			if !ok || (s != version2012 && s != version2008) {
				return nil, false
			}
			p.version = s
		case "Id":
			if _, ok := v.(string); !ok {
				return nil, false
			}
		case "Statement":
		default:
			return nil, false
		}
	}
	var raw []any
	switch st := obj["Statement"].(type) {
	case map[string]any:
		raw = []any{st}
	case []any:
		raw = st
	default:
		return nil, false
	}
	if len(raw) == 0 {
		return nil, false
	}
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, false
		}
		s, ok := parseStatement(m)
		if !ok {
			return nil, false
		}
		p.statements = append(p.statements, s)
	}
	return p, true
}

// statementElements are the elements a statement may have.
var statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}

func parseStatement(m map[string]any) (statement, bool) {
	var s statement
	for k := range m {
		if !slices.Contains(statementElements, k) {
			return s, false
		}
	}
	if both(m, "Action", "NotAction") || both(m, "Resource", "NotResource") || both(m, "Principal", "NotPrincipal") {
		return s, false
	}
	if v, ok := m["Sid"]; ok {
		if s.sid, ok = v.(string); !ok {
			return s, false
		}
	}
	// Effect is compared without case here; exact case is a separate, later
	// check (legacy parsing), as IAM does.
	eff, ok := m["Effect"].(string)
	if !ok || (!strings.EqualFold(eff, "Allow") && !strings.EqualFold(eff, "Deny")) {
		return s, false
	}
	s.effect, s.allow = eff, strings.EqualFold(eff, "Allow")
	var good bool
	if s.actions, s.notAction, good = stringsElement(m, "Action", "NotAction"); !good {
		return s, false
	}
	if s.resources, s.notResource, good = stringsElement(m, "Resource", "NotResource"); !good {
		return s, false
	}
	for _, k := range []string{"Principal", "NotPrincipal"} {
		v, ok := m[k]
		if !ok {
			continue
		}
		ps, ok := parsePrincipal(v)
		if !ok {
			return s, false
		}
		s.principals, s.notPrincipal = ps, k == "NotPrincipal"
	}
	if v, ok := m["Condition"]; ok {
		s.hasCond = true
		if s.conditions, ok = parseCondition(v); !ok {
			return s, false
		}
	}
	return s, true
}

func both(m map[string]any, a, b string) bool {
	_, x := m[a]
	_, y := m[b]
	return x && y
}

// stringsElement reads Action/NotAction or Resource/NotResource: a string or
// an array of strings. An empty array is valid syntax (IAM then says the
// statement must contain actions or resources).
func stringsElement(m map[string]any, pos, neg string) (vals []string, negated, ok bool) {
	v, has := m[pos]
	if !has {
		if v, has = m[neg]; !has {
			return nil, false, true
		}
		negated = true
	}
	vals, ok = stringOrList(v)
	if ok && vals == nil {
		vals = []string{} // present but empty, unlike absent
	}
	return vals, negated, ok
}

func stringOrList(v any) ([]string, bool) {
	switch t := v.(type) {
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// parsePrincipal reads "*" or {"TYPE": string or [strings], ...}. Unknown
// types are kept (under their name) for check to report as an invalid
// principal.
func parsePrincipal(v any) (*principalSet, bool) {
	if s, ok := v.(string); ok {
		return &principalSet{anyone: true}, s == "*"
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	ps := &principalSet{byType: map[string][]string{}}
	for k, e := range m {
		vals, ok := stringOrList(e)
		if !ok {
			return nil, false
		}
		ps.byType[k] = vals
	}
	return ps, true
}

// parseCondition reads {"Operator": {"key": value or [values]}}. Values may
// be strings, numbers or booleans. An operator IAM does not know is a syntax
// error unless its block is empty.
func parseCondition(v any) ([]condition, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	conds := []condition{}
	for _, op := range sortedKeys(m) {
		block, ok := m[op].(map[string]any)
		if !ok {
			return nil, false
		}
		if _, _, _, known := splitOperator(op); !known && len(block) > 0 {
			return nil, false
		}
		for _, key := range sortedKeys(block) {
			var vals []string
			switch t := block[key].(type) {
			case []any:
				for _, e := range t {
					s, ok := scalar(e)
					if !ok {
						return nil, false
					}
					vals = append(vals, s)
				}
			default:
				s, ok := scalar(t)
				if !ok {
					return nil, false
				}
				vals = []string{s}
			}
			conds = append(conds, condition{operator: op, key: key, values: vals})
		}
	}
	return conds, true
}

func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// splitOperator strips the set prefix and the IfExists suffix from a
// condition operator and reports whether the base operator is known.
func splitOperator(op string) (base, prefix string, ifExists, known bool) {
	base = op
	for _, p := range []string{"ForAnyValue:", "ForAllValues:"} {
		if rest, ok := strings.CutPrefix(base, p); ok {
			prefix, base = p, rest
			break
		}
	}
	base, ifExists = strings.CutSuffix(base, "IfExists")
	return base, prefix, ifExists, slices.Contains(conditionOperators, base)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// check runs the checks that follow the grammar, in IAM's order as far as
// it is known (moto's validator, and error reports from real accounts).
func (p *policy) check(kind policyKind) error {
	if kind == trustPolicy {
		for _, s := range p.statements {
			if s.resources != nil {
				field := "Resource"
				if s.notResource {
					field = "NotResource"
				}
				return malformed("Has prohibited field " + field)
			}
		}
		for _, s := range p.statements {
			if s.principals == nil {
				return malformed(msgMissingPrincipal)
			}
		}
		for _, s := range p.statements {
			if err := s.principals.check(); err != nil {
				return err
			}
		}
	} else {
		for _, s := range p.statements {
			if s.principals != nil {
				return malformed(msgNoPrincipalAllow)
			}
		}
	}
	// Effect must be spelled exactly Allow or Deny.
	for _, s := range p.statements {
		if s.effect != "Allow" && s.effect != "Deny" {
			return malformed(msgLegacy)
		}
	}
	var resourceErr string
	if kind == identityPolicy {
		for _, s := range p.statements {
			for _, r := range s.resources {
				if msg := resourceFormat(r); msg != "" {
					if resourceErr == "" {
						resourceErr = msg
					}
					continue
				}
				if resourceErr == "" && !legacyResource(r) {
					return malformed(msgLegacy)
				}
			}
		}
		for _, s := range p.statements {
			if !isAlnum(s.sid) {
				return malformed(msgSidAlnum)
			}
		}
	}
	seen := map[string]bool{}
	for _, s := range p.statements {
		if s.sid == "" {
			continue
		}
		if seen[s.sid] {
			return malformed(msgSidUnique)
		}
		seen[s.sid] = true
	}
	for _, s := range p.statements {
		if len(s.actions) == 0 {
			return malformed(msgNeedActions)
		}
	}
	if kind == identityPolicy {
		for _, s := range p.statements {
			if len(s.resources) == 0 {
				return malformed(msgNeedResources)
			}
		}
		if resourceErr != "" {
			return malformed(resourceErr)
		}
	}
	for _, s := range p.statements {
		for _, a := range s.actions {
			if err := checkAction(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// check validates the principals of a trust policy statement. IAM names the
// offending value in its message, its type in upper case:
// Invalid principal in policy: "SERVICE":"".
func (ps *principalSet) check() error {
	if ps.anyone {
		return nil
	}
	if len(ps.byType) == 0 {
		return malformed(msgNoPrincipals)
	}
	for _, typ := range slices.Sorted(maps.Keys(ps.byType)) {
		vals := ps.byType[typ]
		if len(vals) == 0 {
			return malformed(msgNoPrincipals)
		}
		for _, v := range vals {
			if !slices.Contains(principalTypes, typ) || !validPrincipal(typ, v) {
				return malformed(fmt.Sprintf("Invalid principal in policy: %q:%q", strings.ToUpper(typ), v))
			}
		}
	}
	return nil
}

// validPrincipal checks the shape of one principal. An AWS principal is "*",
// a 12-digit account id or an IAM or STS ARN; IAM also resolves the ARN to
// an existing entity, which is not checked here (docs/iam.md).
func validPrincipal(typ, v string) bool {
	switch typ {
	case "AWS":
		if v == "*" || isAccountID(v) {
			return true
		}
		parts := strings.SplitN(v, ":", 6)
		return len(parts) == 6 && parts[0] == "arn" && slices.Contains(partitions[:len(partitions)-1], parts[1]) &&
			(parts[2] == "iam" || parts[2] == "sts") && parts[3] == "" && isAccountID(parts[4]) && parts[5] != ""
	default:
		return strings.TrimSpace(v) != ""
	}
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkAction: an action is "*" or "vendor:name", the vendor made of
// letters, digits, '-' and '.'.
func checkAction(a string) error {
	parts := strings.Split(a, ":")
	switch {
	case len(parts) == 1 && parts[0] != "*":
		return malformed(msgActionVendor)
	case len(parts) > 2:
		return malformed(msgActionColons)
	}
	if v := parts[0]; v != "*" {
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				return malformed(fmt.Sprintf("Vendor %s is not valid", v))
			}
		}
	}
	return nil
}

// resourceFormat returns IAM's message for a Resource value that is not "*"
// and not an ARN of a known partition with a literal service, or "".
func resourceFormat(r string) string {
	if r == "*" {
		return ""
	}
	parts := strings.SplitN(r, ":", 3)
	if len(parts) < 2 {
		return fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r)
	}
	if !slices.Contains(partitions, parts[1]) {
		rest := []string{}
		if len(parts) == 3 {
			rest = strings.Split(parts[2], ":")
		}
		seg := func(i int) string {
			if i < len(rest) && (rest[i] != "" || len(rest) > 1) {
				if i == 3 {
					return strings.Join(rest[3:], ":")
				}
				return rest[i]
			}
			return "*"
		}
		return fmt.Sprintf("Partition \"%s\" is not valid for resource \"arn:%s:%s:%s:%s:%s\".", parts[1], parts[1], seg(0), seg(1), seg(2), seg(3))
	}
	if len(parts) < 3 {
		return msgResourceVendor
	}
	service, rest, ok := strings.Cut(parts[2], ":")
	// "You can't use a wildcard in the service segment" (User Guide,
	// Resource element).
	if !ok || service == "" || strings.ContainsAny(service, "*?") {
		return msgResourceVendor
	}
	region, _, _ := strings.Cut(rest, ":")
	switch {
	case service == "iam" && region != "":
		return fmt.Sprintf("IAM resource %s cannot contain region information.", r)
	case service == "s3" && region != "" && !strings.HasPrefix(resourcePart(r), "accesspoint/"):
		return fmt.Sprintf("Resource %s can not contain region information.", r)
	}
	return ""
}

// resourcePart is the sixth segment of an ARN (what follows the account).
func resourcePart(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[5]
}

// legacyResource is IAM's older ARN parser, which still rejects an ARN with
// an empty service or with "::" and fewer than six segments.
func legacyResource(r string) bool {
	if r == "*" {
		return true
	}
	if strings.Count(r, ":") < 5 && strings.Contains(r, "::") {
		return false
	}
	parts := strings.Split(r, ":")
	return len(parts) < 3 || parts[2] != ""
}

// EncodePolicyDocument returns doc as IAM returns policy documents in its
// responses (GetRole, ListRoles, CreateRole, GetRolePolicy): URL-encoded
// per RFC 3986, every byte but the unreserved characters A-Z a-z 0-9 - . _ ~
// written as %XX. The store keeps and returns documents as given; an API
// front end encodes them with this when it writes its XML. SDKs such as
// botocore (and so awscli) decode them again.
func EncodePolicyDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b bytes.Buffer
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
