package logstore

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// LogGroup is a group as DescribeLogGroups returns it (docs/aws-behaviour.md,
// "Log groups, streams and events").
type LogGroup struct {
	LogGroupName              string `json:"logGroupName"`
	CreationTime              int64  `json:"creationTime"`
	RetentionInDays           int    `json:"retentionInDays,omitempty"`
	MetricFilterCount         int    `json:"metricFilterCount"`
	Arn                       string `json:"arn"`
	StoredBytes               int64  `json:"storedBytes"`
	KmsKeyID                  string `json:"kmsKeyId,omitempty"`
	LogGroupClass             string `json:"logGroupClass"`
	LogGroupArn               string `json:"logGroupArn"`
	DeletionProtectionEnabled bool   `json:"deletionProtectionEnabled,omitempty"`
}

// LogStream is a stream as DescribeLogStreams returns it (docs/aws-behaviour.md,
// "Log groups, streams and events").
// The timestamps are absent while the stream is empty.
type LogStream struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"` // always 0, as on AWS
	// StoredEvents counts retained events; an extension, not in the AWS shape.
	StoredEvents int64 `json:"-"`
}

func (s *Store) groupArn(name string) string {
	return "arn:aws:logs:" + s.opts.Region + ":" + s.opts.Account + ":log-group:" + name
}

// groupInfo builds g's description; the caller holds mu.
func (s *Store) groupInfo(g *group) LogGroup {
	lg := LogGroup{
		LogGroupName: g.name, CreationTime: g.meta.CreationTime, RetentionInDays: g.meta.RetentionInDays,
		Arn: s.groupArn(g.name) + ":*", LogGroupArn: s.groupArn(g.name), KmsKeyID: g.meta.KmsKeyID,
		LogGroupClass: g.meta.Class, DeletionProtectionEnabled: g.meta.DeletionProtection,
	}
	cut := g.cutoff(s.now())
	for day, sl := range g.slices {
		if (day+1)*dayMs <= cut {
			continue
		}
		for _, st := range sl.stats {
			lg.StoredBytes += st.bytes
		}
	}
	return lg
}

// streamInfo folds the slice stats of one stream; the caller holds mu.
func (s *Store) streamInfo(g *group, st *stream) LogStream {
	ls := LogStream{LogStreamName: st.name, CreationTime: st.meta.CreationTime,
		Arn: s.groupArn(g.name) + ":log-stream:" + st.name}
	cut := g.cutoff(s.now())
	var agg sliceStat
	for day, sl := range g.slices {
		if (day+1)*dayMs <= cut {
			continue
		}
		if x := sl.stats[st.meta.ID]; x != nil && x.count > 0 {
			if agg.count == 0 || x.minTs < agg.minTs {
				agg.minTs = x.minTs
			}
			if agg.count == 0 || x.maxTs > agg.maxTs {
				agg.maxTs = x.maxTs
			}
			agg.count += x.count
			agg.bytes += x.bytes
			agg.lastIngest = max(agg.lastIngest, x.lastIngest)
		}
	}
	if agg.count > 0 {
		ls.FirstEventTimestamp, ls.LastEventTimestamp, ls.LastIngestionTime = &agg.minTs, &agg.maxTs, &agg.lastIngest
	}
	ls.StoredEvents = agg.count
	// Opaque but new after every put that stores something.
	ls.UploadSequenceToken = fmt.Sprintf("%020d%036d", agg.lastIngest, agg.count)
	return ls
}

// GroupInfo describes one group.
func (s *Store) GroupInfo(name string) (LogGroup, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[name]
	if g == nil {
		return LogGroup{}, ErrGroupNotFound
	}
	return s.groupInfo(g), nil
}

// DescribeGroupsInput is DescribeLogGroups' request.
type DescribeGroupsInput struct {
	Prefix    string // logGroupNamePrefix
	Pattern   string // logGroupNamePattern: a case-sensitive substring
	Limit     int    // 1-50; 0 means 50
	NextToken string
}

