package logsapi

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/logsvc"
)

// Tags of log groups: TagResource, UntagResource, ListTagsForResource
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html),
// and the tags CreateLogGroup is given. logsvc keeps a group's creation
// tags on disk but offers no way to read or change them, so this package
// keeps every group's tags in memory (see Handler).

const (
	tagKeyPattern   = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`
	tagValuePattern = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`
	arnPattern      = `[\w+=/:,.@-]*`
	maxTags         = 50
)

var (
	tagKeyRE   = regexp.MustCompile(tagKeyPattern)
	tagValueRE = regexp.MustCompile(tagValuePattern)
	arnRE      = regexp.MustCompile(`^` + arnPattern + `$`)
)

// tagStore holds the tags of each group with the group's creation time, so
// a group deleted and created again does not inherit the tags of the old
// one, whoever deleted it.
type tagStore struct {
	mu     sync.Mutex
	groups map[string]groupTags
}

type groupTags struct {
	created int64
	tags    map[string]string
}

func newTagStore() *tagStore { return &tagStore{groups: map[string]groupTags{}} }

// get returns a copy of g's tags.
func (s *tagStore) get(g logsvc.LogGroup) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	if e, ok := s.groups[g.LogGroupName]; ok && e.created == g.CreationTime {
		for k, v := range e.tags {
			out[k] = v
		}
	}
	return out
}

// set adds tags to g's, replacing the values of keys it has. It fails with
// TooManyTagsException, changing nothing, when g would have more than 50.
func (s *tagStore) set(g logsvc.LogGroup, tags map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.groups[g.LogGroupName]
	if !ok || e.created != g.CreationTime {
		e = groupTags{created: g.CreationTime, tags: map[string]string{}}
	}
	n := len(e.tags)
	for k := range tags {
		if _, have := e.tags[k]; !have {
			n++
		}
	}
	if n > maxTags {
		return &apiError{status: http.StatusBadRequest, code: codeTooManyTags,
			message: "A resource can have no more than 50 tags.",
			extra:   map[string]any{"resourceName": g.LogGroupArn}}
	}
	merged := make(map[string]string, n)
	for k, v := range e.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	s.groups[g.LogGroupName] = groupTags{created: e.created, tags: merged}
	return nil
}

// remove deletes keys from g's tags; unknown keys are ignored, as AWS
// ignores them.
func (s *tagStore) remove(g logsvc.LogGroup, keys []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.groups[g.LogGroupName]
	if !ok || e.created != g.CreationTime {
		return
	}
	merged := make(map[string]string, len(e.tags))
	for k, v := range e.tags {
		merged[k] = v
	}
	for _, k := range keys {
		delete(merged, k)
	}
	s.groups[g.LogGroupName] = groupTags{created: e.created, tags: merged}
}

// drop forgets a deleted group's tags.
func (s *tagStore) drop(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, name)
}

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

// taggedGroup finds the log group an ARN names:
// arn:aws:logs:REGION:ACCOUNT:log-group:NAME. A destination's ARN names a
// resource vpcflow does not have; another account's or region's group is
// not found.
func (h *Handler) taggedGroup(arn string) (logsvc.LogGroup, error) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) < 7 || parts[0] != "arn" || parts[2] != "logs" || parts[1] == "" {
		return logsvc.LogGroup{}, errInvalidARN
	}
	switch parts[5] {
	case "log-group":
	case "destination":
		return logsvc.LogGroup{}, &apiError{status: http.StatusBadRequest, code: codeResourceNotFound, message: "The specified resource does not exist."}
	default:
		return logsvc.LogGroup{}, errInvalidARN
	}
	if name := parts[6]; name == "" || strings.Contains(name, ":") {
		return logsvc.LogGroup{}, errInvalidARN
	}
	name, err := h.svc.GroupName(arn)
	if err != nil {
		return logsvc.LogGroup{}, err
	}
	return h.svc.GroupInfo(name)
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
	g, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return nil, h.tags.set(g, in.Tags)
}

type untagResourceIn struct {
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
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
	bad := map[string]bool{}
	for _, k := range in.TagKeys {
		for _, r := range keyRules(k) {
			bad[r] = true
		}
	}
	if len(bad) > 0 {
		v.constraint(renderList(in.TagKeys), "tagKeys", "Member must satisfy constraint: ["+strings.Join(sortedKeys(bad), ", ")+"]")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	g, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	h.tags.remove(g, in.TagKeys)
	return nil, nil
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
	g, err := h.taggedGroup(*in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return listTagsOut{Tags: h.tags.get(g)}, nil
}
