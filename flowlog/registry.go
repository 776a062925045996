package flowlog

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vpcflow/vpcflow/topology"
)

// The registry of a running service: the flow logs of one account and Region,
// created, described and deleted through the EC2 API (or seeded from a
// topology file) while traffic flows, and kept in one JSON file of the data
// dir. docs/flow-log-registry.md describes the file, the AWS rules followed
// and the choices made where AWS says nothing.

// Values of Entry.DeliverLogsStatus and Entry.FlowLogStatus, as
// DescribeFlowLogs reports them.
const (
	DeliverySuccess = "SUCCESS"
	DeliveryFailed  = "FAILED"
	FlowLogActive   = "ACTIVE"
)

// Values of Entry.DeliverLogsErrorMessage: the three messages the FlowLog
// shape of the EC2 API documents.
const (
	DeliveryAccessError  = "Access error"
	DeliveryRateLimited  = "Rate limited"
	DeliveryUnknownError = "Unknown error"
)

// Error codes the registry returns, besides those of Build.
const (
	CodeFlowLogAlreadyExists        = "FlowLogAlreadyExists"
	CodeFlowLogsLimitExceeded       = "FlowLogsLimitExceeded"
	CodeFlowLogNotFound             = "InvalidFlowLogId.NotFound"
	CodeIdempotentParameterMismatch = "IdempotentParameterMismatch"
)

// flowLogExistsMessage is the message AWS gives with FlowLogAlreadyExists
// when CreateFlowLogs names a resource that already has a flow log with the
// same configuration and destination.
const flowLogExistsMessage = "Error. There is an existing Flow Log with the same configuration and log destination."

// AWS's descriptions of the codes a per-item failure carries (EC2 API
// reference, "Error codes"), used as the Message of an Unsuccessful item.
var unsuccessfulMessages = map[string]string{
	CodeFlowLogNotFound:                  "The specified flow log does not exist.",
	"InvalidVpcID.NotFound":              "The specified VPC does not exist.",
	"InvalidSubnetID.NotFound":           "The specified subnet does not exist.",
	"InvalidNetworkInterfaceID.NotFound": "The specified network interface does not exist.",
}

const (
	registryFormat  = "vpcflow flow-log registry"
	registryVersion = 1
	// tokenTTL is how long a ClientToken is remembered. AWS promises at
	// least 24 hours; the registry keeps a token exactly that long.
	tokenTTL       = 24 * time.Hour
	maxClientToken = 64   // "up to 64 ASCII characters"
	maxDeleteIDs   = 1000 // DeleteFlowLogs: "Maximum of 1000 flow log IDs"
)

// RegistryOptions configure OpenRegistry.
type RegistryOptions struct {
	// Account and Region are the identity of the registry; both are
	// required. A registry file remembers them and refuses to open under
	// another identity. They are the OwnerID and Region of flow logs built
	// without a topology (single-interface mode), and the fallback when the
	// topology names no account or Region.
	Account, Region string
	// Now is the clock of CreationTime and of the ClientToken expiry;
	// time.Now when nil.
	Now func() time.Time
	// MaxPerResource is the quota of flow logs on one VPC, subnet or
	// interface: beyond it CreateFlowLogs fails with FlowLogsLimitExceeded.
	// Default 50, AWS's default quota ("Flow logs per single network
	// interface, single subnet, or single VPC in a Region",
	// https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html).
	MaxPerResource int
}

// Entry is one flow log of the registry, with what DescribeFlowLogs reports
// about it.
type Entry struct {
	// FlowLog is built by Build from Spec. It is shared with the pipeline
	// (Active returns the same pointer while the flow log lives) and must
	// not be modified.
	FlowLog *FlowLog
	// Spec is the CreateFlowLogs request as given, with ResourceIds narrowed
	// to this flow log's resource (AWS makes one flow log per resource id).
	// It is what the file keeps; FlowLog is rebuilt from it on load.
	Spec                     Spec
	CreationTime             time.Time // UTC, millisecond precision
	DeliverLogsStatus        string    // DeliverySuccess or DeliveryFailed
	DeliverLogsErrorMessage  string    // one of the Delivery* messages; "" on SUCCESS
	DeliverLogsPermissionArn string
	FlowLogStatus            string // FlowLogActive
	Seeded                   bool   // came from a topology file (Seed)
}

// Unsuccessful is an UnsuccessfulItem of CreateFlowLogs (ResourceID is the
// resource) or DeleteFlowLogs (ResourceID is the flow log id).
type Unsuccessful struct {
	ResourceID string `json:"ResourceId"`
	Code       string
	Message    string
}

