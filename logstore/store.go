package logstore

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Options configures a Store.
type Options struct {
	// Account and Region build the ARNs of groups and streams; both are
	// required. They are configuration, so the store has no defaults:
	// package logsvc keeps the data dir's identity and passes it here.
	Account string
	Region  string
	// Owner describes the process holding the data dir (for example
	// "vpcflow logs put (PID 99)") and Endpoint the URL of its API, if it
	// serves one. Both go into the LOCK file, so another opener's error
	// says who holds the dir and how to reach it; see SetOwner.
	Owner    string
	Endpoint string
	// Now is the clock for ingestion times, API age limits and retention;
	// default time.Now. Tests set it.
	Now func() time.Time
	// MaxOpenSlices bounds how many day files stay open at once (each is a
	// file descriptor and a memory map); default 64.
	MaxOpenSlices int
	// Fault, when set, is called before each durable step of a write
	// with the step's name ("create group", "create streams", "open day
	// file", "write day file", "undo"; package logsvc adds "save metric
	// data"); an error it returns fails that step as a full disk would.
	// Tests use it to check that a failed write leaves no trace or says
	// what it left.
	Fault func(step string) error
	// ReadOnly opens an existing store without writing anything, for a
	// reader that may not write the data dir (another user's, or one
	// made read-only): the data dir and its meta.db must exist, the LOCK
	// file is opened read-only and shared-locked (any number of readers,
	// no writer; a writer holding it makes Open fail with *InUseError),
	// meta.db and the day files are opened with bbolt's ReadOnly, and
	// Open does not purge (reads hide expired events anyway). Every
	// write method returns an error matching ErrReadOnly.
	ReadOnly bool
}

// Store is an open data dir. It is safe for concurrent use by goroutines;
// only one process may open a data dir for writing at a time (any number
// may open it with Options.ReadOnly while none writes).
type Store struct {
	dir  string
	opts Options
	lock *os.File
	meta *bolt.DB

	mu     sync.RWMutex // guards groups and everything reachable from it
	wmu    sync.Mutex   // serialises writers, so sequence numbers and stats stay simple
	groups map[string]*group
	open   int // slices with an open bolt DB
	tick   uint64

	stats     counters
	lastPurge atomic.Int64 // ms of the last Purge
}

type counters struct {
	ingested, batches                atomic.Uint64
	tooOld, tooNew, expired, invalid atomic.Uint64
	replaced                         atomic.Uint64
	duplicates                       atomic.Uint64
}

// Counters are the store's totals since Open: how much was stored and how
// much was rejected and why, so nothing is lost silently.
type Counters struct {
	Ingested        uint64 // events stored
	Batches         uint64 // write transactions acknowledged
	RejectedTooOld  uint64 // PutLogEvents: older than 14 days
	RejectedTooNew  uint64 // PutLogEvents: more than 2 h in the future
	RejectedExpired uint64 // older than the group's retention
	RejectedInvalid uint64 // bad timestamp, empty or oversized message
	// ReplacedUTF8 counts events stored with their invalid UTF-8 bytes
	// replaced by U+FFFD (NormalizeMessage), as CloudWatch Logs stores them.
	ReplacedUTF8 uint64
	// Duplicates counts events IngestOnce did not store because their
	// source had delivered them already.
	Duplicates uint64
}

// Counters returns the totals since Open.
func (s *Store) Counters() Counters {
	return Counters{
		Ingested: s.stats.ingested.Load(), Batches: s.stats.batches.Load(),
		RejectedTooOld: s.stats.tooOld.Load(), RejectedTooNew: s.stats.tooNew.Load(),
		RejectedExpired: s.stats.expired.Load(), RejectedInvalid: s.stats.invalid.Load(),
		ReplacedUTF8: s.stats.replaced.Load(), Duplicates: s.stats.duplicates.Load(),
	}
}

