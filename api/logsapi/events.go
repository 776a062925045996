package logsapi

import (
	"strconv"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
)

// maxListed bounds the violations a request with many bad list members
// gets: the service names a few, not one per event.
const maxListed = 10

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

type putLogEventsIn struct {
	LogGroupName  *string         `json:"logGroupName"`
	LogStreamName *string         `json:"logStreamName"`
	LogEvents     []inputLogEvent `json:"logEvents"`
	SequenceToken *string         `json:"sequenceToken"`
}

// putLogEvents is the API's ingestion path: the service applies AWS's
// acceptance rules (batch size and span, chronological order, the 14-day
// and 2-hour limits and the group's retention, reported in
// rejectedLogEventsInfo), which the internal writers (flow-log delivery,
// `vpcflow logs put`) do not go through. sequenceToken is accepted and
// ignored, as AWS has ignored it since January 2023; entity is ignored.
func (h *Handler) putLogEvents(body []byte, _ string) (any, error) {
	var in putLogEventsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	v.requiredString(in.LogStreamName, "logStreamName")
	if in.LogEvents == nil {
		v.null("logEvents")
	}
	for i := 0; i < len(in.LogEvents) && len(v) < maxListed; i++ {
		member := "logEvents." + strconv.Itoa(i+1) + ".member."
		if in.LogEvents[i].Timestamp == nil {
			v.null(member + "timestamp")
		}
		v.requiredString(in.LogEvents[i].Message, member+"message")
	}
	v.length(in.SequenceToken, "sequenceToken", 1, 0)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	evs := make([]logstore.PutEvent, len(in.LogEvents))
	for i, e := range in.LogEvents {
		evs[i] = logstore.PutEvent{Timestamp: *e.Timestamp, Message: *e.Message}
	}
	res, err := h.svc.PutLogEvents(*in.LogGroupName, *in.LogStreamName, evs)
	if err != nil {
		return nil, err
	}
	return res, nil
}

type getLogEventsIn struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      *string `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int64  `json:"limit"`
	StartFromHead      *bool   `json:"startFromHead"`
	Unmask             *bool   `json:"unmask"`
}

// getLogEvents reads one stream a page at a time: without a token the
// oldest (startFromHead) or newest events of the window startTime <=
// timestamp < endTime, ascending; nextForwardToken and nextBackwardToken
// are always set, and a page at an end gives back the token it was given,
// which is how clients know to stop. unmask is accepted (there is no
// masking).
func (h *Handler) getLogEvents(body []byte, _ string) (any, error) {
	var in getLogEventsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkGroupRef(&v, in.LogGroupName, in.LogGroupIdentifier)
	v.requiredString(in.LogStreamName, "logStreamName")
	v.minValue(in.StartTime, "startTime", 0)
	v.minValue(in.EndTime, "endTime", 0)
	v.length(in.NextToken, "nextToken", 1, 0)
	v.intRange(in.Limit, "limit", 1, 10_000)
	if err := v.err(); err != nil {
		return nil, err
	}
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if err := logsvc.ValidateStreamName(*in.LogStreamName); err != nil {
		return nil, err
	}
	q := logsvc.GetInput{Group: group, Stream: *in.LogStreamName, StartTime: in.StartTime, EndTime: in.EndTime}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
	}
	if in.StartFromHead != nil {
		q.StartFromHead = *in.StartFromHead
	}
	if in.NextToken != nil {
		q.NextToken = *in.NextToken
	}
	return h.svc.GetLogEvents(q)
}

type filterLogEventsIn struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int64   `json:"limit"`
	StartFromHead       *bool    `json:"startFromHead"`
	Interleaved         *bool    `json:"interleaved"`
	Unmask              *bool    `json:"unmask"`
}

// filterLogEvents searches a group across its streams in time order
// (newest first with startFromHead false), startTime <= timestamp <=
// endTime. interleaved is accepted and ignored (results are always
// interleaved, as AWS's have been since 2019); searchedLogStreams is
// always empty, as AWS now returns it.
func (h *Handler) filterLogEvents(body []byte, _ string) (any, error) {
	var in filterLogEventsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkGroupRef(&v, in.LogGroupName, in.LogGroupIdentifier)
	listLength(&v, in.LogStreamNames, in.LogStreamNames != nil, "logStreamNames", 1, 100)
	for i := 0; i < len(in.LogStreamNames) && len(v) < maxListed; i++ {
		member := "logStreamNames." + strconv.Itoa(i+1) + ".member"
		v.length(&in.LogStreamNames[i], member, 1, 512)
		v.pattern(&in.LogStreamNames[i], member, streamNameRE, streamNamePattern)
	}
	v.length(in.LogStreamNamePrefix, "logStreamNamePrefix", 1, 512)
	v.pattern(in.LogStreamNamePrefix, "logStreamNamePrefix", streamNameRE, streamNamePattern)
	v.minValue(in.StartTime, "startTime", 0)
	v.minValue(in.EndTime, "endTime", 0)
	v.length(in.FilterPattern, "filterPattern", 0, 1024)
	v.length(in.NextToken, "nextToken", 1, 0)
	v.intRange(in.Limit, "limit", 1, 10_000)
	if err := v.err(); err != nil {
		return nil, err
	}
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	q := logsvc.FilterLogEventsInput{LogGroupName: group, LogStreamNames: in.LogStreamNames,
		StartTime: in.StartTime, EndTime: in.EndTime}
	if in.LogStreamNamePrefix != nil {
		q.LogStreamNamePrefix = *in.LogStreamNamePrefix
	}
	if in.FilterPattern != nil {
		q.FilterPattern = *in.FilterPattern
	}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
	}
	if in.StartFromHead != nil {
		q.Descending = !*in.StartFromHead
	}
	if in.NextToken != nil {
		q.NextToken = *in.NextToken
	}
	return h.svc.FilterLogEvents(q)
}
