package logsvc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vpcflow/vpcflow/insights"
	"github.com/vpcflow/vpcflow/logstore"
)

// Logs Insights queries as the StartQuery, GetQueryResults, StopQuery and
// DescribeQueries operations: a query runs in its own goroutine, at most
// Options.MaxRunningQueries at once (the others wait, Scheduled), and its
// results stay available for a while after it ends so that clients polling
// GetQueryResults find them.

// Query statuses.
const (
	QueryScheduled = "Scheduled"
	QueryRunning   = "Running"
	QueryComplete  = "Complete"
	QueryFailed    = "Failed"
	QueryCancelled = "Cancelled"
)

// queryStatuses is the QueryStatus enum; Timeout and Unknown never occur
// here but are valid filters.
var queryStatuses = []string{QueryScheduled, QueryRunning, QueryComplete, QueryFailed, QueryCancelled, "Timeout", "Unknown"}

const (
	// maxActiveQueries is CloudWatch Logs' quota of queries running (or
	// waiting to) at once.
	maxActiveQueries = 100
	// keepQueries and keepQueriesFor bound how many ended queries keep
	// their results, and how long: results live in memory.
	keepQueries    = 100
	keepQueriesFor = time.Hour
	// maxQueryGroups is StartQuery's limit on log groups.
	maxQueryGroups = 50
	// maxQueryRows is the largest StartQuery limit.
	maxQueryRows = 100_000
)

// CodeMalformedQuery is the error code of a query that does not compile.
const CodeMalformedQuery = "MalformedQueryException"

// MalformedQueryError is StartQuery's answer to a query that does not
// compile; Err positions the problem (line, column, character offsets).
type MalformedQueryError struct{ Err *insights.Error }

func (e *MalformedQueryError) Error() string { return CodeMalformedQuery + ": " + e.Err.Error() }
func (e *MalformedQueryError) Unwrap() error { return e.Err }

// StartQueryInput is StartQuery's request.
type StartQueryInput struct {
	// LogGroupNames are names or ARNs (logGroupName, logGroupNames and
	// logGroupIdentifiers of the API), 1 to 50.
	LogGroupNames []string
	// StartTime and EndTime bound the events' timestamps, inclusive. As
	// in the API they are epoch seconds, and an EndTime in seconds covers
	// its whole second; values above 10^10 are taken as milliseconds
	// (what some clients send). nil leaves that side open: from the
	// oldest event, to the newest (queryEndTime() is then the time the
	// query started).
	StartTime, EndTime *int64
	QueryString        string
	// Limit caps the rows, 1 to 100,000; 0 means 10,000.
	Limit int
}

// QueryInfo describes one query as DescribeQueries lists it.
type QueryInfo struct {
	QueryLanguage string `json:"queryLanguage"`
	QueryID       string `json:"queryId"`
	QueryString   string `json:"queryString"`
	Status        string `json:"status"`
	CreateTime    int64  `json:"createTime"` // ms
	LogGroupName  string `json:"logGroupName,omitempty"`
}

// DescribeQueriesInput is DescribeQueries' request.
type DescribeQueriesInput struct {
	LogGroupName string // only queries of this group
	Status       string // only queries in this status
	MaxResults   int    // 1-1000; 0 means 1000
	NextToken    string
}

type query struct {
	info    QueryInfo
	groups  []string
	parsed  *insights.Query
	startMs int64
	endMs   int64 // scan end, inclusive
	opt     insights.Options
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed when the goroutine has finished
	res     *insights.Result
	err     error
	ended   time.Time
	// scanned counts the events read so far, for GetQueryResults'
	// statistics while the query runs.
	scanned atomic.Int64
}

type queries struct {
	s       *Service
	workers int
	sem     chan struct{}
	wg      sync.WaitGroup
	ctx     context.Context
	stop    context.CancelFunc
	once    sync.Once

	mu     sync.Mutex
	byID   map[string]*query
	order  []*query // by creation
	active int      // Scheduled or Running
	closed bool
}

func newQueries(s *Service, opts Options) *queries {
	n := opts.MaxRunningQueries
	if n <= 0 {
		n = 2
	}
	ctx, stop := context.WithCancel(context.Background())
	return &queries{s: s, workers: opts.QueryWorkers, sem: make(chan struct{}, n), ctx: ctx, stop: stop, byID: map[string]*query{}}
}