// DescribeLogGroups lists groups sorted by name (byte order), paged.
func (s *Store) DescribeLogGroups(in DescribeGroupsInput) ([]LogGroup, string, error) {
	if in.Prefix != "" && in.Pattern != "" {
		return nil, "", ErrPrefixAndPattern
	}
	limit, err := checkLimit(in.Limit, 50)
	if err != nil {
		return nil, "", err
	}
	h := paramHash("dlg", in.Prefix, in.Pattern)
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken(in.NextToken, "dlg", h, s.now()); err != nil {
			return nil, "", err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		if strings.HasPrefix(n, in.Prefix) && strings.Contains(n, in.Pattern) && (in.NextToken == "" || n > after) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	next := ""
	if len(names) > limit {
		names = names[:limit]
		next = encodeToken("dlg", names[limit-1], h, s.now())
	}
	out := make([]LogGroup, len(names))
	for i, n := range names {
		out[i] = s.groupInfo(s.groups[n])
	}
	return out, next, nil
}

// DescribeStreamsInput is DescribeLogStreams' request.
type DescribeStreamsInput struct {
	Group      string
	Prefix     string // logStreamNamePrefix
	OrderBy    string // LogStreamName (default) or LastEventTime
	Descending bool
	Limit      int // 1-50; 0 means 50
	NextToken  string
}

// DescribeLogStreams lists a group's streams, paged.
func (s *Store) DescribeLogStreams(in DescribeStreamsInput) ([]LogStream, string, error) {
	switch in.OrderBy {
	case "", "LogStreamName":
	case "LastEventTime":
		if in.Prefix != "" {
			return nil, "", ErrOrderByWithPrefix
		}
	default:
		return nil, "", validationError(violation{in.OrderBy, "orderBy", "satisfy enum value set: [LogStreamName, LastEventTime]"})
	}
	limit, err := checkLimit(in.Limit, 50)
	if err != nil {
		return nil, "", err
	}
	h := paramHash("dls", in.Group, in.Prefix, in.OrderBy, strconv.FormatBool(in.Descending))
	after := ""
	if in.NextToken != "" {
		if after, err = decodeToken(in.NextToken, "dls", h, s.now()); err != nil {
			return nil, "", err
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := s.groups[in.Group]
	if g == nil {
		return nil, "", ErrGroupNotFound
	}
	type row struct {
		key string
		ls  LogStream
	}
	var rows []row
	for n, st := range g.streams {
		if !strings.HasPrefix(n, in.Prefix) {
			continue
		}
		ls := s.streamInfo(g, st)
		key := n
		if in.OrderBy == "LastEventTime" {
			var t int64
			if ls.LastEventTimestamp != nil {
				t = *ls.LastEventTimestamp
			}
			key = fmt.Sprintf("%020d/%s", t, n)
		}
		rows = append(rows, row{key, ls})
	}
	sort.Slice(rows, func(i, j int) bool {
		if in.Descending {
			return rows[i].key > rows[j].key
		}
		return rows[i].key < rows[j].key
	})
	if in.NextToken != "" {
		i := sort.Search(len(rows), func(i int) bool {
			if in.Descending {
				return rows[i].key < after
			}
			return rows[i].key > after
		})
		rows = rows[i:]
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = encodeToken("dls", rows[limit-1].key, h, s.now())
	}
	out := make([]LogStream, len(rows))
	for i := range rows {
		out[i] = rows[i].ls
	}
	return out, next, nil
}

// checkLimit applies a 1..max limit with 0 meaning max.
func checkLimit(limit, maxLimit int) (int, error) {
	switch {
	case limit == 0:
		return maxLimit, nil
	case limit < 0:
		return 0, validationError(violation{strconv.Itoa(limit), "limit", "have value greater than or equal to 1"})
	case limit > maxLimit:
		return 0, validationError(violation{strconv.Itoa(limit), "limit", "have value less than or equal to " + strconv.Itoa(maxLimit)})
	}
	return limit, nil
}

// GroupName resolves a logGroupIdentifier (docs/aws-behaviour.md, "Log groups,
// streams and events"): a group name, or either form of the group's ARN. An
// ARN of another account or region gives ErrGroupNotFound.
func (s *Store) GroupName(identifier string) (string, error) {
	rest, ok := strings.CutPrefix(identifier, "arn:aws:logs:")
	if !ok {
		return identifier, nil
	}
	want := s.opts.Region + ":" + s.opts.Account + ":log-group:"
	name, ok := strings.CutPrefix(rest, want)
	if !ok {
		return "", ErrGroupNotFound
	}
	return strings.TrimSuffix(name, ":*"), nil
}
