// Package netstate is the declared network of a running service as EC2
// keeps it: VPCs, subnets, security groups and their rules, network ACLs,
// network interfaces and tags, changed through EC2's API while packets
// flow, and kept in one JSON file of the data dir. It exists so that
// `vpcflow serve` can let users edit the network as they would on AWS
// (with AWS's parameters, defaults, validation and error codes) and have
// the next packet judged by the new rules: every change yields a new
// *topology.Topology, built by topology.Parse from the stored document,
// which is itself a topology file. docs/netstate.md describes what is
// supported, the defaults, the error codes and how the state relates to
// the --topology file.
package netstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vpcflow/vpcflow/topology"
)

// Options configure Open.
type Options struct {
	// Account (12 digits) and Region are the identity of the network; both
	// are required. The file remembers them and refuses to open under
	// another identity, and a topology file naming another account or
	// Region is refused.
	Account, Region string
	// Now stamps the file's Updated time; time.Now when nil.
	Now func() time.Time
}

// ErrClosed is returned by the writing methods after Close.
var ErrClosed = errors.New("netstate: store is closed")

const (
	fileFormat  = "vpcflow network state"
	fileVersion = 1
)

// Store is the network of one account and Region. It is kept in a JSON
// file rewritten whole on every change (a temporary file in the same
// directory, fsynced, renamed over the old one, the directory fsynced), so
// a change is durable when its method returns and a crash leaves the old or
// the new network, never a mix. The file is flock'ed (PATH.lock) while the
// store is open.
//
// Readers (Topology, Network, DescribeSecurityGroupRules) never wait for a
// writer: they read an immutable snapshot that each successful change
// replaces. Writers are serialised. All methods are safe for concurrent use.
type Store struct {
	path string
	opts Options
	lock *os.File

	wmu    sync.Mutex // serialises writers and Close
	closed bool
	cur    atomic.Pointer[snapshot]
}

type snapshot struct {
	st      *state
	top     *topology.Topology
	version int // 0: no network yet
	source  string
	updated time.Time
}

// Open opens the state file at path, creating it (and its directory) when
// absent; a new store holds no network (version 0) until Seed, Replace or a
// mutation. A file that does not read back as a valid network is an error
// naming the problem; the file is left as it is.
func Open(path string, opts Options) (*Store, error) {
	if !isAccount(opts.Account) || opts.Region == "" {
		return nil, fmt.Errorf("netstate: %s: Options.Account (12 digits) and Region are required", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("netstate: %w", err)
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: opts, lock: lock}
	removeTemps(path)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		snap, err := s.emptySnapshot()
		if err == nil {
			err = s.save(snap)
		}
		if err != nil {
			lock.Close()
			return nil, err
		}
		s.cur.Store(snap)
	case err != nil:
		lock.Close()
		return nil, fmt.Errorf("netstate: %w", err)
	default:
		snap, err := s.decode(data)
		if err != nil {
			lock.Close()
			return nil, fmt.Errorf("netstate: %s: %w", path, err)
		}
		// A state read back differs from the file only when the file was
		// edited by hand (a rule without an id, a missing default ACL):
		// write what was made of it, so the ids given now stay.
		if !bytes.Equal(s.encode(snap), data) {
			if err := s.save(snap); err != nil {
				lock.Close()
				return nil, err
			}
		}
		s.cur.Store(snap)
	}
	return s, nil
}

func isAccount(s string) bool {
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

// Close releases the file lock. Readers keep answering from memory; the
// writing methods return ErrClosed.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.lock.Close()
}

// Topology returns the current network, built by topology.Parse from the
// stored document, and its version: 0 while the store holds no network
// (the topology is then empty), then one more at every change, across
// restarts. The topology is shared and read-only.
func (s *Store) Topology() (*topology.Topology, int) {
	snap := s.cur.Load()
	return snap.top, snap.version
}

// Empty reports whether the store holds no network yet, so that Seed
// would take the topology file's declaration.
func (s *Store) Empty() bool { return s.cur.Load().version == 0 }

// Network returns a copy of the current network as a topology file's
// content (security groups with their IpPermissions), for Describe calls
// and for `json.Marshal`ling into a topology file.
func (s *Store) Network() *Network {
	n := s.cur.Load().st.clone().render()
	return n
}

// Seed gives an empty store the network a topology file declares (its
// name is used in messages): this is the first start of a data dir. Once
// the store holds a network (seeded, replaced, or changed through the
// API), the data dir's state is the truth and Seed does nothing: it does
// not even read the file, so a later edit of the file neither applies nor
// fails the start. Replace applies a file on purpose; deleting the state
// file (with the service stopped) starts over from the file.
//
// The file must be one that topology.Parse accepts (its errors are
// returned as they are) and name this store's account and Region, or none.
func (s *Store) Seed(name string, topologyFile []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.cur.Load().version != 0 {
		return nil
	}
	return s.load(name, topologyFile, newHints())
}