// close cancels every query and waits for their goroutines, which read the
// store.
func (qs *queries) close() {
	qs.once.Do(func() {
		qs.mu.Lock()
		qs.closed = true
		qs.mu.Unlock()
		qs.stop()
		qs.wg.Wait()
	})
}

func (qs *queries) isClosed() bool {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	return qs.closed
}

// queryRunning, when set by a test, is called as a query starts running.
var queryRunning func(id string)

// queryProgress, when set by a test, is called each time a query's count
// of scanned events grows, with the number added, before it reads on.
var queryProgress func(added int64)

// invalidParameter is the API's message for one member that breaks a rule.
func invalidParameter(value, member, rule string) error {
	return &logstore.APIError{Code: logstore.CodeInvalidParameter,
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, rule)}
}

// queryMs turns a StartQuery time into ms: seconds, or ms above 10^10. An
// end given in seconds covers its whole second.
func queryMs(v int64, end bool) int64 {
	if v > 10_000_000_000 {
		return v
	}
	if end {
		return v*1000 + 999
	}
	return v * 1000
}

// StartQuery checks the request, compiles the query and starts it; it
// returns the query's id at once. Errors: InvalidParameterException (bad
// members), *MalformedQueryError, ResourceNotFoundException naming the
// missing group and the account, LimitExceededException (100 queries
// already waiting or running).
func (s *Service) StartQuery(in StartQueryInput) (string, error) {
	if s.q.isClosed() {
		return "", fmt.Errorf("logsvc: data dir %s is closed", s.dir)
	}
	switch n := len(in.LogGroupNames); {
	case n == 0:
		return "", invalidParameter("[]", "logGroupNames", "have length greater than or equal to 1")
	case n > maxQueryGroups:
		return "", invalidParameter(strconv.Itoa(n), "logGroupNames", "have length less than or equal to 50")
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = 10_000
	case limit < 1:
		return "", invalidParameter(strconv.Itoa(limit), "limit", "have value greater than or equal to 1")
	case limit > maxQueryRows:
		return "", invalidParameter(strconv.Itoa(limit), "limit", "have value less than or equal to 100000")
	}
	startMs, endMs := int64(0), int64(math.MaxInt64)
	for _, t := range []struct {
		v      *int64
		member string
		ms     *int64
		end    bool
	}{{in.StartTime, "startTime", &startMs, false}, {in.EndTime, "endTime", &endMs, true}} {
		if t.v == nil {
			continue
		}
		if *t.v < 0 {
			return "", invalidParameter(strconv.FormatInt(*t.v, 10), t.member, "have value greater than or equal to 0")
		}
		*t.ms = queryMs(*t.v, t.end)
	}
	if endMs < startMs {
		return "", &logstore.APIError{Code: logstore.CodeInvalidParameter, Message: "endTime must be greater than or equal to startTime."}
	}
	parsed, err := insights.Parse(in.QueryString)
	if err != nil {
		var qe *insights.Error
		if errors.As(err, &qe) {
			return "", &MalformedQueryError{Err: qe}
		}
		return "", &logstore.APIError{Code: CodeMalformedQuery, Message: err.Error()}
	}
	var groups []string
	seen := map[string]bool{}
	for _, ident := range in.LogGroupNames {
		name, err := s.store.GroupName(ident)
		if err == nil {
			_, err = s.store.GroupInfo(name)
		}
		if errors.Is(err, logstore.ErrGroupNotFound) {
			return "", &logstore.APIError{Code: logstore.CodeResourceNotFound,
				Message: fmt.Sprintf("Log group '%s' does not exist for account ID '%s'", ident, s.id.Account)}
		}
		if err != nil {
			return "", err
		}
		if !seen[name] {
			seen[name] = true
			groups = append(groups, name)
		}
	}
	now := s.now()
	qEnd := endMs
	if in.EndTime == nil {
		qEnd = now.UnixMilli() // queryEndTime() of an open-ended query
	}
	return s.q.start(&query{
		info:   QueryInfo{QueryLanguage: "CWLI", QueryString: in.QueryString, Status: QueryScheduled, CreateTime: now.UnixMilli(), LogGroupName: groups[0]},
		groups: groups, parsed: parsed, startMs: startMs, endMs: endMs,
		opt: insights.Options{AccountID: s.id.Account, StartMs: startMs, EndMs: qEnd, Now: now, Limit: limit, Workers: s.q.workers},
	})
}

