package logsapi

import (
	"errors"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/logstore"
)

// Tags of log groups: TagResource, UntagResource, ListTagsForResource
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html),
// the deprecated TagLogGroup, UntagLogGroup and ListTagsLogGroup, and the
// tags CreateLogGroup is given. The service keeps them with the group, so
// they survive a restart and are deleted with it.

const (
	tagKeyPattern   = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`
	tagValuePattern = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`
	arnPattern      = `[\w+=/:,.@-]*`
	maxTags         = logstore.MaxTags
)

var (
	tagKeyRE   = regexp.MustCompile(tagKeyPattern)
	tagValueRE = regexp.MustCompile(tagValuePattern)
	arnRE      = regexp.MustCompile(`^` + arnPattern + `$`)
)

// constraint records a violation whose constraint is not a "Member must"
// rule (the constraints on a map's keys or values, on a list's members).
func (v *violations) constraint(value, member, text string) {
	*v = append(*v, "Value '"+value+"' at '"+member+"' failed to satisfy constraint: "+text)
}

// keyRules lists the rules a tag key breaks.
func keyRules(k string) []string {
	var rules []string
	switch n := utf8.RuneCountInString(k); {
	case n < 1:
		rules = append(rules, "Member must have length greater than or equal to 1")
	case n > 128:
		rules = append(rules, "Member must have length less than or equal to 128")
	}
	if !tagKeyRE.MatchString(k) {
		rules = append(rules, "Member must satisfy regular expression pattern: "+tagKeyPattern)
	}
	return rules
}