// Filter selects flow logs as DescribeFlowLogs does: the ids in FlowLogIds
// (all when empty), then every term of Filters (terms are ANDed, the values
// of one term ORed, values compared exactly).
type Filter struct {
	FlowLogIds []string
	Filters    []FilterTerm
}

// FilterTerm is one Filter.N of DescribeFlowLogs. Names: deliver-log-status,
// log-destination-type, flow-log-id, log-group-name, resource-id,
// traffic-type, tag:<key> (the tag's value is one of Values) and tag-key
// (the flow log has a tag with one of the keys in Values).
type FilterTerm struct {
	Name   string
	Values []string
}

// DeliveryError is a delivery failure as DescribeFlowLogs reports it: Message
// is DeliveryAccessError, DeliveryRateLimited or DeliveryUnknownError, Err
// the cause (for logs; it is not stored).
type DeliveryError struct {
	Message string
	Err     error
}

func (e *DeliveryError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + ": " + e.Err.Error()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// ErrRegistryClosed is returned by the writing methods after Close.
var ErrRegistryClosed = errors.New("flowlog: registry is closed")

// Registry is the set of flow logs of one account and Region, kept in a JSON
// file that is rewritten whole on every change: written to a temporary file
// in the same directory, fsynced, renamed over the old one, and the
// directory fsynced. A change is durable when its method returns without
// error, and a crash at any moment leaves the old or the new file, never a
// mix. The file is flock'ed (PATH.lock) while the registry is open.
//
// Readers (Describe, Active, Version) never wait for a write: they read an
// immutable snapshot that a successful write replaces. All methods are safe
// for concurrent use.
type Registry struct {
	path string
	opts RegistryOptions
	lock *os.File

	wmu    sync.Mutex // serialises writers and Close
	closed bool
	cur    atomic.Pointer[snapshot]

	cmu     sync.Mutex
	changed chan struct{} // closed and replaced at every change
}

type snapshot struct {
	version uint64
	st      *state
	active  []*FlowLog // sorted by id
}

// state is the content of the registry file. A state is never modified once
// published; writers change a clone.
type state struct {
	entries      map[string]Entry // by flow log id
	deletedSeeds map[string]bool  // ids of seeded flow logs deleted by the user
	tokens       map[string]tokenRecord
}

type tokenRecord struct {
	time         time.Time
	request      Spec // canonical (see canonicalSpec)
	created      []Entry
	unsuccessful []Unsuccessful
}

func (st *state) clone() *state {
	return &state{entries: maps.Clone(st.entries), deletedSeeds: maps.Clone(st.deletedSeeds), tokens: maps.Clone(st.tokens)}
}

func newState() *state {
	return &state{entries: map[string]Entry{}, deletedSeeds: map[string]bool{}, tokens: map[string]tokenRecord{}}
}

// OpenRegistry opens the registry file at path, creating it (and its
// directory) when absent. The file must have been written for the same
// Account and Region.
func OpenRegistry(path string, opts RegistryOptions) (*Registry, error) {
	if opts.Account == "" || opts.Region == "" {
		return nil, fmt.Errorf("flowlog: registry %s: RegistryOptions.Account and Region are required", path)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxPerResource <= 0 {
		opts.MaxPerResource = 50
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("flowlog: registry: %w", err)
	}
	lock, err := lockRegistry(path)
	if err != nil {
		return nil, err
	}
	r := &Registry{path: path, opts: opts, lock: lock, changed: make(chan struct{})}
	removeTemps(path)
	data, err := os.ReadFile(path)
	var st *state
	switch {
	case errors.Is(err, os.ErrNotExist):
		st = newState()
		if err := r.save(st); err != nil {
			lock.Close()
			return nil, err
		}
	case err != nil:
		lock.Close()
		return nil, fmt.Errorf("flowlog: registry: %w", err)
	default:
		if st, err = decodeRegistry(data, opts.Account, opts.Region); err != nil {
			lock.Close()
			return nil, fmt.Errorf("flowlog: registry %s: %w", path, err)
		}
	}
	r.publish(st, 1)
	return r, nil
}

// Close releases the file lock. Describe, Active and Version keep answering
// from memory; the writing methods return ErrRegistryClosed.
func (r *Registry) Close() error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return r.lock.Close()
}

// Version increases by one at every change of the flow logs or of their
// status; it is 1 after OpenRegistry.
func (r *Registry) Version() uint64 { return r.cur.Load().version }

// Changes returns a channel that is closed at the next change. A watcher
// takes the channel before reading the state, so no change is missed:
//
//	for {
//		ch := reg.Changes()
//		apply(reg.Active())
//		select {
//		case <-ch:
//		case <-ctx.Done():
//			return
//		}
//	}
func (r *Registry) Changes() <-chan struct{} {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	return r.changed
}

// Active returns the current flow logs sorted by id, for the pipeline.
func (r *Registry) Active() []*FlowLog { return slices.Clone(r.cur.Load().active) }

// Describe returns copies of the flow logs f selects, sorted by
// CreationTime, then id. Ids of FlowLogIds that do not exist select nothing
// (no error). An unknown filter name, or a term without values, is an
// *Error with code InvalidParameterValue.
func (r *Registry) Describe(f Filter) ([]Entry, error) {
	match, err := compileFilters(f.Filters)
	if err != nil {
		return nil, err
	}
	st := r.cur.Load().st
	var out []Entry
	pick := func(e Entry) {
		if match(&e) {
			out = append(out, e.clone())
		}
	}
	if len(f.FlowLogIds) > 0 {
		seen := map[string]bool{}
		for _, id := range f.FlowLogIds {
			if e, ok := st.entries[id]; ok && !seen[id] {
				seen[id] = true
				pick(e)
			}
		}
	} else {
		for _, e := range st.entries {
			pick(e)
		}
	}
	sortEntries(out)
	return out, nil
}

// Create is CreateFlowLogs: spec is validated with Build and one flow log is
// stored per resource id, with a random id ("fl-" and 17 lowercase hex
// digits). t is the topology resources are looked up in; nil is
// single-interface mode (no look-up).
//
// Request-level problems are an *Error (Build's codes, or
// IdempotentParameterMismatch, InvalidParameterValue for a bad ClientToken);
// a failed write is a plain error, and nothing changed. A resource that
// does not exist is an Unsuccessful item with the NotFound code of its type,
// and the other resources are created. A duplicate — a flow log with the
// same resource, traffic type, destination and format exists, or the same
// resource is named twice — fails the whole request with an *Error of code
// FlowLogAlreadyExists and creates nothing, as AWS answers it: a
// request-level error, not an Unsuccessful item.
//
// A non-empty clientToken makes the call idempotent for 24 hours: the same
// token with the same request returns the first call's flow logs (in their
// current state; as they were created if deleted since) and Unsuccessful
// items, and changes nothing; with a different request it is an *Error with
// code IdempotentParameterMismatch.
func (r *Registry) Create(t *topology.Topology, spec *Spec, clientToken string) (created []*Entry, unsuccessful []Unsuccessful, err error) {
	const where = "CreateFlowLogs"
	if spec == nil {
		return nil, nil, &Error{Where: where, Code: "MissingParameter", Msg: "no request"}
	}
	if err := checkClientToken(clientToken); err != nil {
		return nil, nil, err
	}
	req := canonicalSpec(spec)
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return nil, nil, ErrRegistryClosed
	}
	cur := r.cur.Load().st
	now := r.now()
	if tr, ok := cur.tokens[clientToken]; ok && clientToken != "" && now.Sub(tr.time) < tokenTTL {
		if !sameRequest(&tr.request, &req) {
			return nil, nil, &Error{Where: where + ".ClientToken", Code: CodeIdempotentParameterMismatch,
				Msg: "The request uses the same client token as a previous, but non-identical request."}
		}
		for _, e := range tr.created {
			if live, ok := cur.entries[e.FlowLog.ID]; ok {
				e = live
			}
			c := e.clone()
			created = append(created, &c)
		}
		return created, slices.Clone(tr.unsuccessful), nil
	}
	// Problems of the request as a whole come first, as one error.
	if _, err := Build(nil, spec, where); err != nil {
		return nil, nil, err
	}
	next := cur.clone()
	next.pruneTokens(now)
	var made []Entry
	for _, id := range spec.ResourceIds {
		one := narrowSpec(spec, id)
		fls, err := Build(t, &one, where)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && strings.HasSuffix(e.Code, ".NotFound") {
				unsuccessful = append(unsuccessful, newUnsuccessful(id, e.Code))
				continue
			}
			return nil, nil, err
		}
		f := fls[0]
		r.identify(f)
		if next.conflict(f) != "" {
			return nil, nil, &Error{Where: where + ".ResourceIds", Code: CodeFlowLogAlreadyExists, Msg: flowLogExistsMessage}
		}
		if n := next.onResource(f.ResourceID); n >= r.opts.MaxPerResource {
			return nil, nil, &Error{Where: where + ".ResourceIds", Code: CodeFlowLogsLimitExceeded,
				Msg: fmt.Sprintf("You have exceeded the limit of %d flow logs for resource %s", r.opts.MaxPerResource, f.ResourceID)}
		}
		f.ID = next.newID()
		e := newEntry(f, one, now, false)
		next.entries[f.ID] = e
		made = append(made, e)
	}
	if clientToken != "" {
		next.tokens[clientToken] = tokenRecord{time: now, request: req, created: made, unsuccessful: slices.Clone(unsuccessful)}
	} else if len(made) == 0 {
		return nil, unsuccessful, nil
	}
	if err := r.commit(next, len(made) > 0); err != nil {
		return nil, nil, err
	}
	for _, e := range made {
		c := e.clone()
		created = append(created, &c)
	}
	return created, unsuccessful, nil
}