func newQueryID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // a version 4 UUID, as AWS's query ids are
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (qs *queries) start(q *query) (string, error) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if qs.closed {
		return "", fmt.Errorf("logsvc: data dir %s is closed", qs.s.dir)
	}
	if qs.active >= maxActiveQueries {
		return "", &logstore.APIError{Code: logstore.CodeLimitExceeded, Message: fmt.Sprintf("Resource limit exceeded: at most %d queries run at a time.", maxActiveQueries)}
	}
	q.info.QueryID = newQueryID()
	q.ctx, q.cancel = context.WithCancel(qs.ctx)
	q.done = make(chan struct{})
	qs.byID[q.info.QueryID] = q
	qs.order = append(qs.order, q)
	qs.active++
	qs.pruneLocked()
	qs.wg.Add(1)
	go qs.run(q)
	return q.info.QueryID, nil
}

func (qs *queries) run(q *query) {
	defer qs.wg.Done()
	defer close(q.done)
	select {
	case qs.sem <- struct{}{}:
	case <-q.ctx.Done():
		qs.finish(q, nil, q.ctx.Err())
		return
	}
	defer func() { <-qs.sem }()
	qs.mu.Lock()
	if q.info.Status == QueryScheduled {
		q.info.Status = QueryRunning
	}
	qs.mu.Unlock()
	if queryRunning != nil {
		queryRunning(q.info.QueryID)
	}
	res, err := qs.s.runQuery(q.ctx, q.parsed, q.groups, q.startMs, q.endMs, q.opt, &q.scanned)
	qs.finish(q, res, err)
}

// finish records how a query ended. A query stopped by StopQuery stays
// Cancelled whatever its goroutine returned.
func (qs *queries) finish(q *query, res *insights.Result, err error) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q.ended = qs.s.now()
	qs.active--
	switch {
	case q.info.Status == QueryCancelled:
	case q.ctx.Err() != nil:
		q.info.Status = QueryCancelled
	case err != nil:
		q.info.Status, q.err = QueryFailed, err
	default:
		res.Status = QueryComplete
		q.info.Status, q.res = QueryComplete, res
	}
	qs.pruneLocked()
}

func ended(status string) bool {
	return status == QueryComplete || status == QueryFailed || status == QueryCancelled
}

// pruneLocked forgets ended queries beyond keepQueries or older than
// keepQueriesFor; the caller holds mu.
func (qs *queries) pruneLocked() {
	now := qs.s.now()
	nEnded := 0
	for _, q := range qs.order {
		if ended(q.info.Status) {
			nEnded++
		}
	}
	keep := qs.order[:0]
	for _, q := range qs.order {
		if ended(q.info.Status) && (nEnded > keepQueries || now.Sub(q.ended) > keepQueriesFor) {
			nEnded--
			delete(qs.byID, q.info.QueryID)
			continue
		}
		keep = append(keep, q)
	}
	clear(qs.order[len(keep):])
	qs.order = keep
}

func errQueryNotFound(id string) error {
	return &logstore.APIError{Code: logstore.CodeResourceNotFound, Message: fmt.Sprintf("Query %s does not exist.", id)}
}

func (qs *queries) get(id string) (*query, error) {
	qs.mu.Lock()
	defer qs.mu.Unlock()
	q := qs.byID[id]
	if q == nil {
		return nil, errQueryNotFound(id)
	}
	return q, nil
}

// GetQueryResults is the query's status with, once Complete, its rows and
// statistics (the Result's JSON is get-query-results' answer); while it
// runs, the statistics say how many records it has scanned so far, as
// CloudWatch's do. An unknown or forgotten id is a
// ResourceNotFoundException.
func (s *Service) GetQueryResults(id string) (*insights.Result, error) {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	q := s.q.byID[id]
	if q == nil {
		return nil, errQueryNotFound(id)
	}
	if q.res == nil {
		r := &insights.Result{Status: q.info.Status}
		if q.info.Status == QueryRunning {
			r.Statistics.RecordsScanned = float64(q.scanned.Load())
		}
		return r, nil
	}
	r := *q.res
	return &r, nil
}

