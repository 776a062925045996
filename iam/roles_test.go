package iam

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testAccount = "123456789012"

// The trust policy of AWS's VPC User Guide page "IAM role for publishing
// flow logs to CloudWatch Logs", as printed there.
const flowLogsTrust = `{
  "Version":"2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {
        "Service": "vpc-flow-logs.amazonaws.com"
      },
      "Action": "sts:AssumeRole"
    }
  ]
}`

// The permissions policy of the same page.
const flowLogsPermissions = `{
  "Version":"2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "logs:DescribeLogStreams"
      ],
      "Resource": "*"
    }
  ]
}`

var fixedNow = time.Date(2024, 5, 6, 7, 8, 9, 987654321, time.UTC)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "iam", "roles.json")
	s, err := Open(path, Options{Account: testAccount, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustCreate(t *testing.T, s *Store, in CreateRoleInput) Role {
	t.Helper()
	if in.AssumeRolePolicyDocument == "" {
		in.AssumeRolePolicyDocument = flowLogsTrust
	}
	r, err := s.CreateRole(in)
	if err != nil {
		t.Fatalf("CreateRole(%s): %v", in.RoleName, err)
	}
	return r
}

// wantErr checks an *Error's status, code and message.
func wantErr(t *testing.T, err error, status int, code, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want *Error %s: %s", err, code, msg)
	}
	if e.Status != status || e.Code != code || e.Message != msg {
		t.Fatalf("got %d %s: %q\nwant %d %s: %q", e.Status, e.Code, e.Message, status, code, msg)
	}
}

func TestCreateRoleShape(t *testing.T) {
	s, _ := openTest(t)
	r := mustCreate(t, s, CreateRoleInput{RoleName: "flowlogs-role", Path: "/service-role/", Description: "Flow logs to CloudWatch Logs",
		MaxSessionDuration: 7200, Tags: []Tag{{"team", "net"}, {"empty", ""}}})
	want := Role{RoleName: "flowlogs-role", RoleId: r.RoleId, Arn: "arn:aws:iam::123456789012:role/service-role/flowlogs-role",
		Path: "/service-role/", CreateDate: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), AssumeRolePolicyDocument: flowLogsTrust,
		Description: "Flow logs to CloudWatch Logs", MaxSessionDuration: 7200, Tags: []Tag{{"team", "net"}, {"empty", ""}}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("CreateRole:\n got %+v\nwant %+v", r, want)
	}
	if !isRoleID(r.RoleId) || len(r.RoleId) != 21 {
		t.Fatalf("RoleId %q: want AROA and 17 upper-case letters or digits", r.RoleId)
	}
	got, err := s.GetRole("flowlogs-role")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("GetRole: %+v, %v", got, err)
	}
	// Defaults: path "/", one hour.
	d := mustCreate(t, s, CreateRoleInput{RoleName: "plain"})
	if d.Path != "/" || d.Arn != "arn:aws:iam::123456789012:role/plain" || d.MaxSessionDuration != 3600 || d.Tags != nil {
		t.Fatalf("defaults: %+v", d)
	}
	// The caller's slices are not shared with the store.
	got.Tags[0].Key = "changed"
	if again, _ := s.GetRole("flowlogs-role"); again.Tags[0].Key != "team" {
		t.Fatal("GetRole returned the store's own Tags slice")
	}
	if a, b := mustCreate(t, s, CreateRoleInput{RoleName: "a"}), mustCreate(t, s, CreateRoleInput{RoleName: "b"}); a.RoleId == b.RoleId {
		t.Fatal("two roles with one id")
	}
}

