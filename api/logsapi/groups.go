package logsapi

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
)

// Patterns of the service model
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
// and the other actions' Request Parameters): each must match the whole
// value.
const (
	groupNamePattern    = `[\.\-_/#A-Za-z0-9]+`
	groupPatternPattern = `[\.\-_/#A-Za-z0-9]*`
	streamNamePattern   = `[^:*]*`
	identifierPattern   = `[\w#+=/:,.@-]*`
)

var (
	groupNameRE    = regexp.MustCompile(`^` + groupNamePattern + `$`)
	groupPatternRE = regexp.MustCompile(`^` + groupPatternPattern + `$`)
	streamNameRE   = regexp.MustCompile(`^` + streamNamePattern + `$`)
	identifierRE   = regexp.MustCompile(`^` + identifierPattern + `$`)
)

// retentionDays are the values PutRetentionPolicy accepts
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html).
var retentionDays = []int64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// groupClasses is the LogGroupClass enum.
var groupClasses = []string{"STANDARD", "INFREQUENT_ACCESS", "DELIVERY"}

// Texts of errors the service gives about a group named twice or not at
// all. The first is AWS's; the second is this package's (AWS's text for a
// request naming neither is not documented).
const (
	msgNameAndIdentifier = "LogGroup name and LogGroup ARN are mutually exclusive parameters."
	msgNoGroup           = "Should provide either logGroupName or logGroupIdentifier."
)

// groupName checks a required logGroupName once the shape checks have
// passed: the service's own check, whose texts differ from the model's for
// names over 512 characters.
func groupName(name *string) error {
	return logsvc.ValidateGroupName(*name)
}

// checkGroupRef checks the shape of the logGroupName|logGroupIdentifier
// pair of the read actions.
func checkGroupRef(v *violations, name, ident *string) {
	v.length(name, "logGroupName", 1, 512)
	v.pattern(name, "logGroupName", groupNameRE, groupNamePattern)
	v.length(ident, "logGroupIdentifier", 1, 2048)
	v.pattern(ident, "logGroupIdentifier", identifierRE, identifierPattern)
}

// resolveGroup gives the group a read action names: exactly one of
// logGroupName and logGroupIdentifier (a name or either form of the
// group's ARN). The shape has been checked.
func (h *Handler) resolveGroup(name, ident *string) (string, error) {
	switch {
	case name != nil && ident != nil:
		return "", &apiError{status: http.StatusBadRequest, code: codeValidation, message: msgNameAndIdentifier}
	case name != nil:
		return *name, groupName(name)
	case ident != nil:
		return h.svc.GroupName(*ident)
	}
	return "", invalidParameter(msgNoGroup)
}