// WaitQuery waits until the query has ended (or ctx is done) and returns
// GetQueryResults' answer; a Failed query returns its error, a Cancelled
// one an error saying so.
func (s *Service) WaitQuery(ctx context.Context, id string) (*insights.Result, error) {
	q, err := s.q.get(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-q.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.q.mu.Lock()
	status, res, qerr := q.info.Status, q.res, q.err
	s.q.mu.Unlock()
	switch status {
	case QueryFailed:
		return &insights.Result{Status: status}, qerr
	case QueryCancelled:
		return &insights.Result{Status: status}, fmt.Errorf("query %s was cancelled", id)
	}
	r := *res
	return &r, nil
}

// StopQuery cancels a Scheduled or Running query; it is Cancelled at once.
// An unknown id is a ResourceNotFoundException, a query that has already
// ended an InvalidParameterException.
func (s *Service) StopQuery(id string) (bool, error) {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	q := s.q.byID[id]
	if q == nil {
		return false, errQueryNotFound(id)
	}
	if ended(q.info.Status) {
		return false, &logstore.APIError{Code: logstore.CodeInvalidParameter, Message: fmt.Sprintf("Query %s is not running: it is %s.", id, q.info.Status)}
	}
	q.info.Status = QueryCancelled
	q.cancel()
	return true, nil
}

// DescribeQueries lists the queries the service remembers (waiting,
// running, and ended ones for a while), newest first.
func (s *Service) DescribeQueries(in DescribeQueriesInput) ([]QueryInfo, string, error) {
	if in.Status != "" && !contains(queryStatuses, in.Status) {
		return nil, "", invalidParameter(in.Status, "status", "satisfy enum value set: [Scheduled, Running, Complete, Failed, Cancelled, Timeout, Unknown]")
	}
	limit := in.MaxResults
	switch {
	case limit == 0:
		limit = 1000
	case limit < 1:
		return nil, "", invalidParameter(strconv.Itoa(limit), "maxResults", "have value greater than or equal to 1")
	case limit > 1000:
		return nil, "", invalidParameter(strconv.Itoa(limit), "maxResults", "have value less than or equal to 1000")
	}
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	s.q.pruneLocked()
	var list []*query
	for i := len(s.q.order) - 1; i >= 0; i-- {
		q := s.q.order[i]
		if in.Status != "" && q.info.Status != in.Status || in.LogGroupName != "" && !contains(q.groups, in.LogGroupName) {
			continue
		}
		list = append(list, q)
	}
	if in.NextToken != "" {
		// The token is the id of the last query of the previous page.
		i := slices.IndexFunc(list, func(q *query) bool { return q.info.QueryID == in.NextToken })
		if i < 0 {
			return nil, "", logstore.ErrInvalidToken
		}
		list = list[i+1:]
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].info.QueryID
	}
	out := make([]QueryInfo, len(list))
	for i, q := range list {
		out[i] = q.info
	}
	return out, next, nil
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

// runQuery runs q over the events of groups between startMs and endMs
// (both inclusive). Each group's range is cut into parts (at least 64, and
// 4 per worker) that the engine's workers scan concurrently for a stats,
// or newest part first for a sorted, limited query, where a small last
// part is what keeps the work small (sort @timestamp desc | limit 20 over
// 10 M events: 4.6 s with 8 parts, 1.4 s with 64; stats alike either way).
// The store's event count sizes the engine's tables. Parts stop early once
// ctx is done (StopQuery, Close). scanned counts the events read, 4096 at
// a time (and each part's rest as it ends), for progress.
func (s *Service) runQuery(ctx context.Context, q *insights.Query, groups []string, startMs, endMs int64, opt insights.Options, scanned *atomic.Int64) (*insights.Result, error) {
	per := max(64, 4*runtime.GOMAXPROCS(0))
	if opt.Workers > 0 {
		per = max(64, 4*opt.Workers)
	}
	var parts []insights.Source
	for _, g := range groups {
		opt.Events += s.store.CountEvents(g, startMs, endMs)
		for _, r := range s.store.SplitRange(g, startMs, endMs, per) {
			parts = append(parts, func(fn func(*insights.Event) error) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				ev := insights.Event{Group: g}
				n := 0
				defer func() {
					scanned.Add(int64(n & 4095))
					if queryProgress != nil {
						queryProgress(int64(n & 4095))
					}
				}()
				return s.store.Scan(g, r[0], r[1], func(e logstore.Event) error {
					// Checking every event would cost more than the
					// check is worth; 4096 events take well under a
					// millisecond.
					if n++; n&4095 == 0 {
						scanned.Add(4096)
						if queryProgress != nil {
							queryProgress(4096)
						}
						if err := ctx.Err(); err != nil {
							return err
						}
					}
					ev.Timestamp, ev.IngestionTime, ev.Stream, ev.Message = e.Timestamp, e.IngestionTime, e.Stream, e.Message
					return fn(&ev)
				})
			})
		}
	}
	return q.RunParts(parts, opt)
}