// Replace makes the topology file's network the state, whatever the
// store held (an explicit reload, e.g. on SIGHUP). What the file declares
// keeps the file's ids; what the store has to make (security group rule
// ids, ACL association ids, a default network ACL or security group the
// file leaves out) keeps the id it had in the state before, when the same
// thing existed there, so a reload of an unchanged file changes no id.
func (s *Store) Replace(name string, topologyFile []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.load(name, topologyFile, hintsOf(s.cur.Load().st))
}

func (s *Store) load(name string, data []byte, h *hints) error {
	if _, err := topology.Parse(name, data); err != nil {
		return err
	}
	n, err := readTopologyFile(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	st, err := s.normalize(n, h)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	_, err = s.commit(st, name)
	return err
}

// errNoChange, returned by a mutation, means it succeeded without changing
// anything: nothing is written and the version stays.
var errNoChange = errors.New("no change")

// mutate runs f on a copy of the state and commits the result: the change
// is all or nothing.
func (s *Store) mutate(f func(st *state, u ids) error) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closed {
		return 0, ErrClosed
	}
	cur := s.cur.Load()
	next := cur.st.clone()
	if err := f(next, idsOf(next)); err != nil {
		if err == errNoChange {
			return cur.version, nil
		}
		return 0, err
	}
	return s.commit(next, cur.source)
}

// commit checks that topology accepts next, writes it and publishes it.
func (s *Store) commit(next *state, source string) (int, error) {
	next.canonRules()
	top, err := topology.Parse(s.path, next.document())
	if err != nil {
		return 0, errf(CodeInvalidParameterValue, "the change would leave a network vpcflow cannot use: %v", err)
	}
	snap := &snapshot{st: next, top: top, version: s.cur.Load().version + 1, source: source,
		updated: s.opts.Now().UTC().Truncate(time.Millisecond)}
	if err := s.save(snap); err != nil {
		return 0, err
	}
	s.cur.Store(snap)
	return snap.version, nil
}

func (s *Store) emptySnapshot() (*snapshot, error) {
	st := &state{net: Network{AccountId: s.opts.Account, Region: s.opts.Region}}
	top, err := topology.Parse(s.path, st.document())
	if err != nil {
		return nil, fmt.Errorf("netstate: %w", err) // only with an identity topology refuses
	}
	return &snapshot{st: st, top: top}, nil
}

// The file.

type fileDoc struct {
	Format         string
	Version        int
	Account        string
	Region         string
	NetworkVersion int
	Source         string    `json:",omitempty"` // the topology file last seeded or replaced from
	Updated        time.Time `json:",omitzero"`
	// Network is a topology file: `jq .Network FILE` is one.
	Network *Network `json:",omitempty"`
	// SecurityGroupRules holds what the topology format has no place for:
	// the id and tags of each rule of Network's security groups.
	SecurityGroupRules []fileRule `json:",omitempty"`
}

type fileRule struct {
	SecurityGroupRuleId string
	GroupId             string
	IsEgress            bool
	IpProtocol          string
	FromPort            int
	ToPort              int
	CidrIpv4            string `json:",omitempty"`
	CidrIpv6            string `json:",omitempty"`
	PrefixListId        string `json:",omitempty"`
	ReferencedGroupId   string `json:",omitempty"`
	Tags                []Tag  `json:",omitempty"`
}

func (s *Store) encode(snap *snapshot) []byte {
	doc := fileDoc{Format: fileFormat, Version: fileVersion, Account: s.opts.Account, Region: s.opts.Region,
		NetworkVersion: snap.version, Source: snap.source, Updated: snap.updated}
	if snap.version > 0 {
		doc.Network = snap.st.render()
		for _, r := range snap.st.rules {
			fr := fileRule{SecurityGroupRuleId: r.SecurityGroupRuleId, GroupId: r.GroupId, IsEgress: r.IsEgress,
				IpProtocol: r.IpProtocol, FromPort: r.FromPort, ToPort: r.ToPort, CidrIpv4: r.CidrIpv4,
				CidrIpv6: r.CidrIpv6, PrefixListId: r.PrefixListId, Tags: r.Tags}
			if r.ReferencedGroupInfo != nil {
				fr.ReferencedGroupId = r.ReferencedGroupInfo.GroupId
			}
			doc.SecurityGroupRules = append(doc.SecurityGroupRules, fr)
		}
	}
	b, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	return append(b, '\n')
}

