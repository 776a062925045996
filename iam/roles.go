package iam

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Role is an IAM role, the Role shape of the IAM API (without
// PermissionsBoundary and RoleLastUsed, which this package does not keep).
type Role struct {
	RoleName string
	// RoleId is the role's unique id: "AROA" and 17 upper-case letters and
	// digits, the form of AWS's role ids.
	RoleId string
	// Arn is arn:aws:iam::ACCOUNT:role/PATH-WITHOUT-LEADING-SLASH NAME, for
	// example arn:aws:iam::123456789012:role/service-role/flowlogs.
	Arn  string
	Path string
	// CreateDate is UTC with second precision, as IAM reports it.
	CreateDate time.Time
	// AssumeRolePolicyDocument is the trust policy exactly as given to
	// CreateRole. IAM returns it URL-encoded in its XML responses; an API
	// front end writes EncodePolicyDocument(AssumeRolePolicyDocument).
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int // seconds
	// Tags as given to CreateRole. ListRoles leaves them out, as IAM's
	// ListRoles does.
	Tags []Tag
}

// Tag is a role tag.
type Tag struct {
	Key   string
	Value string
}

// CreateRoleInput is a CreateRole request. Zero values are parameters not
// given: Path defaults to "/", MaxSessionDuration to 3600 seconds.
type CreateRoleInput struct {
	RoleName                 string
	Path                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int
	Tags                     []Tag
}

func (r Role) clone() Role {
	r.Tags = slices.Clone(r.Tags)
	return r
}

func roleArn(account, path, name string) string {
	return "arn:aws:iam::" + account + ":role" + path + name
}

// checkRoleName adds the roleName violations; "" is a missing parameter.
func checkRoleName(v *violations, name string) {
	if name == "" {
		v.null("roleName")
		return
	}
	v.str(name, "roleName", 1, maxRoleName, patName, isName)
}

func checkPolicyName(v *violations, name string) {
	if name == "" {
		v.null("policyName")
		return
	}
	v.str(name, "policyName", 1, maxPolicyName, patName, isName)
}

func checkDocument(v *violations, doc, member string) {
	if doc == "" {
		v.null(member)
		return
	}
	v.str(doc, member, 1, maxDocument, patDocument, isDocument)
}

func checkTags(v *violations, tags []Tag) {
	if len(tags) > maxTags {
		keys := make([]string, len(tags))
		for i, t := range tags {
			keys[i] = t.Key
		}
		v.add("["+strings.Join(keys, ", ")+"]", "tags", fmt.Sprintf("have length less than or equal to %d", maxTags))
	}
	for i, t := range tags {
		v.str(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), 1, maxTagKey, patTagKey, isTagKey)
		v.str(t.Value, fmt.Sprintf("tags.%d.member.value", i+1), 0, maxTagValue, patTagValue, isTagValue)
	}
}

// duplicateTagKey returns a key given twice (tag keys are compared without
// case), or "".
func duplicateTagKey(tags []Tag) string {
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return t.Key
		}
		seen[k] = true
	}
	return ""
}

// checkList adds the marker and maxItems violations of a List call and
// returns the page size (0 is the default, 100).
func checkList(v *violations, marker string, maxItems int) int {
	if marker != "" {
		v.str(marker, "marker", 1, maxMarker, patMarker, isMarker)
	}
	if maxItems == 0 {
		return defaultMaxItems
	}
	v.num(maxItems, "maxItems", 1, maxMaxItems)
	return maxItems
}