// onResource counts the flow logs of a resource.
func (st *state) onResource(id string) int {
	n := 0
	for _, e := range st.entries {
		if e.FlowLog.ResourceID == id {
			n++
		}
	}
	return n
}

// Seed adds the flow logs declared in the topology's FlowLogs (ids derived
// from the definition, as FromTopology makes them) that the registry does
// not hold, and returns them. It is idempotent: a flow log already present
// is left as it is (status, CreationTime), and a seeded flow log deleted
// with Delete is remembered and not added again, across restarts — until
// its definition changes, which gives it a new id. A declaration with the
// resource, traffic type, destination and format of another flow log is an
// *Error with code FlowLogAlreadyExists naming that flow log, and nothing is
// added. A seeded flow log later removed from the file stays until deleted.
func (r *Registry) Seed(t *topology.Topology) (added []*Entry, err error) {
	if t == nil || len(t.FlowLogs) == 0 {
		return nil, nil
	}
	if _, err := FromTopology(t); err != nil {
		return nil, err
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return nil, ErrRegistryClosed
	}
	now := r.now()
	next := r.cur.Load().st.clone()
	var made []Entry
	for i := range t.FlowLogs {
		s := &t.FlowLogs[i]
		where := fmt.Sprintf("%s:%d: FlowLogs[%d]", t.Name, s.Line, i)
		fls, err := Build(t, s, where)
		if err != nil {
			return nil, err
		}
		for _, f := range fls {
			if _, ok := next.entries[f.ID]; ok || next.deletedSeeds[f.ID] {
				continue
			}
			r.identify(f)
			if other := next.conflict(f); other != "" {
				return nil, &Error{Where: where, Code: CodeFlowLogAlreadyExists,
					Msg: fmt.Sprintf("flow log %s already has the resource %s, traffic type, destination and format of this one", other, f.ResourceID)}
			}
			e := newEntry(f, narrowSpec(s, f.ResourceID), now, true)
			next.entries[f.ID] = e
			made = append(made, e)
		}
	}
	if len(made) == 0 {
		return nil, nil
	}
	if err := r.commit(next, true); err != nil {
		return nil, err
	}
	for _, e := range made {
		c := e.clone()
		added = append(added, &c)
	}
	return added, nil
}

