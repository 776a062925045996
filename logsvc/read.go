package logsvc

import (
	"strings"

	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logstore"
)

// The read operations of CloudWatch Logs and the group and stream
// operations that do not touch metric filters. They forward to the store
// so that callers (the CLI, the HTTP API) need nothing but the Service.
// Errors are *logstore.APIError, or *filterpattern.Error for a filter
// pattern that does not compile (code InvalidParameterException).

// GroupName resolves a logGroupIdentifier: a group name, or either form of
// the group's ARN; an ARN of another account or region is not found.
func (s *Service) GroupName(identifier string) (string, error) { return s.store.GroupName(identifier) }

// GroupInfo describes one group as DescribeLogGroups does.
func (s *Service) GroupInfo(name string) (logstore.LogGroup, error) {
	g, err := s.store.GroupInfo(name)
	if err != nil {
		return g, err
	}
	s.mu.Lock()
	g.MetricFilterCount = len(s.filters[name])
	s.mu.Unlock()
	return g, nil
}

// DescribeLogStreams lists a group's streams, a page at a time.
func (s *Service) DescribeLogStreams(in logstore.DescribeStreamsInput) ([]logstore.LogStream, string, error) {
	return s.store.DescribeLogStreams(in)
}

// GetLogEvents reads one page of a stream's events.
func (s *Service) GetLogEvents(in logstore.GetInput) (logstore.GetOutput, error) {
	return s.store.GetLogEvents(in)
}

// FilterLogEventsInput is FilterLogEvents' request.
type FilterLogEventsInput struct {
	LogGroupName        string
	LogStreamNames      []string // at most 100; unknown names are skipped
	LogStreamNamePrefix string
	StartTime, EndTime  *int64 // ms; the window StartTime <= timestamp <= EndTime
	FilterPattern       string // empty matches every event
	Limit               int    // 1-10000; 0 means 10000
	Descending          bool   // startFromHead=false: newest first; a NextToken's own direction wins
	NextToken           string
	ScanLimit           int // logstore.FilterInput.ScanLimit: not an API member
}

// compilePattern compiles a filter pattern; an empty one matches all (nil).
func compilePattern(p string) (func([]byte) bool, error) {
	if strings.TrimSpace(p) == "" {
		return nil, nil
	}
	pat, err := filterpattern.Compile(p)
	if err != nil {
		return nil, err
	}
	return pat.Match, nil
}

// FilterLogEvents searches a group's events, across streams in time order,
// a page at a time. The pattern is checked before the group, as the API
// validates its parameters before it looks anything up.
func (s *Service) FilterLogEvents(in FilterLogEventsInput) (logstore.FilterOutput, error) {
	match, err := compilePattern(in.FilterPattern)
	if err != nil {
		return logstore.FilterOutput{}, err
	}
	return s.store.FilterLogEvents(logstore.FilterInput{Group: in.LogGroupName, StreamNames: in.LogStreamNames,
		StreamPrefix: in.LogStreamNamePrefix, StartTime: in.StartTime, EndTime: in.EndTime, Match: match,
		Pattern: in.FilterPattern, Limit: in.Limit, Descending: in.Descending, NextToken: in.NextToken, ScanLimit: in.ScanLimit})
}

// CountEvents is an upper bound on group's events with startMs <=
// timestamp <= endMs, from the store's statistics (no event is read).
func (s *Service) CountEvents(group string, startMs, endMs int64) int64 {
	return s.store.CountEvents(group, startMs, endMs)
}

// Scan calls fn for every event of group with startMs <= timestamp <=
// endMs, in time order (what benchmarks compare the query engine with).
func (s *Service) Scan(group string, startMs, endMs int64, fn func(logstore.Event) error) error {
	return s.store.Scan(group, startMs, endMs, fn)
}

// CreateLogGroup is the API's CreateLogGroup.
func (s *Service) CreateLogGroup(name string, o logstore.GroupOptions) error {
	return s.store.CreateLogGroup(name, o)
}

// CreateLogStream is the API's CreateLogStream.
func (s *Service) CreateLogStream(group, name string) error {
	return s.store.CreateLogStream(group, name)
}

// DeleteLogStream is the API's DeleteLogStream.
func (s *Service) DeleteLogStream(group, name string) error {
	return s.store.DeleteLogStream(group, name)
}

// PutRetentionPolicy is the API's PutRetentionPolicy; it purges what the
// new retention expires.
func (s *Service) PutRetentionPolicy(group string, days int) error {
	return s.store.PutRetentionPolicy(group, days)
}

// DeleteRetentionPolicy is the API's DeleteRetentionPolicy.
func (s *Service) DeleteRetentionPolicy(group string) error {
	return s.store.DeleteRetentionPolicy(group)
}