// CreateRole is IAM's CreateRole. The request is checked in this order:
// parameter constraints (ValidationError, all violations at once),
// duplicate tag keys (InvalidInput), the trust policy
// (MalformedPolicyDocument), its size (LimitExceeded, the 2,048-character
// trust policy quota), an existing role of that name, compared without case
// (EntityAlreadyExists), and the quota of 1,000 roles per account
// (LimitExceeded).
func (s *Store) CreateRole(in CreateRoleInput) (Role, error) {
	var v violations
	checkRoleName(&v, in.RoleName)
	path := in.Path
	if path == "" {
		path = "/"
	} else {
		v.str(path, "path", 1, maxPath, patPath, isPath)
	}
	checkDocument(&v, in.AssumeRolePolicyDocument, "assumeRolePolicyDocument")
	v.str(in.Description, "description", 0, maxDescription, patDesc, isDescription)
	session := in.MaxSessionDuration
	if session == 0 {
		session = defaultSession
	} else {
		v.num(session, "maxSessionDuration", minSession, maxSession)
	}
	checkTags(&v, in.Tags)
	if err := v.err(); err != nil {
		return Role{}, err
	}
	if duplicateTagKey(in.Tags) != "" {
		return Role{}, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
	}
	trust, err := parsePolicy(in.AssumeRolePolicyDocument, trustPolicy)
	if err != nil {
		return Role{}, err
	}
	if policySize(in.AssumeRolePolicyDocument) > maxTrustPolicySize {
		return Role{}, limitExceeded(fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicySize))
	}
	var made Role
	err = s.write(func(roles map[string]*roleEntry) error {
		lower := strings.ToLower(in.RoleName)
		if _, ok := roles[lower]; ok {
			return roleExists(in.RoleName)
		}
		if len(roles) >= s.maxRoles {
			return limitExceeded(fmt.Sprintf("Cannot exceed quota for RolesPerAccount: %d", s.maxRoles))
		}
		made = Role{RoleName: in.RoleName, RoleId: newRoleID(roles), Arn: roleArn(s.account, path, in.RoleName), Path: path,
			CreateDate: s.now().UTC().Truncate(time.Second), AssumeRolePolicyDocument: in.AssumeRolePolicyDocument,
			Description: in.Description, MaxSessionDuration: session, Tags: slices.Clone(in.Tags)}
		roles[lower] = &roleEntry{role: made, lower: lower, trust: trust, policies: map[string]inlinePolicy{}}
		return nil
	})
	if err != nil {
		return Role{}, err
	}
	return made.clone(), nil
}

// GetRole is IAM's GetRole. Role names are matched without case, as IAM
// does (they are unique without case).
func (s *Store) GetRole(name string) (Role, error) {
	var v violations
	checkRoleName(&v, name)
	if err := v.err(); err != nil {
		return Role{}, err
	}
	e := s.cur.Load().byName[strings.ToLower(name)]
	if e == nil {
		return Role{}, noSuchRole(name)
	}
	return e.role.clone(), nil
}

// ListRoles is IAM's ListRoles: the roles whose path starts with pathPrefix
// ("" is "/", every role), ordered by name without case, at most maxItems
// of them (0 is the default, 100; at most 1,000). When isTruncated,
// nextMarker is the marker of the next page. Like IAM's, the listed roles
// have no Tags.
func (s *Store) ListRoles(pathPrefix, marker string, maxItems int) (roles []Role, isTruncated bool, nextMarker string, err error) {
	var v violations
	if pathPrefix == "" {
		pathPrefix = "/"
	} else {
		v.str(pathPrefix, "pathPrefix", 1, maxPath, patPathPrefix, isPathPrefix)
	}
	n := checkList(&v, marker, maxItems)
	if err := v.err(); err != nil {
		return nil, false, "", err
	}
	roles = []Role{}
	// The marker is the lower-case name of the last role returned: the next
	// page starts after it, so roles created or deleted between pages
	// neither repeat nor shift the rest.
	for _, e := range s.cur.Load().sorted {
		if marker != "" && e.lower <= marker {
			continue
		}
		if !strings.HasPrefix(e.role.Path, pathPrefix) {
			continue
		}
		if len(roles) == n {
			return roles, true, strings.ToLower(roles[n-1].RoleName), nil
		}
		r := e.role.clone()
		r.Tags = nil
		roles = append(roles, r)
	}
	return roles, false, "", nil
}

// DeleteRole is IAM's DeleteRole. A role with inline policies cannot be
// deleted (DeleteConflict), as in IAM, where the API deletes nothing
// attached to a role on its own.
func (s *Store) DeleteRole(name string) error {
	var v violations
	checkRoleName(&v, name)
	if err := v.err(); err != nil {
		return err
	}
	return s.write(func(roles map[string]*roleEntry) error {
		lower := strings.ToLower(name)
		e := roles[lower]
		if e == nil {
			return noSuchRole(name)
		}
		if len(e.policies) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		delete(roles, lower)
		return nil
	})
}

// RoleByArn returns the role with that ARN (compared exactly).
func (s *Store) RoleByArn(arn string) (Role, bool) {
	e := s.cur.Load().byArn[arn]
	if e == nil {
		return Role{}, false
	}
	return e.role.clone(), true
}