// Delete is DeleteFlowLogs: an unknown id is an Unsuccessful item with code
// InvalidFlowLogId.NotFound, the others are deleted (an id named twice is
// deleted once). An empty list, or more than 1,000 ids, is an *Error.
func (r *Registry) Delete(ids []string) (unsuccessful []Unsuccessful, err error) {
	const where = "DeleteFlowLogs.FlowLogIds"
	switch {
	case len(ids) == 0:
		return nil, &Error{Where: where, Code: "MissingParameter", Msg: "want at least one flow log id"}
	case len(ids) > maxDeleteIDs:
		return nil, &Error{Where: where, Code: "InvalidParameterValue", Msg: fmt.Sprintf("want at most %d flow log ids, got %d", maxDeleteIDs, len(ids))}
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return nil, ErrRegistryClosed
	}
	next := r.cur.Load().st.clone()
	removed := 0
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		e, ok := next.entries[id]
		if !ok {
			unsuccessful = append(unsuccessful, newUnsuccessful(id, CodeFlowLogNotFound))
			continue
		}
		delete(next.entries, id)
		if e.Seeded {
			next.deletedSeeds[id] = true
		}
		removed++
	}
	if removed == 0 {
		return unsuccessful, nil
	}
	if err := r.commit(next, true); err != nil {
		return nil, err
	}
	return unsuccessful, nil
}