func TestCreateRoleErrors(t *testing.T) {
	s, _ := openTest(t)
	mustCreate(t, s, CreateRoleInput{RoleName: "Existing"})
	long := strings.Repeat("r", 65)
	tags51 := make([]Tag, 51)
	for i := range tags51 {
		tags51[i] = Tag{Key: fmt.Sprint("k", i)}
	}
	cases := []struct {
		name   string
		in     CreateRoleInput
		status int
		code   string
		msg    string
	}{
		{"name too long", CreateRoleInput{RoleName: long, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			"1 validation error detected: Value '" + long + "' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"name with a space", CreateRoleInput{RoleName: "my role", AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			`1 validation error detected: Value 'my role' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"no name, no document", CreateRoleInput{}, 400, CodeValidationError,
			"2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"},
		{"path without trailing slash", CreateRoleInput{RoleName: "r", Path: "/a", AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			`1 validation error detected: Value '/a' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{"session too short", CreateRoleInput{RoleName: "r", MaxSessionDuration: 3599, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			"1 validation error detected: Value '3599' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"},
		{"session too long", CreateRoleInput{RoleName: "r", MaxSessionDuration: 43201, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			"1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"description too long", CreateRoleInput{RoleName: "r", Description: strings.Repeat("d", 1001), AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			"1 validation error detected: Value '" + strings.Repeat("d", 1001) + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000"},
		{"document with a character above U+00FF", CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[]}` + "€"}, 400, CodeValidationError,
			`1 validation error detected: Value '{"Version":"2012-10-17","Statement":[]}€' at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`},
		{"51 tags", CreateRoleInput{RoleName: "r", Tags: tags51, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError, ""},
		{"tag key with a comma", CreateRoleInput{RoleName: "r", Tags: []Tag{{"a,b", "v"}}, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeValidationError,
			`1 validation error detected: Value 'a,b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{"duplicate tag keys", CreateRoleInput{RoleName: "r", Tags: []Tag{{"Team", "a"}, {"team", "b"}}, AssumeRolePolicyDocument: flowLogsTrust}, 400, CodeInvalidInput,
			"Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"trust policy not JSON", CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: "trust.json"}, 400, CodeMalformedPolicyDocument,
			"This policy contains invalid Json"},
		{"trust policy too long", CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: longTrust(2049)}, 409, CodeLimitExceeded,
			"Cannot exceed quota for ACLSizePerRole: 2048"},
		{"same name", CreateRoleInput{RoleName: "Existing", AssumeRolePolicyDocument: flowLogsTrust}, 409, CodeEntityAlreadyExists,
			"Role with name Existing already exists."},
		{"same name in another case", CreateRoleInput{RoleName: "EXISTING", AssumeRolePolicyDocument: flowLogsTrust}, 409, CodeEntityAlreadyExists,
			"Role with name EXISTING already exists."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.CreateRole(c.in)
			if c.msg == "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != c.code || !strings.HasSuffix(e.Message, "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50") {
					t.Fatalf("got %v", err)
				}
				return
			}
			wantErr(t, err, c.status, c.code, c.msg)
		})
	}
	if roles, _, _, _ := s.ListRoles("", "", 0); len(roles) != 1 {
		t.Fatalf("failed CreateRole calls left roles: %v", roles)
	}
	// A trust policy of exactly 2,048 characters without white space is
	// within the quota.
	if _, err := s.CreateRole(CreateRoleInput{RoleName: "at-quota", AssumeRolePolicyDocument: longTrust(2048)}); err != nil {
		t.Fatal(err)
	}
}

// longTrust is a valid trust policy of n characters, white space not
// counted (n >= 150), padded with a Sid.
func longTrust(n int) string {
	base := `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	doc := strings.Replace(base, `"Sid":""`, `"Sid":"`+strings.Repeat("s", n-len(base))+`"`, 1)
	// White space does not count: indent it.
	return strings.ReplaceAll(doc, ",", ",\n    ")
}

func TestRolesPerAccountQuota(t *testing.T) {
	s, _ := openTest(t)
	s.maxRoles = 3 // the quota is 1,000; three roles show the rule
	for i := range 3 {
		mustCreate(t, s, CreateRoleInput{RoleName: fmt.Sprint("r", i)})
	}
	_, err := s.CreateRole(CreateRoleInput{RoleName: "r3", AssumeRolePolicyDocument: flowLogsTrust})
	wantErr(t, err, http.StatusConflict, CodeLimitExceeded, "Cannot exceed quota for RolesPerAccount: 3")
	if err := s.DeleteRole("r0"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, CreateRoleInput{RoleName: "r3"})
}

func TestGetAndDeleteRole(t *testing.T) {
	s, _ := openTest(t)
	r := mustCreate(t, s, CreateRoleInput{RoleName: "FlowLogs"})
	// Names are unique without case, and found without case.
	got, err := s.GetRole("flowlogs")
	if err != nil || got.RoleName != "FlowLogs" {
		t.Fatalf("GetRole(flowlogs): %+v, %v", got, err)
	}
	_, err = s.GetRole("missing")
	wantErr(t, err, 404, CodeNoSuchEntity, "The role with name missing cannot be found.")
	_, err = s.GetRole("")
	wantErr(t, err, 400, CodeValidationError, "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null")

	if got, ok := s.RoleByArn(r.Arn); !ok || got.RoleId != r.RoleId {
		t.Fatalf("RoleByArn: %+v %v", got, ok)
	}
	if _, ok := s.RoleByArn("arn:aws:iam::123456789012:role/flowlogs"); ok {
		t.Fatal("RoleByArn matched an ARN of another case")
	}

	if err := s.PutRolePolicy("FlowLogs", "logs", flowLogsPermissions); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRole("FlowLogs"), 409, CodeDeleteConflict, "Cannot delete entity, must delete policies first.")
	if err := s.DeleteRolePolicy("FlowLogs", "logs"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRole("FLOWLOGS"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRole("FlowLogs"), 404, CodeNoSuchEntity, "The role with name FlowLogs cannot be found.")
	if _, ok := s.RoleByArn(r.Arn); ok {
		t.Fatal("deleted role still found by ARN")
	}
	if s.CanAssume(r.Arn, "vpc-flow-logs.amazonaws.com") {
		t.Fatal("a deleted role can still be assumed")
	}
	// The name is free again, under a new id.
	if again := mustCreate(t, s, CreateRoleInput{RoleName: "FlowLogs"}); again.RoleId == r.RoleId {
		t.Fatal("a new role reused the deleted role's id")
	}
}

func names(roles []Role) string {
	var n []string
	for _, r := range roles {
		n = append(n, r.RoleName)
	}
	return strings.Join(n, ",")
}

func TestListRoles(t *testing.T) {
	s, _ := openTest(t)
	for _, c := range []struct{ name, path string }{{"b", "/"}, {"A", "/"}, {"c", "/service-role/"}, {"D", "/service-role/x/"}, {"e", "/other/"}} {
		mustCreate(t, s, CreateRoleInput{RoleName: c.name, Path: c.path, Tags: []Tag{{"k", "v"}}})
	}
	type page struct {
		roles string
		trunc bool
	}
	walk := func(prefix string, max int) []page {
		var pages []page
		marker := ""
		for {
			roles, trunc, next, err := s.ListRoles(prefix, marker, max)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range roles {
				if r.Tags != nil {
					t.Fatalf("ListRoles returned tags for %s", r.RoleName)
				}
			}
			pages = append(pages, page{names(roles), trunc})
			if !trunc {
				return pages
			}
			if next == "" {
				t.Fatal("truncated without a marker")
			}
			marker = next
		}
	}
	if got, want := walk("", 2), []page{{"A,b", true}, {"c,D", true}, {"e", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("all, 2 a page: %v, want %v", got, want)
	}
	if got, want := walk("/", 0), []page{{"A,b,c,D,e", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("default page: %v, want %v", got, want)
	}
	if got, want := walk("/service-role/", 1), []page{{"c", true}, {"D", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("/service-role/: %v, want %v", got, want)
	}
	if got, want := walk("/nothing/", 5), []page{{"", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("/nothing/: %v, want %v", got, want)
	}
	// A full last page is not truncated.
	if got, want := walk("", 5), []page{{"A,b,c,D,e", false}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("exact page: %v, want %v", got, want)
	}
	// A role deleted between pages does not shift the next page.
	roles, _, next, _ := s.ListRoles("", "", 2)
	if names(roles) != "A,b" {
		t.Fatal(names(roles))
	}
	if err := s.DeleteRole("A"); err != nil {
		t.Fatal(err)
	}
	if roles, _, _, _ := s.ListRoles("", next, 2); names(roles) != "c,D" {
		t.Fatalf("after a delete: %s", names(roles))
	}

	_, _, _, err := s.ListRoles("", "", 1001)
	wantErr(t, err, 400, CodeValidationError, "1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")
	_, _, _, err = s.ListRoles("", "", -1)
	wantErr(t, err, 400, CodeValidationError, "1 validation error detected: Value '-1' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1")
	_, _, _, err = s.ListRoles("service-role", "", 0)
	wantErr(t, err, 400, CodeValidationError, `1 validation error detected: Value 'service-role' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
}

// The default page is 100 roles.
func TestListRolesDefaultPage(t *testing.T) {
	s, _ := openTest(t)
	for i := range 101 {
		mustCreate(t, s, CreateRoleInput{RoleName: fmt.Sprintf("role%03d", i)})
	}
	roles, trunc, next, err := s.ListRoles("", "", 0)
	if err != nil || len(roles) != 100 || !trunc || roles[99].RoleName != "role099" {
		t.Fatalf("first page: %d roles, truncated %v, %v", len(roles), trunc, err)
	}
	roles, trunc, _, err = s.ListRoles("", next, 0)
	if err != nil || names(roles) != "role100" || trunc {
		t.Fatalf("second page: %s, truncated %v, %v", names(roles), trunc, err)
	}
}

func TestRolePolicies(t *testing.T) {
	s, _ := openTest(t)
	mustCreate(t, s, CreateRoleInput{RoleName: "flowlogs"})
	other := `{"Statement":{"Effect":"Deny","Action":"logs:DeleteLogGroup","Resource":"*"}}`
	for _, p := range []struct{ name, doc string }{{"b", flowLogsPermissions}, {"a", other}, {"C", flowLogsPermissions}} {
		if err := s.PutRolePolicy("flowlogs", p.name, p.doc); err != nil {
			t.Fatal(err)
		}
	}
	if doc, err := s.GetRolePolicy("FLOWLOGS", "a"); err != nil || doc != other {
		t.Fatalf("GetRolePolicy: %q, %v", doc, err)
	}
	// ListRolePolicies: names in order (upper case first), paginated.
	got, trunc, next, err := s.ListRolePolicies("flowlogs", "", 2)
	if err != nil || strings.Join(got, ",") != "C,a" || !trunc {
		t.Fatalf("page 1: %v %v %v", got, trunc, err)
	}
	got, trunc, _, err = s.ListRolePolicies("flowlogs", next, 2)
	if err != nil || strings.Join(got, ",") != "b" || trunc {
		t.Fatalf("page 2: %v %v %v", got, trunc, err)
	}
	// Put replaces a policy of the same name.
	if err := s.PutRolePolicy("flowlogs", "a", flowLogsPermissions); err != nil {
		t.Fatal(err)
	}
	if doc, _ := s.GetRolePolicy("flowlogs", "a"); doc != flowLogsPermissions {
		t.Fatal("PutRolePolicy did not replace the document")
	}
	if got, _, _, _ := s.ListRolePolicies("flowlogs", "", 0); len(got) != 3 {
		t.Fatalf("after replace: %v", got)
	}

	_, err = s.GetRolePolicy("flowlogs", "A")
	wantErr(t, err, 404, CodeNoSuchEntity, "The role policy with name A cannot be found.")
	_, err = s.GetRolePolicy("nobody", "a")
	wantErr(t, err, 404, CodeNoSuchEntity, "The role with name nobody cannot be found.")
	wantErr(t, s.PutRolePolicy("nobody", "a", flowLogsPermissions), 404, CodeNoSuchEntity, "The role with name nobody cannot be found.")
	wantErr(t, s.DeleteRolePolicy("flowlogs", "zzz"), 404, CodeNoSuchEntity, "The role policy with name zzz cannot be found.")
	wantErr(t, s.DeleteRolePolicy("nobody", "a"), 404, CodeNoSuchEntity, "The role with name nobody cannot be found.")
	_, _, _, err = s.ListRolePolicies("nobody", "", 0)
	wantErr(t, err, 404, CodeNoSuchEntity, "The role with name nobody cannot be found.")
	wantErr(t, s.PutRolePolicy("flowlogs", "bad name", flowLogsPermissions), 400, CodeValidationError,
		`1 validation error detected: Value 'bad name' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	wantErr(t, s.PutRolePolicy("flowlogs", "p", ""), 400, CodeValidationError,
		"1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	wantErr(t, s.PutRolePolicy("flowlogs", "p", flowLogsTrust), 400, CodeMalformedPolicyDocument,
		"Policy document should not specify a principal.")
}

// A role's inline policies may total 10,240 characters, white space not
// counted.
func TestRolePolicySizeQuota(t *testing.T) {
	s, _ := openTest(t)
	mustCreate(t, s, CreateRoleInput{RoleName: "big"})
	// sized(n) is an identity policy of n characters without white space.
	sized := func(n int) string {
		base := `{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"arn:aws:logs:us-east-1:123456789012:log-group:"}]}`
		doc := strings.Replace(base, "log-group:", "log-group:"+strings.Repeat("g", n-len(base)), 1)
		return strings.ReplaceAll(doc, ",", ", \n\t") // white space is free
	}
	if got := policySize(sized(6000)); got != 6000 {
		t.Fatalf("sized(6000) counts %d", got)
	}
	if err := s.PutRolePolicy("big", "one", sized(6000)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.PutRolePolicy("big", "two", sized(4241)), 409, CodeLimitExceeded, "Maximum policy size of 10240 bytes exceeded for role big")
	if err := s.PutRolePolicy("big", "two", sized(4240)); err != nil {
		t.Fatalf("exactly 10,240 characters: %v", err)
	}
	// Replacing a policy counts its new size, not old plus new.
	if err := s.PutRolePolicy("big", "one", sized(6000)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.PutRolePolicy("big", "one", sized(6001)), 409, CodeLimitExceeded, "Maximum policy size of 10240 bytes exceeded for role big")
}

func TestRestartKeepsRolesAndPolicies(t *testing.T) {
	s, path := openTest(t)
	r1 := mustCreate(t, s, CreateRoleInput{RoleName: "flowlogs", Path: "/service-role/", Description: "d", MaxSessionDuration: 43200, Tags: []Tag{{"a", "b"}}})
	r2 := mustCreate(t, s, CreateRoleInput{RoleName: "gone"})
	if err := s.PutRolePolicy("flowlogs", "logs", flowLogsPermissions); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRole(r2.RoleName); err != nil {
		t.Fatal(err)
	}
	// The change is on disk when the method returns: read the file without
	// closing the store.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := decodeFile(data, testAccount)
	if err != nil || len(roles) != 1 || len(roles["flowlogs"].policies) != 1 {
		t.Fatalf("file after the calls: %v, %v", roles, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRole(CreateRoleInput{RoleName: "x", AssumeRolePolicyDocument: flowLogsTrust}); !errors.Is(err, ErrClosed) {
		t.Fatalf("CreateRole after Close: %v", err)
	}
	if _, err := s.GetRole("flowlogs"); err != nil {
		t.Fatalf("reads after Close: %v", err)
	}

	s2, err := Open(path, Options{Account: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.GetRole("flowlogs")
	if err != nil || !reflect.DeepEqual(got, r1) {
		t.Fatalf("after restart:\n got %+v, %v\nwant %+v", got, err, r1)
	}
	if _, err := s2.GetRole("gone"); err == nil {
		t.Fatal("a deleted role came back")
	}
	if doc, err := s2.GetRolePolicy("flowlogs", "logs"); err != nil || doc != flowLogsPermissions {
		t.Fatalf("policy after restart: %q, %v", doc, err)
	}
	if !s2.CanAssume(r1.Arn, "vpc-flow-logs.amazonaws.com") || !s2.Allowed(r1.Arn, "logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:g:log-stream:s") {
		t.Fatal("evaluation after restart")
	}
}

func TestOpenChecks(t *testing.T) {
	s, path := openTest(t)
	mustCreate(t, s, CreateRoleInput{RoleName: "r"})
	if _, err := Open(path, Options{Account: testAccount}); err == nil || !strings.Contains(err.Error(), "open elsewhere") {
		t.Fatalf("second Open: %v", err)
	}
	s.Close()
	if _, err := Open(path, Options{Account: "111122223333"}); err == nil || !strings.Contains(err.Error(), `the roles belong to account "123456789012"`) {
		t.Fatalf("another account: %v", err)
	}
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("Open without an account")
	}
	// A temporary file left by a crash is removed; the roles are intact.
	stale := path + ".tmp-123"
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{Account: testAccount})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale temporary file not removed")
	}
	if _, err := s2.GetRole("r"); err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

func TestCorruptFiles(t *testing.T) {
	good := func(mut func(string) string) string {
		doc := fmt.Sprintf(`{"Format":"vpcflow iam roles","Version":1,"Account":"%s","Roles":[{"RoleName":"r","RoleId":"AROAABCDEFGHIJKLMNOPQ","Path":"/","CreateDate":"2024-01-02T03:04:05Z","AssumeRolePolicyDocument":%q,"MaxSessionDuration":3600,"Policies":[{"PolicyName":"p","PolicyDocument":%q}]}]}`,
			testAccount, flowLogsTrust, flowLogsPermissions)
		return mut(doc)
	}
	same := func(s string) string { return s }
	if _, err := decodeFile([]byte(good(same)), testAccount); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	cases := map[string]string{
		"garbage":           "not json",
		"another format":    good(func(s string) string { return strings.Replace(s, "vpcflow iam roles", "x", 1) }),
		"unknown field":     good(func(s string) string { return strings.Replace(s, `"Version":1`, `"Version":1,"Extra":1`, 1) }),
		"bad role id":       good(func(s string) string { return strings.Replace(s, "AROAABCDEFGHIJKLMNOPQ", "AROA1", 1) }),
		"bad trust policy":  good(func(s string) string { return strings.Replace(s, `sts:AssumeRole`, `AssumeRole`, 1) }),
		"bad inline policy": good(func(s string) string { return strings.Replace(s, `\"Resource\": \"*\"`, `\"Resource\": \"x\"`, 1) }),
		"no create date": good(func(s string) string {
			return strings.Replace(s, `"2024-01-02T03:04:05Z"`, `"0001-01-01T00:00:00Z"`, 1)
		}),
		"bad path":      good(func(s string) string { return strings.Replace(s, `"Path":"/"`, `"Path":"x"`, 1) }),
		"trailing data": good(same) + "{}",
	}
	for name, doc := range cases {
		if _, err := decodeFile([]byte(doc), testAccount); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Duplicates, without case.
	dup := good(func(s string) string {
		i := strings.Index(s, `{"RoleName"`)
		role := s[i : len(s)-2]
		return s[:len(s)-2] + "," + strings.Replace(strings.Replace(role, `"r"`, `"R"`, 1), "AROAABCDEFGHIJKLMNOPQ", "AROAABCDEFGHIJKLMNOPR", 1) + "]}"
	})
	if _, err := decodeFile([]byte(dup), testAccount); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("duplicate role: %v", err)
	}
	// Open names the file and the role.
	path := filepath.Join(t.TempDir(), "roles.json")
	os.WriteFile(path, []byte(cases["bad trust policy"]), 0o644)
	if _, err := Open(path, Options{Account: testAccount}); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), `Roles[0]: role "r"`) {
		t.Fatalf("Open of a bad file: %v", err)
	}
}