// decode reads a state file, checking everything: a damaged or
// hand-edited file is an error naming the problem, never a panic or a
// store that disagrees with itself.
func (s *Store) decode(data []byte) (*snapshot, error) {
	var doc fileDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("corrupt file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("corrupt file: data after the JSON document")
	}
	switch {
	case doc.Format != fileFormat:
		return nil, fmt.Errorf("not a network state file (Format %q)", doc.Format)
	case doc.Version != fileVersion:
		return nil, fmt.Errorf("file version %d; this vpcflow reads version %d", doc.Version, fileVersion)
	case doc.Account != s.opts.Account || doc.Region != s.opts.Region:
		return nil, fmt.Errorf("the network belongs to account %q, Region %q, not %q, %q", doc.Account, doc.Region, s.opts.Account, s.opts.Region)
	case doc.NetworkVersion < 0:
		return nil, fmt.Errorf("NetworkVersion %d is negative", doc.NetworkVersion)
	case doc.Network == nil && (doc.NetworkVersion != 0 || len(doc.SecurityGroupRules) > 0):
		return nil, fmt.Errorf("no Network, but NetworkVersion %d and %d security group rules", doc.NetworkVersion, len(doc.SecurityGroupRules))
	case doc.Network != nil && doc.NetworkVersion == 0:
		return nil, errors.New("a Network with NetworkVersion 0 (0 means no network)")
	}
	if doc.Network == nil {
		snap, err := s.emptySnapshot()
		if err != nil {
			return nil, err
		}
		snap.updated = doc.Updated
		return snap, nil
	}
	h := newHints()
	seen := map[string]bool{}
	for i, fr := range doc.SecurityGroupRules {
		if !isID(fr.SecurityGroupRuleId, "sgr") {
			return nil, fmt.Errorf("SecurityGroupRules[%d]: bad rule id %q", i, fr.SecurityGroupRuleId)
		}
		if seen[fr.SecurityGroupRuleId] {
			return nil, fmt.Errorf("SecurityGroupRules[%d]: rule %s listed twice", i, fr.SecurityGroupRuleId)
		}
		seen[fr.SecurityGroupRuleId] = true
		r := SecurityGroupRule{SecurityGroupRuleId: fr.SecurityGroupRuleId, GroupId: fr.GroupId, IsEgress: fr.IsEgress,
			IpProtocol: fr.IpProtocol, FromPort: fr.FromPort, ToPort: fr.ToPort, CidrIpv4: fr.CidrIpv4,
			CidrIpv6: fr.CidrIpv6, PrefixListId: fr.PrefixListId, Tags: fr.Tags}
		if fr.ReferencedGroupId != "" {
			r.ReferencedGroupInfo = &ReferencedSecurityGroup{GroupId: fr.ReferencedGroupId}
		}
		k := ruleKey(&r)
		if _, dup := h.rules[k]; dup {
			return nil, fmt.Errorf("SecurityGroupRules[%d]: rule %s repeats another rule of %s", i, fr.SecurityGroupRuleId, fr.GroupId)
		}
		h.rules[k] = r
	}
	st, err := s.normalize(doc.Network, h)
	if err != nil {
		return nil, fmt.Errorf("Network: %w", err)
	}
	for i, fr := range doc.SecurityGroupRules {
		if !h.used[ruleKeyOf(fr)] {
			return nil, fmt.Errorf("SecurityGroupRules[%d]: rule %s matches no permission of security group %q in Network", i, fr.SecurityGroupRuleId, fr.GroupId)
		}
	}
	top, err := topology.Parse(s.path, st.document())
	if err != nil {
		return nil, fmt.Errorf("Network is not a valid topology:\n%w", err)
	}
	return &snapshot{st: st, top: top, version: doc.NetworkVersion, source: doc.Source, updated: doc.Updated}, nil
}

func ruleKeyOf(fr fileRule) string {
	r := SecurityGroupRule{GroupId: fr.GroupId, IsEgress: fr.IsEgress, IpProtocol: fr.IpProtocol, FromPort: fr.FromPort,
		ToPort: fr.ToPort, CidrIpv4: fr.CidrIpv4, CidrIpv6: fr.CidrIpv6, PrefixListId: fr.PrefixListId}
	if fr.ReferencedGroupId != "" {
		r.ReferencedGroupInfo = &ReferencedSecurityGroup{GroupId: fr.ReferencedGroupId}
	}
	return ruleKey(&r)
}

func (s *Store) save(snap *snapshot) error {
	if err := writeFileAtomic(s.path, s.encode(snap)); err != nil {
		return fmt.Errorf("netstate: %s: %w", s.path, err)
	}
	return nil
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

// removeTemps deletes temporary files a crash left behind (the lock is
// held, so no writer is using them).
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
		return nil, fmt.Errorf("netstate: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("netstate: %s is open elsewhere (another process, or another Open in this one)", path)
		}
		return nil, fmt.Errorf("netstate: lock %s: %w", path, err)
	}
	return f, nil
}