type createLogGroupIn struct {
	LogGroupName              *string           `json:"logGroupName"`
	KmsKeyID                  *string           `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	LogGroupClass             *string           `json:"logGroupClass"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func (h *Handler) createLogGroup(body []byte, _ string) (any, error) {
	var in createLogGroupIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	v.length(in.KmsKeyID, "kmsKeyId", 0, 256)
	checkTags(&v, in.Tags, in.Tags != nil, "tags")
	v.enum(in.LogGroupClass, "logGroupClass", groupClasses)
	if err := v.err(); err != nil {
		return nil, err
	}
	o := logstore.GroupOptions{Tags: in.Tags}
	if in.KmsKeyID != nil {
		o.KmsKeyID = *in.KmsKeyID
	}
	if in.LogGroupClass != nil {
		o.Class = *in.LogGroupClass
	}
	if in.DeletionProtectionEnabled != nil {
		o.DeletionProtection = *in.DeletionProtectionEnabled
	}
	return nil, h.svc.CreateLogGroup(*in.LogGroupName, o)
}

type groupNameIn struct {
	LogGroupName *string `json:"logGroupName"`
}

// decodeGroupName reads a request whose only member is the required
// logGroupName (DeleteLogGroup, DeleteRetentionPolicy, ListTagsLogGroup)
// and checks it.
func decodeGroupName(body []byte) (string, error) {
	var in groupNameIn
	if err := decode(body, &in); err != nil {
		return "", err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	if err := v.err(); err != nil {
		return "", err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return "", err
	}
	return *in.LogGroupName, nil
}

func (h *Handler) deleteLogGroup(body []byte, _ string) (any, error) {
	name, err := decodeGroupName(body)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteLogGroup(name)
}

type describeLogGroupsIn struct {
	LogGroupNamePrefix    *string  `json:"logGroupNamePrefix"`
	LogGroupNamePattern   *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	LogGroupClass         *string  `json:"logGroupClass"`
	Limit                 *int64   `json:"limit"`
	NextToken             *string  `json:"nextToken"`
	AccountIdentifiers    []string `json:"accountIdentifiers"`
	IncludeLinkedAccounts *bool    `json:"includeLinkedAccounts"`
}

type describeLogGroupsOut struct {
	LogGroups []logsvc.LogGroup `json:"logGroups"`
	NextToken string            `json:"nextToken,omitempty"`
}

// patternGroup is a group as DescribeLogGroups describes it to a request
// with logGroupNamePattern: "If you specify logGroupNamePattern in your
// request, then only arn, creationTime, and logGroupName are included in
// the response" (API reference).
type patternGroup struct {
	LogGroupName string `json:"logGroupName"`
	CreationTime int64  `json:"creationTime"`
	Arn          string `json:"arn"`
}

type describePatternOut struct {
	LogGroups []patternGroup `json:"logGroups"`
	NextToken string         `json:"nextToken,omitempty"`
}

// briefly is out as a request with logGroupNamePattern gets it.
func briefly(out describeLogGroupsOut) describePatternOut {
	b := describePatternOut{LogGroups: make([]patternGroup, len(out.LogGroups)), NextToken: out.NextToken}
	for i, g := range out.LogGroups {
		b.LogGroups[i] = patternGroup{LogGroupName: g.LogGroupName, CreationTime: g.CreationTime, Arn: g.Arn}
	}
	return b
}

// describeLogGroups lists groups by name. logGroupClass, which the service
// does not filter on, is applied here page by page: each page of the
// service is consumed whole, so its token resumes exactly after what was
// examined. With logGroupNamePattern only the name, creation time and arn
// of each group are given. accountIdentifiers and includeLinkedAccounts
// are accepted and have no effect (there are no linked accounts).
func (h *Handler) describeLogGroups(body []byte, _ string) (any, error) {
	var in describeLogGroupsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	listLength(&v, in.AccountIdentifiers, in.AccountIdentifiers != nil, "accountIdentifiers", 0, 20)
	v.length(in.LogGroupNamePrefix, "logGroupNamePrefix", 1, 512)
	v.pattern(in.LogGroupNamePrefix, "logGroupNamePrefix", groupNameRE, groupNamePattern)
	v.length(in.LogGroupNamePattern, "logGroupNamePattern", 0, 512)
	v.pattern(in.LogGroupNamePattern, "logGroupNamePattern", groupPatternRE, groupPatternPattern)
	v.length(in.NextToken, "nextToken", 1, 0)
	v.intRange(in.Limit, "limit", 1, 50)
	v.enum(in.LogGroupClass, "logGroupClass", groupClasses)
	listLength(&v, in.LogGroupIdentifiers, in.LogGroupIdentifiers != nil, "logGroupIdentifiers", 1, 50)
	for i := range in.LogGroupIdentifiers {
		member := "logGroupIdentifiers." + strconv.Itoa(i+1) + ".member"
		v.length(&in.LogGroupIdentifiers[i], member, 1, 2048)
		v.pattern(&in.LogGroupIdentifiers[i], member, identifierRE, identifierPattern)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	class := ""
	if in.LogGroupClass != nil {
		class = *in.LogGroupClass
	}
	out := describeLogGroupsOut{LogGroups: []logsvc.LogGroup{}}
	if in.LogGroupIdentifiers != nil {
		if in.LogGroupNamePrefix != nil || in.LogGroupNamePattern != nil {
			return nil, invalidParameter("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
		}
		gs, err := h.groupsByIdentifier(in.LogGroupIdentifiers, class)
		if err != nil {
			return nil, err
		}
		out.LogGroups = gs
		return out, nil
	}
	q := logsvc.DescribeGroupsInput{Limit: 50}
	if in.LogGroupNamePrefix != nil {
		q.Prefix = *in.LogGroupNamePrefix
	}
	if in.LogGroupNamePattern != nil {
		q.Pattern = *in.LogGroupNamePattern
	}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
	}
	if in.NextToken != nil {
		q.NextToken = *in.NextToken
	}
	want := q.Limit
	for {
		q.Limit = want - len(out.LogGroups)
		gs, next, err := h.svc.DescribeLogGroups(q)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			if class == "" || g.LogGroupClass == class {
				out.LogGroups = append(out.LogGroups, g)
			}
		}
		out.NextToken = next
		if next == "" || len(out.LogGroups) == want {
			if in.LogGroupNamePattern != nil {
				return briefly(out), nil
			}
			return out, nil
		}
		q.NextToken = next
	}
}

// groupsByIdentifier describes the groups named by logGroupIdentifiers,
// sorted by name; names of groups that do not exist are skipped, as a
// filter would skip them.
func (h *Handler) groupsByIdentifier(idents []string, class string) ([]logsvc.LogGroup, error) {
	seen := map[string]bool{}
	out := []logsvc.LogGroup{}
	for _, id := range idents {
		name, err := h.svc.GroupName(id)
		if err == nil {
			var g logsvc.LogGroup
			if g, err = h.svc.GroupInfo(name); err == nil {
				if !seen[name] && (class == "" || g.LogGroupClass == class) {
					seen[name] = true
					out = append(out, g)
				}
				continue
			}
		}
		var ae *logsvc.APIError
		if errors.As(err, &ae) && ae.Code == codeResourceNotFound {
			continue
		}
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogGroupName < out[j].LogGroupName })
	return out, nil
}

type streamIn struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

// checkStream checks a request naming one stream of one group.
func checkStream(body []byte) (streamIn, error) {
	var in streamIn
	if err := decode(body, &in); err != nil {
		return in, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	v.requiredString(in.LogStreamName, "logStreamName")
	if err := v.err(); err != nil {
		return in, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return in, err
	}
	return in, logsvc.ValidateStreamName(*in.LogStreamName)
}

func (h *Handler) createLogStream(body []byte, _ string) (any, error) {
	in, err := checkStream(body)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.CreateLogStream(*in.LogGroupName, *in.LogStreamName)
}

func (h *Handler) deleteLogStream(body []byte, _ string) (any, error) {
	in, err := checkStream(body)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteLogStream(*in.LogGroupName, *in.LogStreamName)
}

type describeLogStreamsIn struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             *string `json:"orderBy"`
	Descending          *bool   `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int64  `json:"limit"`
}

type describeLogStreamsOut struct {
	LogStreams []logsvc.LogStream `json:"logStreams"`
	NextToken  string             `json:"nextToken,omitempty"`
}

func (h *Handler) describeLogStreams(body []byte, _ string) (any, error) {
	var in describeLogStreamsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkGroupRef(&v, in.LogGroupName, in.LogGroupIdentifier)
	v.length(in.LogStreamNamePrefix, "logStreamNamePrefix", 1, 512)
	v.pattern(in.LogStreamNamePrefix, "logStreamNamePrefix", streamNameRE, streamNamePattern)
	v.enum(in.OrderBy, "orderBy", []string{"LogStreamName", "LastEventTime"})
	v.length(in.NextToken, "nextToken", 1, 0)
	v.intRange(in.Limit, "limit", 1, 50)
	if err := v.err(); err != nil {
		return nil, err
	}
	group, err := h.resolveGroup(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	q := logsvc.DescribeStreamsInput{Group: group}
	if in.LogStreamNamePrefix != nil {
		q.Prefix = *in.LogStreamNamePrefix
	}
	if in.OrderBy != nil {
		q.OrderBy = *in.OrderBy
	}
	if in.Descending != nil {
		q.Descending = *in.Descending
	}
	if in.Limit != nil {
		q.Limit = int(*in.Limit)
	}
	if in.NextToken != nil {
		q.NextToken = *in.NextToken
	}
	ss, next, err := h.svc.DescribeLogStreams(q)
	if err != nil {
		return nil, err
	}
	if ss == nil {
		ss = []logsvc.LogStream{}
	}
	return describeLogStreamsOut{LogStreams: ss, NextToken: next}, nil
}

type retentionIn struct {
	LogGroupName    *string `json:"logGroupName"`
	RetentionInDays *int64  `json:"retentionInDays"`
}

func (h *Handler) putRetentionPolicy(body []byte, _ string) (any, error) {
	var in retentionIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	if in.RetentionInDays == nil {
		v.null("retentionInDays")
	} else if !validRetention(*in.RetentionInDays) {
		days := make([]string, len(retentionDays))
		for i, d := range retentionDays {
			days[i] = strconv.FormatInt(d, 10)
		}
		v.add(strconv.FormatInt(*in.RetentionInDays, 10), "retentionInDays", "satisfy enum value set: ["+strings.Join(days, ", ")+"]")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	return nil, h.svc.PutRetentionPolicy(*in.LogGroupName, int(*in.RetentionInDays))
}

func validRetention(d int64) bool {
	for _, r := range retentionDays {
		if r == d {
			return true
		}
	}
	return false
}

func (h *Handler) deleteRetentionPolicy(body []byte, _ string) (any, error) {
	name, err := decodeGroupName(body)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.DeleteRetentionPolicy(name)
}