// PutRolePolicy is IAM's PutRolePolicy: it adds the inline policy, or
// replaces the one of that name (policy names are compared exactly). The
// request is checked in this order: parameter constraints (ValidationError),
// the role (NoSuchEntity), the document (MalformedPolicyDocument), and the
// role's aggregate inline policy size, 10,240 characters without white
// space (LimitExceeded).
func (s *Store) PutRolePolicy(role, policyName, document string) error {
	var v violations
	checkRoleName(&v, role)
	checkPolicyName(&v, policyName)
	checkDocument(&v, document, "policyDocument")
	if err := v.err(); err != nil {
		return err
	}
	if s.cur.Load().byName[strings.ToLower(role)] == nil {
		return noSuchRole(role)
	}
	parsed, err := parsePolicy(document, identityPolicy)
	if err != nil {
		return err
	}
	return s.write(func(roles map[string]*roleEntry) error {
		lower := strings.ToLower(role)
		e := roles[lower]
		if e == nil {
			return noSuchRole(role) // deleted meanwhile
		}
		size := policySize(document)
		for name, p := range e.policies {
			if name != policyName {
				size += policySize(p.doc)
			}
		}
		if size > maxRolePolicySize {
			return limitExceeded(fmt.Sprintf("Maximum policy size of %d bytes exceeded for role %s", maxRolePolicySize, e.role.RoleName))
		}
		ne := *e
		ne.policies = maps.Clone(e.policies)
		ne.policies[policyName] = inlinePolicy{doc: document, parsed: parsed}
		ne.policyNames = slices.Sorted(maps.Keys(ne.policies))
		roles[lower] = &ne
		return nil
	})
}

// GetRolePolicy is IAM's GetRolePolicy: the document as given to
// PutRolePolicy (IAM returns it URL-encoded: EncodePolicyDocument).
func (s *Store) GetRolePolicy(role, policyName string) (document string, err error) {
	var v violations
	checkRoleName(&v, role)
	checkPolicyName(&v, policyName)
	if err := v.err(); err != nil {
		return "", err
	}
	e := s.cur.Load().byName[strings.ToLower(role)]
	if e == nil {
		return "", noSuchRole(role)
	}
	p, ok := e.policies[policyName]
	if !ok {
		return "", noSuchRolePolicy(policyName)
	}
	return p.doc, nil
}

// DeleteRolePolicy is IAM's DeleteRolePolicy.
func (s *Store) DeleteRolePolicy(role, policyName string) error {
	var v violations
	checkRoleName(&v, role)
	checkPolicyName(&v, policyName)
	if err := v.err(); err != nil {
		return err
	}
	return s.write(func(roles map[string]*roleEntry) error {
		lower := strings.ToLower(role)
		e := roles[lower]
		if e == nil {
			return noSuchRole(role)
		}
		if _, ok := e.policies[policyName]; !ok {
			return noSuchRolePolicy(policyName)
		}
		ne := *e
		ne.policies = maps.Clone(e.policies)
		delete(ne.policies, policyName)
		ne.policyNames = slices.Sorted(maps.Keys(ne.policies))
		roles[lower] = &ne
		return nil
	})
}

// ListRolePolicies is IAM's ListRolePolicies: the names of the role's
// inline policies in order, paginated as ListRoles.
func (s *Store) ListRolePolicies(role, marker string, maxItems int) (names []string, isTruncated bool, nextMarker string, err error) {
	var v violations
	checkRoleName(&v, role)
	n := checkList(&v, marker, maxItems)
	if err := v.err(); err != nil {
		return nil, false, "", err
	}
	e := s.cur.Load().byName[strings.ToLower(role)]
	if e == nil {
		return nil, false, "", noSuchRole(role)
	}
	names = []string{}
	for _, name := range e.policyNames {
		if marker != "" && name <= marker {
			continue
		}
		if len(names) == n {
			return names, true, names[n-1], nil
		}
		names = append(names, name)
	}
	return names, false, "", nil
}

// newRoleID returns "AROA" and 17 random upper-case letters and digits, not
// used by any role.
func newRoleID(roles map[string]*roleEntry) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for {
		var b [17]byte
		for i := range b {
			b[i] = alphabet[randIntn(len(alphabet))]
		}
		id := "AROA" + string(b[:])
		used := false
		for _, e := range roles {
			used = used || e.role.RoleId == id
		}
		if !used {
			return id
		}
	}
}

// randIntn is a uniform random number in [0, n), n <= 256.
func randIntn(n int) int {
	limit := 256 - 256%n
	for {
		var b [1]byte
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

func isRoleID(id string) bool {
	rest, ok := strings.CutPrefix(id, "AROA")
	if !ok || len(rest) != 17 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
