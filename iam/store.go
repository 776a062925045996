// Package iam holds the IAM roles of one account, as the IAM Query API
// manages them (CreateRole, GetRole, ListRoles, DeleteRole and the inline
// role policies), and evaluates them as AWS does when a service assumes a
// role and uses its permissions: CanAssume for the trust policy, Allowed for
// the inline policies. vpcflow serve answers `aws iam ...` with it and
// checks with it the role a CloudWatch Logs flow log delivers with.
//
// The roles live in one JSON file of the data dir. docs/iam.md describes
// what is supported, the AWS rules followed and their sources, and how
// policies are evaluated.
package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	fileFormat  = "vpcflow iam roles"
	fileVersion = 1
)

// Options configure Open.
type Options struct {
	// Account is the 12-digit AWS account the roles belong to; it is in
	// every role ARN. Required. A roles file remembers it and refuses to
	// open for another account.
	Account string
	// Now is the clock of CreateDate; time.Now when nil.
	Now func() time.Time
}

// Store is the set of roles of one account, kept in a JSON file that is
// rewritten whole on every change: written to a temporary file in the same
// directory, fsynced, renamed over the old one, and the directory fsynced.
// A change is durable when its method returns without error, and a crash at
// any moment leaves the old file or the new one, never a mix. The file is
// flock'ed (PATH.lock) while the store is open.
//
// Readers (GetRole, ListRoles, CanAssume, Allowed, ...) never wait for a
// writer: they read an immutable snapshot that each successful write
// replaces. All methods are safe for concurrent use.
type Store struct {
	path     string
	account  string
	now      func() time.Time
	lock     *os.File
	maxRoles int // the RolesPerAccount quota; tests lower it

	wmu    sync.Mutex // serialises writers and Close
	closed bool
	cur    atomic.Pointer[snapshot]
}

// snapshot is the store's content at one moment. It and everything it
// points to are never modified once published; writers build a new one.
type snapshot struct {
	byName map[string]*roleEntry // by lower-case role name
	byArn  map[string]*roleEntry
	sorted []*roleEntry // by lower-case name: the order of ListRoles
}

type roleEntry struct {
	role        Role
	lower       string // strings.ToLower(role.RoleName)
	trust       *policy
	policies    map[string]inlinePolicy // by policy name
	policyNames []string                // sorted
}

type inlinePolicy struct {
	doc    string // as given
	parsed *policy
}

func newSnapshot(byName map[string]*roleEntry) *snapshot {
	sn := &snapshot{byName: byName, byArn: make(map[string]*roleEntry, len(byName)), sorted: make([]*roleEntry, 0, len(byName))}
	for _, e := range byName {
		sn.byArn[e.role.Arn] = e
		sn.sorted = append(sn.sorted, e)
	}
	slices.SortFunc(sn.sorted, func(a, b *roleEntry) int { return strings.Compare(a.lower, b.lower) })
	return sn
}

// Open opens the roles file at path, creating it (and its directory) when
// absent. The file must have been written for the same account.
func Open(path string, opts Options) (*Store, error) {
	if !isAccountID(opts.Account) {
		return nil, fmt.Errorf("iam: roles file %s: Options.Account must be a 12-digit account id, got %q", path, opts.Account)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("iam: %w", err)
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, account: opts.Account, now: opts.Now, lock: lock, maxRoles: defaultMaxRoles}
	removeTemps(path)
	data, err := os.ReadFile(path)
	var roles map[string]*roleEntry
	switch {
	case errors.Is(err, os.ErrNotExist):
		roles = map[string]*roleEntry{}
		if err := s.save(roles); err != nil {
			lock.Close()
			return nil, err
		}
	case err != nil:
		lock.Close()
		return nil, fmt.Errorf("iam: %w", err)
	default:
		if roles, err = decodeFile(data, opts.Account); err != nil {
			lock.Close()
			return nil, fmt.Errorf("iam: roles file %s: %w", path, err)
		}
	}
	s.cur.Store(newSnapshot(roles))
	return s, nil
}

// Close releases the file lock. The reading methods keep answering from
// memory; the writing ones return ErrClosed.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lock.Close()
}

// write runs change on a copy of the current roles under the writer lock,
// then saves and publishes the result. When change returns an error nothing
// is written.
func (s *Store) write(change func(roles map[string]*roleEntry) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	cur := s.cur.Load()
	next := make(map[string]*roleEntry, len(cur.byName)+1)
	for k, v := range cur.byName {
		next[k] = v
	}
	if err := change(next); err != nil {
		return err
	}
	if err := s.save(next); err != nil {
		return err
	}
	s.cur.Store(newSnapshot(next))
	return nil
}

func (s *Store) save(roles map[string]*roleEntry) error {
	if err := writeFileAtomic(s.path, encodeFile(roles, s.account)); err != nil {
		return fmt.Errorf("iam: roles file %s: %w", s.path, err)
	}
	return nil
}

// The roles file.

type fileDoc struct {
	Format  string
	Version int
	Account string
	Roles   []fileRole
}

type fileRole struct {
	RoleName                 string
	RoleId                   string
	Path                     string
	CreateDate               time.Time
	AssumeRolePolicyDocument string
	Description              string `json:",omitempty"`
	MaxSessionDuration       int
	Tags                     []Tag        `json:",omitempty"`
	Policies                 []filePolicy `json:",omitempty"`
}

type filePolicy struct {
	PolicyName     string
	PolicyDocument string
}