// checkTags checks a Tags map as the model constrains it: 1 to 50 entries,
// keys of 1-128 and values of at most 256 characters from the allowed
// set. Broken key and value rules are each reported once for the map, as
// the service words them.
func checkTags(v *violations, tags map[string]string, present bool, member string) {
	if !present {
		return
	}
	switch {
	case len(tags) < 1:
		v.add(renderMap(tags), member, "have length greater than or equal to 1")
	case len(tags) > maxTags:
		v.add(renderMap(tags), member, "have length less than or equal to 50")
	}
	keyBad, valBad := map[string]bool{}, map[string]bool{}
	for k, val := range tags {
		for _, r := range keyRules(k) {
			keyBad[r] = true
		}
		if utf8.RuneCountInString(val) > 256 {
			valBad["Member must have length less than or equal to 256"] = true
		}
		if !tagValueRE.MatchString(val) {
			valBad["Member must satisfy regular expression pattern: "+tagValuePattern] = true
		}
	}
	if len(keyBad) > 0 {
		v.constraint(renderMap(tags), member, "Map keys must satisfy constraint: ["+strings.Join(sortedKeys(keyBad), ", ")+"]")
	}
	if len(valBad) > 0 {
		v.constraint(renderMap(tags), member, "Map value must satisfy constraint: ["+strings.Join(sortedKeys(valBad), ", ")+"]")
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkARN checks a required resourceArn's shape.
func checkARN(v *violations, arn *string) {
	v.requiredString(arn, "resourceArn")
	v.length(arn, "resourceArn", 1, 1011)
	v.pattern(arn, "resourceArn", arnRE, arnPattern)
}

// errInvalidARN is the service's answer to an ARN that names no taggable
// resource, such as a log group's ARN with the ":*" suffix that
// DescribeLogGroups' arn member carries (logGroupArn is the one to use).
var errInvalidARN = &apiError{status: http.StatusBadRequest, code: codeValidation, message: "Invalid resourceArn"}

// taggedGroup finds the name of the log group an ARN names:
// arn:aws:logs:REGION:ACCOUNT:log-group:NAME. A destination's ARN names a
// resource vpcflow does not have; another account's or region's group is
// not found. Whether the group exists is for the tag operation to say.
func (h *Handler) taggedGroup(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "logs" || parts[1] == "" {
		return "", errInvalidARN
	}
	switch parts[5] {
	case "log-group":
	case "destination":
		return "", &apiError{status: http.StatusBadRequest, code: codeResourceNotFound, message: "The specified resource does not exist."}
	default:
		return "", errInvalidARN
	}
	if name := parts[6]; name == "" || strings.Contains(name, ":") {
		return "", errInvalidARN
	}
	return h.svc.GroupName(arn)
}

type tagResourceIn struct {
	ResourceArn *string           `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (h *Handler) tagResource(body []byte, _ string) (any, error) {
	var in tagResourceIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkARN(&v, in.ResourceArn)
	if in.Tags == nil {
		v.null("tags")
	}
	checkTags(&v, in.Tags, in.Tags != nil, "tags")
	if err := v.err(); err != nil {
		return nil, err
	}
	name, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	err = h.svc.TagLogGroup(name, in.Tags)
	if errors.Is(err, logstore.ErrTooManyTags) {
		return nil, &apiError{status: http.StatusBadRequest, code: codeTooManyTags, message: logstore.ErrTooManyTags.Message,
			extra: map[string]any{"resourceName": *in.ResourceArn}}
	}
	return nil, err
}

type untagResourceIn struct {
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

// checkTagKeys checks a list of tag keys: the rules its keys break are
// reported once for the list, as for a map's keys.
func checkTagKeys(v *violations, keys []string, member string) {
	bad := map[string]bool{}
	for _, k := range keys {
		for _, r := range keyRules(k) {
			bad[r] = true
		}
	}
	if len(bad) > 0 {
		v.constraint(renderList(keys), member, "Member must satisfy constraint: ["+strings.Join(sortedKeys(bad), ", ")+"]")
	}
}

func (h *Handler) untagResource(body []byte, _ string) (any, error) {
	var in untagResourceIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkARN(&v, in.ResourceArn)
	if in.TagKeys == nil {
		v.null("tagKeys")
	}
	listLength(&v, in.TagKeys, in.TagKeys != nil, "tagKeys", 0, maxTags)
	checkTagKeys(&v, in.TagKeys, "tagKeys")
	if err := v.err(); err != nil {
		return nil, err
	}
	name, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return nil, h.svc.UntagLogGroup(name, in.TagKeys)
}

type listTagsIn struct {
	ResourceArn *string `json:"resourceArn"`
}

type listTagsOut struct {
	Tags map[string]string `json:"tags"`
}

func (h *Handler) listTagsForResource(body []byte, _ string) (any, error) {
	var in listTagsIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	checkARN(&v, in.ResourceArn)
	if err := v.err(); err != nil {
		return nil, err
	}
	name, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := h.svc.ListTagsLogGroup(name)
	if err != nil {
		return nil, err
	}
	return listTagsOut{Tags: tags}, nil
}

// The deprecated actions name the group by logGroupName
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagLogGroup.html,
// API_UntagLogGroup.html, API_ListTagsLogGroup.html). awscli still has
// them (tag-log-group, untag-log-group, list-tags-log-group).

type tagLogGroupIn struct {
	LogGroupName *string           `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

// tagLogGroup is TagResource by name. Its errors are
// InvalidParameterException and ResourceNotFoundException only, so a
// 51st tag is an InvalidParameterException with TooManyTagsException's
// text.
func (h *Handler) tagLogGroup(body []byte, _ string) (any, error) {
	var in tagLogGroupIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	if in.Tags == nil {
		v.null("tags")
	}
	checkTags(&v, in.Tags, in.Tags != nil, "tags")
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	err := h.svc.TagLogGroup(*in.LogGroupName, in.Tags)
	if errors.Is(err, logstore.ErrTooManyTags) {
		return nil, invalidParameter(logstore.ErrTooManyTags.Message)
	}
	return nil, err
}

type untagLogGroupIn struct {
	LogGroupName *string  `json:"logGroupName"`
	Tags         []string `json:"tags"` // the keys, despite the name
}

func (h *Handler) untagLogGroup(body []byte, _ string) (any, error) {
	var in untagLogGroupIn
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.requiredString(in.LogGroupName, "logGroupName")
	if in.Tags == nil {
		v.null("tags")
	}
	listLength(&v, in.Tags, in.Tags != nil, "tags", 1, 0)
	checkTagKeys(&v, in.Tags, "tags")
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := groupName(in.LogGroupName); err != nil {
		return nil, err
	}
	return nil, h.svc.UntagLogGroup(*in.LogGroupName, in.Tags)
}

func (h *Handler) listTagsLogGroup(body []byte, _ string) (any, error) {
	name, err := decodeGroupName(body)
	if err != nil {
		return nil, err
	}
	tags, err := h.svc.ListTagsLogGroup(name)
	if err != nil {
		return nil, err
	}
	return listTagsOut{Tags: tags}, nil
}