// groupMeta is the persisted part of a group, kept as JSON in meta.db so new
// attributes need no migration.
type groupMeta struct {
	ID                 uint64            `json:"id"`
	CreationTime       int64             `json:"creationTime"`
	RetentionInDays    int               `json:"retentionInDays,omitempty"`
	Class              string            `json:"logGroupClass,omitempty"`
	KmsKeyID           string            `json:"kmsKeyId,omitempty"`
	DeletionProtection bool              `json:"deletionProtectionEnabled,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
}

type streamMeta struct {
	ID           uint32 `json:"id"`
	CreationTime int64  `json:"creationTime"`
}

type group struct {
	name    string
	meta    groupMeta
	dir     string
	streams map[string]*stream
	byID    map[uint32]*stream
	nextSID uint32
	slices  map[int64]*slice // by UTC day number
	seq     uint64           // highest sequence number used in any slice
}

type stream struct {
	name string
	meta streamMeta
}

var (
	bGroups  = []byte("groups")
	bStreams = []byte("streams")
)

// Open opens (creating if needed) the data dir and locks it for this process.
// A dir owned by another process gives an *InUseError naming its holder.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Account == "" || opts.Region == "" {
		return nil, fmt.Errorf("logstore: open %s: Options.Account and Options.Region are required (they make the ARNs)", dir)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxOpenSlices <= 0 {
		opts.MaxOpenSlices = 64
	}
	var lf *os.File
	var err error
	if opts.ReadOnly {
		if _, serr := os.Stat(filepath.Join(dir, "meta.db")); serr != nil {
			if errors.Is(serr, os.ErrNotExist) {
				return nil, fmt.Errorf("logstore: open data dir %s read-only: no log store there (want %s)", dir, filepath.Join(dir, "meta.db"))
			}
			return nil, fmt.Errorf("logstore: open data dir %s read-only: %w", dir, serr)
		}
		lf, err = lockDirShared(dir)
	} else {
		if err := os.MkdirAll(filepath.Join(dir, "g"), 0o755); err != nil {
			return nil, fmt.Errorf("logstore: %w", err)
		}
		lf, err = lockDir(dir, opts.Owner, opts.Endpoint)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{dir: dir, opts: opts, lock: lf, groups: map[string]*group{}}
	if err := s.load(); err != nil {
		s.Close()
		return nil, err
	}
	if opts.ReadOnly {
		return s, nil
	}
	if err := s.Purge(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) load() error {
	ro := s.opts.ReadOnly
	path := filepath.Join(s.dir, "meta.db")
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: ro})
	if err != nil {
		if ro {
			return fmt.Errorf("logstore: open %s read-only: %w", path, err)
		}
		return fmt.Errorf("logstore: open meta.db: %w", err)
	}
	s.meta = db
	read := func(tx *bolt.Tx) error {
		var gb, sb *bolt.Bucket
		if ro {
			// A read-only open creates nothing: a meta.db without
			// the buckets (never written) holds no groups.
			gb, sb = tx.Bucket(bGroups), tx.Bucket(bStreams)
			if gb == nil {
				return nil
			}
		} else {
			var err error
			if gb, err = tx.CreateBucketIfNotExists(bGroups); err != nil {
				return err
			}
			if sb, err = tx.CreateBucketIfNotExists(bStreams); err != nil {
				return err
			}
		}
		return gb.ForEach(func(k, v []byte) error {
			g := &group{name: string(k), streams: map[string]*stream{}, byID: map[uint32]*stream{}, slices: map[int64]*slice{}}
			if err := json.Unmarshal(v, &g.meta); err != nil {
				return fmt.Errorf("group %q: %w", k, err)
			}
			g.dir = filepath.Join(s.dir, "g", strconv.FormatUint(g.meta.ID, 10))
			if b := bucketIn(sb, u64(g.meta.ID)); b != nil {
				if err := b.ForEach(func(k, v []byte) error {
					st := &stream{name: string(k)}
					if err := json.Unmarshal(v, &st.meta); err != nil {
						return fmt.Errorf("stream %q: %w", k, err)
					}
					g.streams[st.name] = st
					g.byID[st.meta.ID] = st
					if st.meta.ID >= g.nextSID {
						g.nextSID = st.meta.ID + 1
					}
					return nil
				}); err != nil {
					return err
				}
			}
			s.groups[g.name] = g
			return nil
		})
	}
	if ro {
		err = db.View(read)
	} else {
		err = db.Update(read)
	}
	if err != nil {
		return fmt.Errorf("logstore: read meta.db: %w", err)
	}
	for _, g := range s.groups {
		if err := s.loadSlices(g); err != nil {
			return err
		}
	}
	return nil
}

// Close releases the data dir. Every acknowledged write is already durable,
// so Close only frees resources.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, g := range s.groups {
		for _, sl := range g.slices {
			if sl.db != nil {
				errs = append(errs, sl.db.Close())
				sl.db = nil
			}
		}
	}
	if s.meta != nil {
		errs = append(errs, s.meta.Close())
		s.meta = nil
	}
	if s.lock != nil {
		errs = append(errs, s.lock.Close())
		s.lock = nil
	}
	return errors.Join(errs...)
}

// Dir returns the data dir.
func (s *Store) Dir() string { return s.dir }

func (s *Store) now() int64 { return s.opts.Now().UnixMilli() }

// fault is Options.Fault for step, nil without one.
func (s *Store) fault(step string) error {
	if s.opts.Fault == nil {
		return nil
	}
	return s.opts.Fault(step)
}

// GroupOptions are the optional attributes of CreateLogGroup.
type GroupOptions struct {
	Class              string // STANDARD (default), INFREQUENT_ACCESS or DELIVERY
	KmsKeyID           string
	DeletionProtection bool
	Tags               map[string]string
	RetentionInDays    int // 0: never expire
}

// CreateLogGroup is the API's CreateLogGroup: it validates the name
// (including the `aws/` rule) and fails if the group exists.
func (s *Store) CreateLogGroup(name string, o GroupOptions) error {
	if err := s.readOnly("create log group"); err != nil {
		return err
	}
	if err := ValidateGroupName(name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "aws/") {
		return ErrReservedGroupName
	}
	switch o.Class {
	case "", "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		return validationError(violation{o.Class, "logGroupClass", "satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]"})
	}
	if len(o.KmsKeyID) > 256 {
		return validationError(violation{o.KmsKeyID, "kmsKeyId", "have length less than or equal to 256"})
	}
	if len(o.Tags) > 50 {
		return validationError(violation{fmt.Sprint(len(o.Tags)), "tags", "have length less than or equal to 50"})
	}
	if err := checkReserved(o.Tags); err != nil {
		return err
	}
	if o.RetentionInDays != 0 && !ValidRetention(o.RetentionInDays) {
		return ErrInvalidRetention
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.lookup(name) != nil {
		return ErrGroupExists
	}
	_, err := s.createGroup(name, o)
	return err
}

// createGroup persists a new group; the caller holds wmu.
func (s *Store) createGroup(name string, o GroupOptions) (*group, error) {
	g := &group{name: name, streams: map[string]*stream{}, byID: map[uint32]*stream{}, slices: map[int64]*slice{}}
	g.meta = groupMeta{CreationTime: s.now(), RetentionInDays: o.RetentionInDays, Class: o.Class,
		KmsKeyID: o.KmsKeyID, DeletionProtection: o.DeletionProtection}
	if len(o.Tags) > 0 {
		g.meta.Tags = maps.Clone(o.Tags) // the caller keeps its map
	}
	if g.meta.Class == "" {
		g.meta.Class = "STANDARD"
	}
	err := s.meta.Update(func(tx *bolt.Tx) error {
		if err := s.fault("create group"); err != nil {
			return err
		}
		gb := tx.Bucket(bGroups)
		id, err := gb.NextSequence()
		if err != nil {
			return err
		}
		g.meta.ID = id
		v, _ := json.Marshal(g.meta)
		return gb.Put([]byte(name), v)
	})
	if err != nil {
		return nil, fmt.Errorf("logstore: create group %q: %w", name, err)
	}
	g.dir = filepath.Join(s.dir, "g", strconv.FormatUint(g.meta.ID, 10))
	// A dir left by a group deleted before a crash must not leak old events.
	_ = os.RemoveAll(g.dir)
	s.mu.Lock()
	s.groups[name] = g
	s.mu.Unlock()
	return g, nil
}

// DeleteLogGroup removes a group with its streams and events.
func (s *Store) DeleteLogGroup(name string) error {
	if err := s.readOnly("delete log group"); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(name)
	if g == nil {
		return ErrGroupNotFound
	}
	if g.meta.DeletionProtection {
		return ErrDeletionProtected
	}
	err := s.meta.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bGroups).Delete([]byte(name)); err != nil {
			return err
		}
		if tx.Bucket(bStreams).Bucket(u64(g.meta.ID)) != nil {
			return tx.Bucket(bStreams).DeleteBucket(u64(g.meta.ID))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logstore: delete group %q: %w", name, err)
	}
	s.mu.Lock()
	delete(s.groups, name)
	for _, sl := range g.slices {
		sl.dead = true
	}
	s.mu.Unlock()
	s.closeIdle(g)
	return os.RemoveAll(g.dir)
}

// PutRetentionPolicy sets the group's retention and purges what it expires.
func (s *Store) PutRetentionPolicy(name string, days int) error {
	if err := s.readOnly("put retention policy"); err != nil {
		return err
	}
	if !ValidRetention(days) {
		return ErrInvalidRetention
	}
	if err := s.updateGroup(name, func(m *groupMeta) error { m.RetentionInDays = days; return nil }); err != nil {
		return err
	}
	return s.Purge()
}

// DeleteRetentionPolicy makes the group keep its events forever.
func (s *Store) DeleteRetentionPolicy(name string) error {
	if err := s.readOnly("delete retention policy"); err != nil {
		return err
	}
	return s.updateGroup(name, func(m *groupMeta) error { m.RetentionInDays = 0; return nil })
}

// updateGroup changes a group's persisted attributes: f edits a copy of
// them (maps it changes must be new ones, since readers hold the old) or
// returns an error that leaves the group as it was. The change is durable
// when updateGroup returns nil.
func (s *Store) updateGroup(name string, f func(*groupMeta) error) error {
	if err := s.readOnly("update log group"); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(name)
	if g == nil {
		return ErrGroupNotFound
	}
	m := g.meta
	if err := f(&m); err != nil {
		return err
	}
	err := s.meta.Update(func(tx *bolt.Tx) error {
		v, _ := json.Marshal(m)
		return tx.Bucket(bGroups).Put([]byte(name), v)
	})
	if err != nil {
		return fmt.Errorf("logstore: update group %q: %w", name, err)
	}
	s.mu.Lock()
	g.meta = m
	s.mu.Unlock()
	return nil
}

// CreateLogStream is the API's CreateLogStream.
func (s *Store) CreateLogStream(groupName, name string) error {
	if err := s.readOnly("create log stream"); err != nil {
		return err
	}
	if err := ValidateGroupName(groupName); err != nil {
		return err
	}
	if err := ValidateStreamName(name); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(groupName)
	if g == nil {
		return ErrGroupNotFound
	}
	if g.streams[name] != nil {
		return ErrStreamExists
	}
	return s.createStreams(g, []string{name})
}

// createStreams persists new streams in one transaction; the caller holds wmu.
func (s *Store) createStreams(g *group, names []string) error {
	now := s.now()
	var made []*stream
	err := s.meta.Update(func(tx *bolt.Tx) error {
		if err := s.fault("create streams"); err != nil {
			return err
		}
		b, err := tx.Bucket(bStreams).CreateBucketIfNotExists(u64(g.meta.ID))
		if err != nil {
			return err
		}
		made = made[:0]
		id := g.nextSID
		for _, n := range names {
			st := &stream{name: n, meta: streamMeta{ID: id, CreationTime: now}}
			id++
			v, _ := json.Marshal(st.meta)
			if err := b.Put([]byte(n), v); err != nil {
				return err
			}
			made = append(made, st)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logstore: create streams in %q: %w", g.name, err)
	}
	s.mu.Lock()
	for _, st := range made {
		g.streams[st.name] = st
		g.byID[st.meta.ID] = st
	}
	g.nextSID += uint32(len(made))
	s.mu.Unlock()
	return nil
}

// DeleteLogStream removes a stream and its events.
func (s *Store) DeleteLogStream(groupName, name string) error {
	if err := s.readOnly("delete log stream"); err != nil {
		return err
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	g := s.lookup(groupName)
	if g == nil {
		return ErrGroupNotFound
	}
	st := g.streams[name]
	if st == nil {
		return ErrStreamNotFound
	}
	// Events first: a crash in between leaves a listed, empty stream rather
	// than orphaned events that a new stream could inherit.
	for _, day := range g.days() {
		if err := s.deleteStreamEvents(g, day, st.meta.ID); err != nil {
			return err
		}
	}
	err := s.meta.Update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bStreams).Bucket(u64(g.meta.ID)); b != nil {
			return b.Delete([]byte(name))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("logstore: delete stream %q: %w", name, err)
	}
	s.mu.Lock()
	delete(g.streams, name)
	delete(g.byID, st.meta.ID)
	s.mu.Unlock()
	return nil
}

// GroupNames lists the groups, in no particular order.
func (s *Store) GroupNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.groups))
	for n := range s.groups {
		out = append(out, n)
	}
	return out
}

// lookup returns the named group or nil.
func (s *Store) lookup(name string) *group {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.groups[name]
}

// days returns the group's slice days in ascending order; caller holds wmu or mu.
func (g *group) days() []int64 {
	ds := make([]int64, 0, len(g.slices))
	for d := range g.slices {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}

// cutoff is the lowest timestamp the group's retention still keeps.
func (g *group) cutoff(now int64) int64 {
	if g.meta.RetentionInDays == 0 {
		return 0
	}
	return now - int64(g.meta.RetentionInDays)*86_400_000
}

// bucketIn is b's nested bucket name, nil when b is nil or has none.
func bucketIn(b *bolt.Bucket, name []byte) *bolt.Bucket {
	if b == nil {
		return nil
	}
	return b.Bucket(name)
}

// readOnly is the error of a write method on a store opened with
// Options.ReadOnly, nil otherwise.
func (s *Store) readOnly(op string) error {
	if !s.opts.ReadOnly {
		return nil
	}
	return &ReadOnlyError{Dir: s.dir, Op: op}
}

// ReadOnly reports whether the store was opened with Options.ReadOnly.
func (s *Store) ReadOnly() bool { return s.opts.ReadOnly }

func u64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