func encodeFile(roles map[string]*roleEntry, account string) []byte {
	doc := fileDoc{Format: fileFormat, Version: fileVersion, Account: account, Roles: []fileRole{}}
	for _, e := range newSnapshot(roles).sorted {
		r := &e.role
		fr := fileRole{RoleName: r.RoleName, RoleId: r.RoleId, Path: r.Path, CreateDate: r.CreateDate,
			AssumeRolePolicyDocument: r.AssumeRolePolicyDocument, Description: r.Description,
			MaxSessionDuration: r.MaxSessionDuration, Tags: r.Tags}
		for _, name := range e.policyNames {
			fr.Policies = append(fr.Policies, filePolicy{PolicyName: name, PolicyDocument: e.policies[name].doc})
		}
		doc.Roles = append(doc.Roles, fr)
	}
	b, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		panic(err) // strings, numbers and times: cannot fail
	}
	return append(b, '\n')
}

// decodeFile reads a roles file and checks everything in it as CreateRole
// and PutRolePolicy would: a damaged or hand-edited file is an error naming
// the bad item, never a panic or a role that could not have been created.
func decodeFile(data []byte, account string) (map[string]*roleEntry, error) {
	var doc fileDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("corrupt file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("corrupt file: data after the JSON document")
	}
	if doc.Format != fileFormat {
		return nil, fmt.Errorf("not an IAM roles file (Format %q)", doc.Format)
	}
	if doc.Version != fileVersion {
		return nil, fmt.Errorf("file version %d; this vpcflow reads version %d", doc.Version, fileVersion)
	}
	if doc.Account != account {
		return nil, fmt.Errorf("the roles belong to account %q, not %q", doc.Account, account)
	}
	roles := map[string]*roleEntry{}
	ids := map[string]bool{}
	for i := range doc.Roles {
		e, err := doc.Roles[i].entry(account)
		if err != nil {
			return nil, fmt.Errorf("Roles[%d]: %w", i, err)
		}
		if _, dup := roles[e.lower]; dup {
			return nil, fmt.Errorf("Roles[%d]: role %s listed twice (names are unique without case)", i, e.role.RoleName)
		}
		if ids[e.role.RoleId] {
			return nil, fmt.Errorf("Roles[%d]: role id %s used twice", i, e.role.RoleId)
		}
		roles[e.lower], ids[e.role.RoleId] = e, true
	}
	return roles, nil
}

func (fr *fileRole) entry(account string) (*roleEntry, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("role %q: %s", fr.RoleName, fmt.Sprintf(format, args...))
	}
	var v violations
	v.str(fr.RoleName, "RoleName", 1, maxRoleName, patName, isName)
	v.str(fr.Path, "Path", 1, maxPath, patPath, isPath)
	v.str(fr.Description, "Description", 0, maxDescription, patDesc, isDescription)
	v.num(fr.MaxSessionDuration, "MaxSessionDuration", minSession, maxSession)
	checkTags(&v, fr.Tags)
	if err := v.err(); err != nil {
		return nil, bad("%s", err.(*Error).Message)
	}
	if !isRoleID(fr.RoleId) {
		return nil, bad("bad RoleId %q", fr.RoleId)
	}
	if fr.CreateDate.IsZero() {
		return nil, bad("no CreateDate")
	}
	if dup := duplicateTagKey(fr.Tags); dup != "" {
		return nil, bad("tag key %q twice", dup)
	}
	trust, err := parsePolicy(fr.AssumeRolePolicyDocument, trustPolicy)
	if err != nil {
		return nil, bad("AssumeRolePolicyDocument: %v", err)
	}
	e := &roleEntry{
		role: Role{RoleName: fr.RoleName, RoleId: fr.RoleId, Arn: roleArn(account, fr.Path, fr.RoleName), Path: fr.Path,
			CreateDate: fr.CreateDate.UTC(), AssumeRolePolicyDocument: fr.AssumeRolePolicyDocument,
			Description: fr.Description, MaxSessionDuration: fr.MaxSessionDuration, Tags: slices.Clone(fr.Tags)},
		lower: strings.ToLower(fr.RoleName), trust: trust, policies: map[string]inlinePolicy{},
	}
	for j, p := range fr.Policies {
		if !isName(p.PolicyName) || len(p.PolicyName) > maxPolicyName {
			return nil, bad("Policies[%d]: bad policy name %q", j, p.PolicyName)
		}
		if _, dup := e.policies[p.PolicyName]; dup {
			return nil, bad("Policies[%d]: policy %s listed twice", j, p.PolicyName)
		}
		parsed, err := parsePolicy(p.PolicyDocument, identityPolicy)
		if err != nil || !isDocument(p.PolicyDocument) {
			return nil, bad("Policies[%d] (%s): %v", j, p.PolicyName, err)
		}
		e.policies[p.PolicyName] = inlinePolicy{doc: p.PolicyDocument, parsed: parsed}
		e.policyNames = append(e.policyNames, p.PolicyName)
	}
	slices.Sort(e.policyNames)
	return e, nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsynced, renamed over path, then the directory fsynced so the
// rename itself is durable.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// removeTemps deletes temporary files a crash left behind (the lock is held,
// so no writer is using them).
func removeTemps(path string) {
	olds, _ := filepath.Glob(path + ".tmp-*")
	for _, o := range olds {
		os.Remove(o)
	}
}

// lockFile takes PATH.lock. flock is released by the kernel when the
// process dies, so a crash leaves no stale lock.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("iam: lock roles file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("iam: roles file %s is open elsewhere (another process, or another Open in this one)", path)
		}
		return nil, fmt.Errorf("iam: lock roles file %s: %w", path, err)
	}
	return f, nil
}
