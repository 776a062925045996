package logsapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/logsvc"
)

// Logs Insights queries: StartQuery, GetQueryResults, StopQuery,
// DescribeQueries
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartQuery.html).
// A query runs in the background in the service; its status goes from
// Scheduled (waiting for a free slot) to Running to Complete (or Failed,
// or Cancelled by StopQuery), and GetQueryResults gives the rows and the
// statistics once it is Complete.

var queryLanguages = []string{"CWLI", "SQL", "PPL"}

// queryStatuses is the QueryStatus enum.
var queryStatuses = []string{"Scheduled", "Running", "Complete", "Failed", "Cancelled", "Timeout", "Unknown"}

type startQueryIn struct {
	QueryLanguage       *string  `json:"queryLanguage"`
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupNames       []string `json:"logGroupNames"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	QueryString         *string  `json:"queryString"`
	Limit               *int64   `json:"limit"`
}

type startQueryOut struct {
	QueryID string `json:"queryId"`
}

func (h *Handler) startQuery(body []byte, requestID string) (any, error) {
	var in startQueryIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.enum(in.QueryLanguage, "queryLanguage", queryLanguages)
	v.length(in.LogGroupName, "logGroupName", 1, 512)
	v.pattern(in.LogGroupName, "logGroupName", groupNameRE, groupNamePattern)
	for i := 0; i < len(in.LogGroupNames) && len(v) < maxListed; i++ {
		member := "logGroupNames." + strconv.Itoa(i+1) + ".member"
		v.length(&in.LogGroupNames[i], member, 1, 512)
		v.pattern(&in.LogGroupNames[i], member, groupNameRE, groupNamePattern)
	}
	for i := 0; i < len(in.LogGroupIdentifiers) && len(v) < maxListed; i++ {
		member := "logGroupIdentifiers." + strconv.Itoa(i+1) + ".member"
		v.length(&in.LogGroupIdentifiers[i], member, 1, 2048)
		v.pattern(&in.LogGroupIdentifiers[i], member, identifierRE, identifierPattern)
	}
	if in.StartTime == nil {
		v.null("startTime")
	}
	v.minValue(in.StartTime, "startTime", 0)
	if in.EndTime == nil {
		v.null("endTime")
	}
	v.minValue(in.EndTime, "endTime", 0)
	v.requiredString(in.QueryString, "queryString")
	v.length(in.QueryString, "queryString", 0, 10_000)
	v.intRange(in.Limit, "limit", 1, 100_000)
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.QueryLanguage != nil && *in.QueryLanguage != "CWLI" {
		return nil, invalidParameter("Query language " + *in.QueryLanguage + " is not supported: vpcflow runs CloudWatch Logs Insights QL (CWLI) queries only.")
	}
	var groups []string
	given := 0
	if in.LogGroupName != nil {
		given++
		groups = append(groups, *in.LogGroupName)
	}
	if in.LogGroupNames != nil {
		given++
		groups = append(groups, in.LogGroupNames...)
	}
	if in.LogGroupIdentifiers != nil {
		given++
		groups = append(groups, in.LogGroupIdentifiers...)
	}
	if given != 1 {
		// AWS requires exactly one; the text is this package's.
		return nil, invalidParameter("Exactly one of logGroupName, logGroupNames and logGroupIdentifiers must be specified.")
	}
	q := logsvc.StartQueryInput{LogGroupNames: groups, StartTime: in.StartTime, EndTime: in.EndTime, QueryString: *in.QueryString}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
	}
	id, err := h.svc.StartQuery(q)
	if err != nil {
		var ae *logsvc.APIError
		if errors.As(err, &ae) && ae.Code == codeResourceNotFound && strings.HasPrefix(ae.Message, "Log group '") {
			// StartQuery's missing group comes with the details of the
			// service's internal call, request id included.
			return nil, &apiError{status: 400, code: ae.Code, message: ae.Message +
				" (Service: AWSLogs; Status Code: 400; Error Code: ResourceNotFoundException; Request ID: " + requestID + "; Proxy: null)"}
		}
		return nil, err
	}
	return startQueryOut{QueryID: id}, nil
}

type getQueryResultsIn struct {
	QueryID   *string `json:"queryId"`
	NextToken *string `json:"nextToken"`
	MaxItems  *int64  `json:"maxItems"`
}

// resultsToken is GetQueryResults' nextToken: the query and the first row
// of the next page.
type resultsToken struct {
	Query  string `json:"q"`
	Offset int    `json:"o"`
}

// getQueryResults answers the query's status, its rows once Complete (a
// page of maxItems rows at a time when maxItems is given, else all of
// them) and its statistics, doubles as the service sends them (7.0 rather
// than 7). Before the query completes the rows are empty and the
// statistics zero.
func (h *Handler) getQueryResults(body []byte, _ string) (any, error) {
	var in getQueryResultsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.QueryID, "queryId")
	v.length(in.QueryID, "queryId", 1, 256)
	v.length(in.NextToken, "nextToken", 0, 1024)
	v.intRange(in.MaxItems, "maxItems", 0, 10_000)
	if err := v.err(); err != nil {
		return nil, err
	}
	res, err := h.svc.GetQueryResults(*in.QueryID)
	if err != nil {
		return nil, err
	}
	r := *res
	offset := 0
	if in.NextToken != nil && *in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		var t resultsToken
		if err != nil || json.Unmarshal(raw, &t) != nil || t.Query != *in.QueryID || t.Offset < 0 || t.Offset > len(r.Rows) {
			return nil, errInvalidToken
		}
		offset = t.Offset
	}
	r.Rows = r.Rows[offset:]
	next := ""
	if in.MaxItems != nil && *in.MaxItems > 0 && int64(len(r.Rows)) > *in.MaxItems {
		n := int(*in.MaxItems)
		r.Rows = r.Rows[:n]
		tok, _ := json.Marshal(resultsToken{Query: *in.QueryID, Offset: offset + n})
		next = base64.RawURLEncoding.EncodeToString(tok)
	}
	doc, err := r.MarshalJSON()
	if err != nil {
		return nil, err
	}
	// The engine's document is results, statistics and status; the API
	// adds the query language (and the token of the next page).
	var b bytes.Buffer
	b.WriteString(`{"queryLanguage":"CWLI",`)
	b.Write(bytes.TrimSuffix(doc[1:], []byte("}")))
	if next != "" {
		b.WriteString(`,"nextToken":`)
		t, _ := json.Marshal(next)
		b.Write(t)
	}
	b.WriteByte('}')
	return json.RawMessage(b.Bytes()), nil
}

type queryIDIn struct {
	QueryID *string `json:"queryId"`
}

type stopQueryOut struct {
	Success bool `json:"success"`
}

// stopQuery cancels a Scheduled or Running query, which is Cancelled at
// once; a query that has ended is an InvalidParameterException, an
// unknown one a ResourceNotFoundException.
func (h *Handler) stopQuery(body []byte, _ string) (any, error) {
	var in queryIDIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.QueryID, "queryId")
	v.length(in.QueryID, "queryId", 1, 256)
	if err := v.err(); err != nil {
		return nil, err
	}
	ok, err := h.svc.StopQuery(*in.QueryID)
	if err != nil {
		return nil, err
	}
	return stopQueryOut{Success: ok}, nil
}

type describeQueriesIn struct {
	LogGroupName  *string `json:"logGroupName"`
	Status        *string `json:"status"`
	MaxResults    *int64  `json:"maxResults"`
	NextToken     *string `json:"nextToken"`
	QueryLanguage *string `json:"queryLanguage"`
}

type describeQueriesOut struct {
	Queries   []logsvc.QueryInfo `json:"queries"`
	NextToken string             `json:"nextToken,omitempty"`
}

// describeQueries lists the queries the service remembers, newest first:
// those waiting or running and, for an hour, those that ended.
func (h *Handler) describeQueries(body []byte, _ string) (any, error) {
	var in describeQueriesIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.length(in.LogGroupName, "logGroupName", 1, 512)
	v.pattern(in.LogGroupName, "logGroupName", groupNameRE, groupNamePattern)
	v.enum(in.Status, "status", queryStatuses)
	v.intRange(in.MaxResults, "maxResults", 1, 1000)
	v.length(in.NextToken, "nextToken", 1, 0)
	v.enum(in.QueryLanguage, "queryLanguage", queryLanguages)
	if err := v.err(); err != nil {
		return nil, err
	}
	out := describeQueriesOut{Queries: []logsvc.QueryInfo{}}
	if in.QueryLanguage != nil && *in.QueryLanguage != "CWLI" {
		return out, nil // every query here is a CWLI one
	}
	var q logsvc.DescribeQueriesInput
	if in.LogGroupName != nil {
		q.LogGroupName = *in.LogGroupName
	}
	if in.Status != nil {
		q.Status = *in.Status
	}
	if in.MaxResults != nil {
		q.MaxResults = int(*in.MaxResults)
	}
	if in.NextToken != nil {
		q.NextToken = *in.NextToken
	}
	qs, next, err := h.svc.DescribeQueries(q)
	if err != nil {
		return nil, err
	}
	out.Queries = append(out.Queries, qs...)
	out.NextToken = next
	return out, nil
}