// SetDeliveryStatus records the outcome of a delivery: nil is SUCCESS (and
// no message), an error is FAILED with the Message of a *DeliveryError in
// its chain, else DeliveryUnknownError. The file is written only when the
// status or message changes. An unknown id (a flow log deleted meanwhile)
// is an *Error with code InvalidFlowLogId.NotFound.
func (r *Registry) SetDeliveryStatus(id string, deliveryErr error) error {
	status, msg := DeliverySuccess, ""
	if deliveryErr != nil {
		status, msg = DeliveryFailed, DeliveryUnknownError
		var de *DeliveryError
		if errors.As(deliveryErr, &de) && de.Message != "" {
			msg = de.Message
		}
	}
	r.wmu.Lock()
	defer r.wmu.Unlock()
	if r.closed {
		return ErrRegistryClosed
	}
	cur := r.cur.Load().st
	e, ok := cur.entries[id]
	if !ok {
		return &Error{Where: "SetDeliveryStatus", Code: CodeFlowLogNotFound, Msg: fmt.Sprintf("flow log %s does not exist", id)}
	}
	if e.DeliverLogsStatus == status && e.DeliverLogsErrorMessage == msg {
		return nil
	}
	e.DeliverLogsStatus, e.DeliverLogsErrorMessage = status, msg
	next := cur.clone()
	next.entries[id] = e
	return r.commit(next, true)
}

func (r *Registry) now() time.Time { return r.opts.Now().UTC().Truncate(time.Millisecond) }

// identify fills what Build leaves empty: without a topology (or one that
// names no account or Region) the registry's identity.
func (r *Registry) identify(f *FlowLog) {
	if f.OwnerID == "" {
		f.OwnerID = r.opts.Account
	}
	if f.Region == "" {
		f.Region = r.opts.Region
	}
}

// commit writes next and publishes it; bump says whether the flow logs or
// their status changed (a ClientToken alone does not).
func (r *Registry) commit(next *state, bump bool) error {
	if err := r.save(next); err != nil {
		return err
	}
	v := r.cur.Load().version
	if bump {
		v++
	}
	r.publish(next, v)
	return nil
}

func (r *Registry) publish(st *state, version uint64) {
	old := r.cur.Load()
	active := make([]*FlowLog, 0, len(st.entries))
	for _, e := range st.entries {
		active = append(active, e.FlowLog)
	}
	slices.SortFunc(active, func(a, b *FlowLog) int { return strings.Compare(a.ID, b.ID) })
	r.cur.Store(&snapshot{version: version, st: st, active: active})
	if old != nil && version != old.version {
		r.cmu.Lock()
		close(r.changed)
		r.changed = make(chan struct{})
		r.cmu.Unlock()
	}
}

func (r *Registry) save(st *state) error {
	if err := writeFileAtomic(r.path, encodeRegistry(st, r.opts.Account, r.opts.Region)); err != nil {
		return fmt.Errorf("flowlog: registry %s: %w", r.path, err)
	}
	return nil
}

func newEntry(f *FlowLog, s Spec, now time.Time, seeded bool) Entry {
	return Entry{FlowLog: f, Spec: s, CreationTime: now, DeliverLogsStatus: DeliverySuccess,
		DeliverLogsPermissionArn: s.DeliverLogsPermissionArn, FlowLogStatus: FlowLogActive, Seeded: seeded}
}

func newUnsuccessful(id, code string) Unsuccessful {
	return Unsuccessful{ResourceID: id, Code: code, Message: unsuccessfulMessages[code]}
}

// clone copies e deeply enough that the caller can change it freely (the
// FlowLog is shared and read-only).
func (e Entry) clone() Entry {
	e.Spec = cloneSpec(&e.Spec)
	return e
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if c := a.CreationTime.Compare(b.CreationTime); c != 0 {
			return c
		}
		return strings.Compare(a.FlowLog.ID, b.FlowLog.ID)
	})
}

// configKey is what FlowLogAlreadyExists compares: resource, traffic type,
// destination (log group, or S3 bucket and prefix) and record format.
func configKey(f *FlowLog) string {
	dest := f.LogGroupName
	switch f.DestinationType {
	case DestS3:
		dest = f.Bucket + "/" + f.Prefix
	case DestFirehose:
		dest = f.LogDestination // the stream's ARN: two streams are two destinations
	}
	return strings.Join([]string{f.ResourceID, f.TrafficType, f.DestinationType, dest, f.Format.String()}, "\x00")
}

// conflict returns the id of a flow log with f's configuration key, or "".
func (st *state) conflict(f *FlowLog) string {
	k := configKey(f)
	for id, e := range st.entries {
		if configKey(e.FlowLog) == k {
			return id
		}
	}
	return ""
}

