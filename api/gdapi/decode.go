package gdapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/region"
)

// apiError is an error in GuardDuty's shape: the code goes in the
// X-Amzn-ErrorType header (botocore takes the error code from it), the
// message and the error type in the body, as GuardDuty writes them
// ({"message": "...", "__type": "InvalidInputException"}).
type apiError struct {
	status             int
	code, typ, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "BadRequestException", typ: "InvalidInputException",
		message: fmt.Sprintf(format, args...)}
}

func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{status: http.StatusInternalServerError, code: "InternalServerErrorException", typ: "InternalException", message: err.Error()}
}

// WriteError answers with a GuardDuty error document (the front's own
// errors: authentication, bodies too large).
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeError(w, &apiError{status: status, code: code, typ: code, message: message}, requestID)
}

func writeError(w http.ResponseWriter, e *apiError, requestID string) {
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, map[string]string{"message": e.message, "__type": e.typ}, requestID)
}

func writeJSON(w http.ResponseWriter, status int, v any, requestID string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		fmt.Fprintf(&b, `{"message":%q,"__type":"InternalException"}`, err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	if requestID != "" {
		w.Header().Set("x-amzn-RequestId", requestID)
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// condition is one Condition of a criterion. The deprecated members (eq,
// gt, ...) and their replacements (equals, greaterThan, ...) mean the
// same: both are accepted, as GuardDuty does.
type condition struct {
	Eq                 []string `json:"eq"`
	Neq                []string `json:"neq"`
	Equals             []string `json:"equals"`
	NotEquals          []string `json:"notEquals"`
	Gt                 *int64   `json:"gt"`
	Gte                *int64   `json:"gte"`
	Lt                 *int64   `json:"lt"`
	Lte                *int64   `json:"lte"`
	GreaterThan        *int64   `json:"greaterThan"`
	GreaterThanOrEqual *int64   `json:"greaterThanOrEqual"`
	LessThan           *int64   `json:"lessThan"`
	LessThanOrEqual    *int64   `json:"lessThanOrEqual"`
	Matches            []string `json:"matches"`
	NotMatches         []string `json:"notMatches"`
}

type listFindingsBody struct {
	FindingCriteria *struct {
		Criterion map[string]condition `json:"criterion"`
	} `json:"findingCriteria"`
	SortCriteria *struct {
		AttributeName *string `json:"attributeName"`
		OrderBy       *string `json:"orderBy"`
	} `json:"sortCriteria"`
	MaxResults *int    `json:"maxResults"`
	NextToken  *string `json:"nextToken"`
}

type getFindingsBody struct {
	FindingIDs   *[]string `json:"findingIds"`
	SortCriteria *struct {
		AttributeName *string `json:"attributeName"`
		OrderBy       *string `json:"orderBy"`
	} `json:"sortCriteria"`
}

// listFindingsRequest is a decoded, checked ListFindings request.
type listFindingsRequest struct {
	criteria criteria
	sort     *sortCriteria
	max      int
	offset   int
}

type getFindingsRequest struct {
	ids  []string
	sort *sortCriteria
}

type sortCriteria struct {
	attribute string
	desc      bool
}

// test is one checked condition on one attribute.
type test struct {
	attribute string
	eq, neq   []string
	lo, hi    *float64 // bounds; loOpen/hiOpen: strict
	loOpen    bool
	hiOpen    bool
	name      string // for messages
}

type criteria []test

// attributes are the criterion attributes vpcflow's findings can be
// filtered on: those of GuardDuty's list that its findings carry, plus
// the interface id (vpcflow's findings are all about an interface).
// Aliases map GuardDuty's names to where a vpcflow finding holds them.
var attributes = map[string]string{
	"accountId":                           "accountId",
	"region":                              "region",
	"id":                                  "id",
	"type":                                "type",
	"severity":                            "severity",
	"updatedAt":                           "updatedAt",
	"createdAt":                           "createdAt",
	"resource.resourceType":               "resource.resourceType",
	"resource.instanceDetails.instanceId": "resource.instanceDetails.instanceId",
	"resource.instanceDetails.networkInterfaces.networkInterfaceId":                  "resource.instanceDetails.networkInterfaces.networkInterfaceId",
	"resource.instanceDetails.networkInterfaces.ipv6Addresses":                       "resource.instanceDetails.networkInterfaces.ipv6Addresses",
	"resource.instanceDetails.networkInterfaces.privateIpAddresses.privateIpAddress": "resource.instanceDetails.networkInterfaces.privateIpAddress",
	"resource.instanceDetails.networkInterfaces.subnetId":                            "resource.instanceDetails.networkInterfaces.subnetId",
	"resource.instanceDetails.networkInterfaces.vpcId":                               "resource.instanceDetails.networkInterfaces.vpcId",
	"service.action.actionType":                                                      "service.action.actionType",
	"service.action.networkConnectionAction.blocked":                                 "service.action.networkConnectionAction.blocked",
	"service.action.networkConnectionAction.connectionDirection":                     "service.action.networkConnectionAction.connectionDirection",
	"service.action.networkConnectionAction.localPortDetails.port":                   "service.action.networkConnectionAction.localPortDetails.port",
	"service.action.networkConnectionAction.protocol":                                "service.action.networkConnectionAction.protocol",
	"service.action.networkConnectionAction.remoteIpDetails.ipAddressV4":             "service.action.networkConnectionAction.remoteIpDetails.ipAddressV4",
	"service.action.networkConnectionAction.remotePortDetails.port":                  "service.action.networkConnectionAction.remotePortDetails.port",
	"service.action.portProbeAction.portProbeDetails.localPortDetails.port":          "service.action.portProbeAction.portProbeDetails.localPortDetails.port",
	"service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4":    "service.action.portProbeAction.portProbeDetails.remoteIpDetails.ipAddressV4",
	"service.archived":       "service.archived",
	"service.resourceRole":   "service.resourceRole",
	"service.count":          "service.count",
	"service.eventFirstSeen": "service.eventFirstSeen",
	"service.eventLastSeen":  "service.eventLastSeen",
}

func attributeNames() string {
	names := make([]string, 0, len(attributes))
	for n := range attributes {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// decode reads body (an empty body is an empty object) into v: malformed
// JSON or a member of the wrong type is named in the error.
func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return badRequest("the request body's %s: want a %s, got a JSON %s", orWhole(te.Field), te.Type, te.Value)
		case errors.As(err, &se):
			return badRequest("the request body is not JSON (at byte %d: %v)", se.Offset, se)
		default:
			return badRequest("the request body is not JSON of the operation's shape: %v", err)
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("the request body has more than one JSON value")
	}
	return nil
}

func orWhole(field string) string {
	if field == "" {
		return "value"
	}
	return "member " + field
}

func decodeSort(attr, order *string) (*sortCriteria, error) {
	s := &sortCriteria{}
	if attr != nil {
		if _, ok := attributes[*attr]; !ok {
			return nil, badRequest("sortCriteria.attributeName %q: not an attribute vpcflow's findings can be sorted on; want one of %s", *attr, attributeNames())
		}
		s.attribute = attributes[*attr]
	}
	if order != nil {
		switch *order {
		case "ASC":
		case "DESC":
			s.desc = true
		default:
			return nil, badRequest("sortCriteria.orderBy %q: want ASC or DESC", *order)
		}
	}
	return s, nil
}

func decodeListFindings(body []byte) (*listFindingsRequest, error) {
	var b listFindingsBody
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	req := &listFindingsRequest{max: maxResults}
	if b.MaxResults != nil {
		if *b.MaxResults < 1 || *b.MaxResults > maxResults {
			return nil, badRequest("maxResults %d: want 1 to %d", *b.MaxResults, maxResults)
		}
		req.max = *b.MaxResults
	}
	if b.NextToken != nil && *b.NextToken != "" {
		var err error
		if req.offset, err = decodeToken(*b.NextToken); err != nil {
			return nil, err
		}
	}
	if b.SortCriteria != nil {
		var err error
		if req.sort, err = decodeSort(b.SortCriteria.AttributeName, b.SortCriteria.OrderBy); err != nil {
			return nil, err
		}
	}
	if b.FindingCriteria != nil {
		names := make([]string, 0, len(b.FindingCriteria.Criterion))
		for n := range b.FindingCriteria.Criterion {
			names = append(names, n)
		}
		slices.Sort(names) // errors name the same attribute every time
		for _, n := range names {
			t, err := checkCondition(n, b.FindingCriteria.Criterion[n])
			if err != nil {
				return nil, err
			}
			req.criteria = append(req.criteria, t)
		}
	}
	return req, nil
}

// checkCondition checks one criterion: a known attribute, at least one
// condition, at most maxValues values, and no matches/notMatches (GuardDuty's
// wildcards are not supported).
func checkCondition(name string, c condition) (test, error) {
	attr, ok := attributes[name]
	if !ok {
		return test{}, badRequest("findingCriteria.criterion %q: not an attribute vpcflow's findings can be filtered on; want one of %s", name, attributeNames())
	}
	if c.Matches != nil || c.NotMatches != nil {
		return test{}, badRequest("findingCriteria.criterion %q: matches and notMatches are not supported; use equals or notEquals", name)
	}
	t := test{attribute: attr, name: name}
	t.eq = append(append(t.eq, c.Eq...), c.Equals...)
	t.neq = append(append(t.neq, c.Neq...), c.NotEquals...)
	if c.Eq != nil && c.Equals != nil && !slices.Equal(c.Eq, c.Equals) {
		// Both lists must hold: a value must be in each.
		return test{}, badRequest("findingCriteria.criterion %q: eq and equals both given, with other values; give one", name)
	}
	if len(c.Eq) > maxValues || len(c.Equals) > maxValues || len(c.Neq) > maxValues || len(c.NotEquals) > maxValues {
		return test{}, badRequest("findingCriteria.criterion %q: at most %d values per condition", name, maxValues)
	}
	// The tightest of the bounds given holds.
	lower := func(v *int64, strict bool) {
		if v == nil {
			return
		}
		f := float64(*v)
		switch {
		case t.lo == nil || f > *t.lo:
			t.lo, t.loOpen = &f, strict
		case f == *t.lo:
			t.loOpen = t.loOpen || strict
		}
	}
	upper := func(v *int64, strict bool) {
		if v == nil {
			return
		}
		f := float64(*v)
		switch {
		case t.hi == nil || f < *t.hi:
			t.hi, t.hiOpen = &f, strict
		case f == *t.hi:
			t.hiOpen = t.hiOpen || strict
		}
	}
	lower(c.Gte, false)
	lower(c.GreaterThanOrEqual, false)
	lower(c.Gt, true)
	lower(c.GreaterThan, true)
	upper(c.Lte, false)
	upper(c.LessThanOrEqual, false)
	upper(c.Lt, true)
	upper(c.LessThan, true)
	if t.eq == nil && t.neq == nil && t.lo == nil && t.hi == nil {
		return test{}, badRequest("findingCriteria.criterion %q: no condition (want equals, notEquals, greaterThan, ...)", name)
	}
	return t, nil
}

// prefilter is what the Backend can select by itself of the criteria
// (types, archived or not), so that only those findings are converted to
// the wire's form and tested; the tests still decide.
func (cs criteria) prefilter() region.FindingFilter {
	var f region.FindingFilter
	for _, t := range cs {
		if t.eq == nil {
			continue
		}
		switch t.attribute {
		case "type":
			if f.Types == nil {
				f.Types = slices.Clone(t.eq)
			} else {
				f.Types = slices.DeleteFunc(f.Types, func(s string) bool { return !slices.Contains(t.eq, s) })
				if len(f.Types) == 0 {
					f.Types = []string{""} // no type satisfies both
				}
			}
		case "service.archived":
			if len(t.eq) == 1 && (t.eq[0] == "true" || t.eq[0] == "false") {
				a := t.eq[0] == "true"
				f.Archived = &a
			}
		}
	}
	return f
}

// match reports whether every test holds for the finding.
func (cs criteria) match(wf wireFinding) bool {
	for _, t := range cs {
		if !t.match(wf.values(t.attribute)) {
			return false
		}
	}
	return true
}

// match: equals holds when some value of the attribute is one of the
// list; notEquals when none is; a range when some value is a number (or a
// time, as epoch milliseconds) within it.
func (t *test) match(vals []any) bool {
	eq := func(v any, s string) bool {
		if text(v) == s {
			return true
		}
		a, aok := number(v)
		b, bok := number(s)
		if !bok {
			if n, err := json.Number(s).Float64(); err == nil {
				b, bok = n, true
			}
		}
		return aok && bok && a == b
	}
	if t.eq != nil && !slices.ContainsFunc(vals, func(v any) bool { return slices.ContainsFunc(t.eq, func(s string) bool { return eq(v, s) }) }) {
		return false
	}
	if t.neq != nil && slices.ContainsFunc(vals, func(v any) bool { return slices.ContainsFunc(t.neq, func(s string) bool { return eq(v, s) }) }) {
		return false
	}
	if t.lo != nil || t.hi != nil {
		return slices.ContainsFunc(vals, func(v any) bool {
			n, ok := number(v)
			if !ok {
				return false
			}
			if t.lo != nil && (n < *t.lo || t.loOpen && n == *t.lo) {
				return false
			}
			if t.hi != nil && (n > *t.hi || t.hiOpen && n == *t.hi) {
				return false
			}
			return true
		})
	}
	return true
}

func decodeGetFindings(body []byte) (*getFindingsRequest, error) {
	var b getFindingsBody
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	ids, err := checkIDs(b.FindingIDs)
	if err != nil {
		return nil, err
	}
	req := &getFindingsRequest{ids: ids}
	if b.SortCriteria != nil {
		if req.sort, err = decodeSort(b.SortCriteria.AttributeName, b.SortCriteria.OrderBy); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func decodeFindingIDs(body []byte) ([]string, error) {
	var b struct {
		FindingIDs *[]string `json:"findingIds"`
	}
	if err := decode(body, &b); err != nil {
		return nil, err
	}
	return checkIDs(b.FindingIDs)
}

func checkIDs(ids *[]string) ([]string, error) {
	if ids == nil {
		return nil, badRequest("findingIds: required")
	}
	if len(*ids) > maxIDs {
		return nil, badRequest("findingIds: at most %d ids, got %d", maxIDs, len(*ids))
	}
	for i, id := range *ids {
		if id == "" || len(id) > maxIDLength {
			return nil, badRequest("findingIds[%d]: want 1 to %d characters, got %d", i, maxIDLength, len(id))
		}
	}
	// An id given twice names one finding, answered once.
	out := make([]string, 0, len(*ids))
	for _, id := range *ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// wireFinding is a finding as GuardDuty's wire has it: the members of
// detect.Finding (PascalCase, as awscli prints them) with lowerCamelCase
// names, as the service model's locationNames.
type wireFinding struct{ doc map[string]any }

func toWire(f *detect.Finding) (wireFinding, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return wireFinding{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return wireFinding{}, err
	}
	doc, _ := lowerKeys(v).(map[string]any)
	return wireFinding{doc: doc}, nil
}

// lowerKeys lower-cases the first letter of every object key.
func lowerKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, n := utf8.DecodeRuneInString(k)
			out[string(unicode.ToLower(r))+k[n:]] = lowerKeys(e)
		}
		return out
	case []any:
		for i := range x {
			x[i] = lowerKeys(x[i])
		}
		return x
	}
	return v
}

func (wf wireFinding) id() string { s, _ := wf.doc["id"].(string); return s }

// values returns the values at a dotted path, lists flattened.
func (wf wireFinding) values(path string) []any {
	cur := []any{wf.doc}
	for _, part := range strings.Split(path, ".") {
		var next []any
		for _, c := range cur {
			m, ok := c.(map[string]any)
			if !ok {
				continue
			}
			switch v := m[part].(type) {
			case nil:
			case []any:
				next = append(next, v...)
			default:
				next = append(next, v)
			}
		}
		cur = next
	}
	return cur
}