// newID returns a random id no flow log, tombstone or remembered response
// uses.
func (st *state) newID() string {
	for {
		var b [9]byte
		rand.Read(b[:])
		id := "fl-" + hex.EncodeToString(b[:])[:17]
		if !st.used(id) {
			return id
		}
	}
}

func (st *state) used(id string) bool {
	if _, ok := st.entries[id]; ok || st.deletedSeeds[id] {
		return true
	}
	for _, tr := range st.tokens {
		for _, e := range tr.created {
			if e.FlowLog.ID == id {
				return true
			}
		}
	}
	return false
}

func (st *state) pruneTokens(now time.Time) {
	for tok, tr := range st.tokens {
		if now.Sub(tr.time) >= tokenTTL {
			delete(st.tokens, tok)
		}
	}
}

func checkClientToken(tok string) error {
	if len(tok) > maxClientToken {
		return &Error{Where: "CreateFlowLogs.ClientToken", Code: "InvalidParameterValue", Msg: fmt.Sprintf("want at most %d characters, got %d", maxClientToken, len(tok))}
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x20 || tok[i] > 0x7e {
			return &Error{Where: "CreateFlowLogs.ClientToken", Code: "InvalidParameterValue", Msg: "want printable ASCII characters"}
		}
	}
	return nil
}

// cloneSpec copies s with no memory shared.
func cloneSpec(s *Spec) Spec {
	c := *s
	c.ResourceIds = slices.Clone(s.ResourceIds)
	if s.MaxAggregationInterval != nil {
		v := *s.MaxAggregationInterval
		c.MaxAggregationInterval = &v
	}
	if o := s.DestinationOptions; o != nil {
		d := *o
		if o.HiveCompatiblePartitions != nil {
			v := *o.HiveCompatiblePartitions
			d.HiveCompatiblePartitions = &v
		}
		if o.PerHourPartition != nil {
			v := *o.PerHourPartition
			d.PerHourPartition = &v
		}
		c.DestinationOptions = &d
	}
	c.TagSpecifications = nil
	for _, ts := range s.TagSpecifications {
		c.TagSpecifications = append(c.TagSpecifications, topology.TagSpecification{ResourceType: ts.ResourceType, Tags: slices.Clone(ts.Tags)})
	}
	return c
}

// narrowSpec is s for one resource.
func narrowSpec(s *Spec, id string) Spec {
	c := cloneSpec(s)
	c.ResourceIds = []string{id}
	return c
}

// canonicalSpec is s as ClientToken comparisons see it: no source line, and
// empty lists the same as absent ones.
func canonicalSpec(s *Spec) Spec {
	c := cloneSpec(s)
	c.Line = 0
	if len(c.ResourceIds) == 0 {
		c.ResourceIds = nil
	}
	for i := range c.TagSpecifications {
		if len(c.TagSpecifications[i].Tags) == 0 {
			c.TagSpecifications[i].Tags = nil
		}
	}
	if len(c.TagSpecifications) == 0 {
		c.TagSpecifications = nil
	}
	return c
}

func sameRequest(a, b *Spec) bool {
	ja, err1 := json.Marshal(canonicalSpec(a))
	jb, err2 := json.Marshal(canonicalSpec(b))
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// compileFilters turns DescribeFlowLogs filters into a predicate.
func compileFilters(terms []FilterTerm) (func(*Entry) bool, error) {
	var preds []func(*Entry) bool
	for _, t := range terms {
		bad := func(msg string) error {
			return &Error{Where: "DescribeFlowLogs.Filter", Code: "InvalidParameterValue", Msg: msg}
		}
		if len(t.Values) == 0 {
			return nil, bad(fmt.Sprintf("The filter '%s' needs at least one value", t.Name))
		}
		values := map[string]bool{}
		for _, v := range t.Values {
			values[v] = true
		}
		var field func(*Entry) string
		switch t.Name {
		case "deliver-log-status":
			field = func(e *Entry) string { return e.DeliverLogsStatus }
		case "log-destination-type":
			field = func(e *Entry) string { return e.FlowLog.DestinationType }
		case "flow-log-id":
			field = func(e *Entry) string { return e.FlowLog.ID }
		case "log-group-name":
			field = func(e *Entry) string { return e.FlowLog.LogGroupName }
		case "resource-id":
			field = func(e *Entry) string { return e.FlowLog.ResourceID }
		case "traffic-type":
			field = func(e *Entry) string { return e.FlowLog.TrafficType }
		case "tag-key":
			preds = append(preds, func(e *Entry) bool {
				return slices.ContainsFunc(e.FlowLog.Tags, func(tg Tag) bool { return values[tg.Key] })
			})
			continue
		default:
			key, ok := strings.CutPrefix(t.Name, "tag:")
			if !ok || key == "" {
				return nil, bad(fmt.Sprintf("The filter '%s' is invalid", t.Name))
			}
			preds = append(preds, func(e *Entry) bool {
				return slices.ContainsFunc(e.FlowLog.Tags, func(tg Tag) bool { return tg.Key == key && values[tg.Value] })
			})
			continue
		}
		preds = append(preds, func(e *Entry) bool { return values[field(e)] })
	}
	return func(e *Entry) bool {
		for _, p := range preds {
			if !p(e) {
				return false
			}
		}
		return true
	}, nil
}

// The registry file.

type fileDoc struct {
	Format       string
	Version      int
	Account      string
	Region       string
	FlowLogs     []fileEntry
	DeletedSeeds []string    `json:",omitempty"`
	ClientTokens []fileToken `json:",omitempty"`
}

type fileEntry struct {
	FlowLogId               string
	OwnerId                 string
	Region                  string
	CreationTime            time.Time
	DeliverLogsStatus       string
	DeliverLogsErrorMessage string `json:",omitempty"`
	FlowLogStatus           string
	Seeded                  bool `json:",omitempty"`
	Spec                    Spec
}

type fileToken struct {
	ClientToken  string
	Time         time.Time
	Request      Spec
	FlowLogs     []fileEntry    `json:",omitempty"`
	Unsuccessful []Unsuccessful `json:",omitempty"`
}

func toFile(e *Entry) fileEntry {
	return fileEntry{FlowLogId: e.FlowLog.ID, OwnerId: e.FlowLog.OwnerID, Region: e.FlowLog.Region, CreationTime: e.CreationTime,
		DeliverLogsStatus: e.DeliverLogsStatus, DeliverLogsErrorMessage: e.DeliverLogsErrorMessage,
		FlowLogStatus: e.FlowLogStatus, Seeded: e.Seeded, Spec: e.Spec}
}

func encodeRegistry(st *state, account, region string) []byte {
	doc := fileDoc{Format: registryFormat, Version: registryVersion, Account: account, Region: region, FlowLogs: []fileEntry{}}
	for _, id := range slices.Sorted(maps.Keys(st.entries)) {
		e := st.entries[id]
		doc.FlowLogs = append(doc.FlowLogs, toFile(&e))
	}
	doc.DeletedSeeds = slices.Sorted(maps.Keys(st.deletedSeeds))
	for _, tok := range slices.Sorted(maps.Keys(st.tokens)) {
		tr := st.tokens[tok]
		ft := fileToken{ClientToken: tok, Time: tr.time, Request: tr.request, Unsuccessful: tr.unsuccessful}
		for i := range tr.created {
			ft.FlowLogs = append(ft.FlowLogs, toFile(&tr.created[i]))
		}
		doc.ClientTokens = append(doc.ClientTokens, ft)
	}
	b, err := json.MarshalIndent(&doc, "", "  ")
	if err != nil {
		panic(err) // plain strings, numbers and times: cannot fail
	}
	return append(b, '\n')
}

// decodeRegistry reads a registry file, checking everything it holds: a
// damaged or hand-edited file is an error naming the bad item, never a
// panic or a registry that disagrees with itself.
func decodeRegistry(data []byte, account, region string) (*state, error) {
	var doc fileDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("corrupt file: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("corrupt file: data after the JSON document")
	}
	if doc.Format != registryFormat {
		return nil, fmt.Errorf("not a flow-log registry file (Format %q)", doc.Format)
	}
	if doc.Version != registryVersion {
		return nil, fmt.Errorf("file version %d; this vpcflow reads version %d", doc.Version, registryVersion)
	}
	if doc.Account != account || doc.Region != region {
		return nil, fmt.Errorf("the registry belongs to account %q, Region %q, not %q, %q", doc.Account, doc.Region, account, region)
	}
	st := newState()
	for i := range doc.FlowLogs {
		e, err := doc.FlowLogs[i].entry()
		if err != nil {
			return nil, fmt.Errorf("FlowLogs[%d]: %w", i, err)
		}
		if _, dup := st.entries[e.FlowLog.ID]; dup {
			return nil, fmt.Errorf("FlowLogs[%d]: flow log %s listed twice", i, e.FlowLog.ID)
		}
		st.entries[e.FlowLog.ID] = e
	}
	for i, id := range doc.DeletedSeeds {
		if !isFlowLogID(id) {
			return nil, fmt.Errorf("DeletedSeeds[%d]: bad flow log id %q", i, id)
		}
		if _, ok := st.entries[id]; ok {
			return nil, fmt.Errorf("DeletedSeeds[%d]: flow log %s is both present and deleted", i, id)
		}
		st.deletedSeeds[id] = true
	}
	for i := range doc.ClientTokens {
		ft := &doc.ClientTokens[i]
		if ft.ClientToken == "" || checkClientToken(ft.ClientToken) != nil {
			return nil, fmt.Errorf("ClientTokens[%d]: bad client token %q", i, ft.ClientToken)
		}
		if _, dup := st.tokens[ft.ClientToken]; dup {
			return nil, fmt.Errorf("ClientTokens[%d]: client token %q listed twice", i, ft.ClientToken)
		}
		if ft.Time.IsZero() {
			return nil, fmt.Errorf("ClientTokens[%d]: no Time", i)
		}
		tr := tokenRecord{time: ft.Time, request: canonicalSpec(&ft.Request), unsuccessful: ft.Unsuccessful}
		for j := range ft.FlowLogs {
			e, err := ft.FlowLogs[j].entry()
			if err != nil {
				return nil, fmt.Errorf("ClientTokens[%d].FlowLogs[%d]: %w", i, j, err)
			}
			tr.created = append(tr.created, e)
		}
		st.tokens[ft.ClientToken] = tr
	}
	return st, nil
}

// entry checks a stored flow log and rebuilds its FlowLog from the request.
func (fe *fileEntry) entry() (Entry, error) {
	switch {
	case !isFlowLogID(fe.FlowLogId):
		return Entry{}, fmt.Errorf("bad flow log id %q", fe.FlowLogId)
	case len(fe.Spec.ResourceIds) != 1:
		return Entry{}, fmt.Errorf("flow log %s: want one resource id in Spec.ResourceIds, got %d", fe.FlowLogId, len(fe.Spec.ResourceIds))
	case fe.OwnerId == "" || fe.Region == "":
		return Entry{}, fmt.Errorf("flow log %s: no OwnerId or Region", fe.FlowLogId)
	case fe.CreationTime.IsZero():
		return Entry{}, fmt.Errorf("flow log %s: no CreationTime", fe.FlowLogId)
	case fe.FlowLogStatus != FlowLogActive:
		return Entry{}, fmt.Errorf("flow log %s: FlowLogStatus %q, want %s", fe.FlowLogId, fe.FlowLogStatus, FlowLogActive)
	case fe.DeliverLogsStatus == DeliverySuccess && fe.DeliverLogsErrorMessage != "":
		return Entry{}, fmt.Errorf("flow log %s: an error message with status SUCCESS", fe.FlowLogId)
	case fe.DeliverLogsStatus == DeliveryFailed && fe.DeliverLogsErrorMessage == "":
		return Entry{}, fmt.Errorf("flow log %s: status FAILED without a message", fe.FlowLogId)
	case fe.DeliverLogsStatus != DeliverySuccess && fe.DeliverLogsStatus != DeliveryFailed:
		return Entry{}, fmt.Errorf("flow log %s: DeliverLogsStatus %q, want SUCCESS or FAILED", fe.FlowLogId, fe.DeliverLogsStatus)
	}
	spec := cloneSpec(&fe.Spec)
	fls, err := Build(nil, &spec, "Spec")
	if err != nil {
		return Entry{}, fmt.Errorf("flow log %s: %w", fe.FlowLogId, err)
	}
	f := fls[0]
	f.ID, f.OwnerID, f.Region = fe.FlowLogId, fe.OwnerId, fe.Region
	return Entry{FlowLog: f, Spec: spec, CreationTime: fe.CreationTime.UTC(), DeliverLogsStatus: fe.DeliverLogsStatus,
		DeliverLogsErrorMessage: fe.DeliverLogsErrorMessage, DeliverLogsPermissionArn: spec.DeliverLogsPermissionArn,
		FlowLogStatus: fe.FlowLogStatus, Seeded: fe.Seeded}, nil
}

// isFlowLogID reports whether id has the shape of the ids the registry
// makes: "fl-" and 17 lowercase hex digits.
func isFlowLogID(id string) bool {
	rest, ok := strings.CutPrefix(id, "fl-")
	if !ok || len(rest) != 17 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
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

// lockRegistry takes PATH.lock. flock is released by the kernel when the
// process dies, so a crash leaves no stale lock.
func lockRegistry(path string) (*os.File, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("flowlog: lock registry: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("flowlog: registry %s is open elsewhere (another process, or another OpenRegistry in this one)", path)
		}
		return nil, fmt.Errorf("flowlog: lock registry %s: %w", path, err)
	}
	return f, nil
}
