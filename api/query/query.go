// Package query decodes requests of the AWS Query protocol, the form-encoded
// protocol of EC2 and IAM: `Action=CreateFlowLogs&Version=2016-11-15&...`
// sent as the body of a POST or the query string of a GET.
//
// It exists so every Query service of the emulator reads parameters the same
// way and answers a bad one with the error AWS gives (MissingParameter,
// InvalidParameterValue, ...) instead of each handler inventing its own.
// Decoding never panics and allocates in proportion to the request, whatever
// the request holds: a list index is a key, not a slice size.
//
// Names follow the protocol's flattening rules, as the AWS SDKs serialize
// them (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html):
//
//	ResourceId.1=vpc-a&ResourceId.2=vpc-b            a list, EC2 style     (Params.List)
//	PolicyArns.member.1=arn:...                     a list, IAM style     (Params.Members)
//	DestinationOptions.FileFormat=parquet           a structure           (Params.Struct)
//	Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-a     a list of structures  (Params.Structs, Params.Filters)
package query

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of a request. They are far above anything the AWS SDKs send and
// bound the work a hostile request can cause.
const (
	// MaxParams is the most parameters one request may carry. EC2's largest
	// lists (1,000 flow log or resource ids) with filters fit many times.
	MaxParams = 20000
	// MaxIndex is the largest list index accepted (Name.MaxIndex). Indexes
	// are map keys here, so a larger one would cost nothing, but no AWS list
	// is that long and a clean error beats a silently accepted typo.
	MaxIndex = 100000
)

// Request is one decoded Query request.
type Request struct {
	Action  string
	Version string
	// Values are the other parameters, one value each (a parameter given
	// twice is refused by Parse). Do not change them once an accessor has
	// been used: the accessors keep a sorted index of the names.
	Values url.Values

	keys []string // sorted names of Values, built on first use
}

// Error is an AWS error: the HTTP status and the Code and Message the error
// document carries.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf is an Error with status 400, the status of every client error of
// the Query services.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// MissingParameter is AWS's error for an absent required parameter.
func MissingParameter(name string) *Error {
	return Errorf("MissingParameter", "The request must contain the parameter %s", name)
}

// InvalidValue is AWS's InvalidParameterValue in the wording EC2 uses:
// "Value ( 1 ) for parameter maxResults is invalid. Expecting a value
// greater than 5." (observed from EC2). expecting completes the sentence;
// it may be empty.
func InvalidValue(name, value, expecting string) *Error {
	msg := fmt.Sprintf("Value ( %s ) for parameter %s is invalid.", value, name)
	if expecting != "" {
		msg += " " + expecting
	}
	return Errorf("InvalidParameterValue", "%s", msg)
}

// malformed is the error of a request that is not a well-formed form. The
// AWS common errors list MalformedQueryString ("The query string contains a
// syntax error"); EC2's error reference gives client errors a 4xx status
// without naming one per code, so it is 400 like the others.
func malformed(format string, args ...any) *Error {
	return Errorf("MalformedQueryString", format, args...)
}

// Parse decodes an HTTP request of the Query protocol. body is the request
// body, already read by the caller (the signature check needs it too);
// r.Body is not touched. A POST carries a form-encoded body (Content-Type
// application/x-www-form-urlencoded, or none); parameters in its URL are
// taken too. A GET carries them in the URL. Errors are *Error.
func Parse(r *http.Request, body []byte) (*Request, error) {
	var parts []string
	if r.URL != nil && r.URL.RawQuery != "" {
		parts = append(parts, r.URL.RawQuery)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && len(body) > 0 {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != "application/x-www-form-urlencoded" {
				return nil, malformed("The Content-Type %q is not application/x-www-form-urlencoded", ct)
			}
		}
		parts = append(parts, string(body))
	}
	return parse(parts...)
}

// ParseForm decodes one form-encoded string (a body or a URL query).
// Errors are *Error.
func ParseForm(form string) (*Request, error) { return parse(form) }

func parse(forms ...string) (*Request, error) {
	req := &Request{Values: url.Values{}}
	seen := map[string]bool{}
	n := 0
	for _, form := range forms {
		for form != "" {
			var pair string
			pair, form, _ = strings.Cut(form, "&")
			if pair == "" {
				continue
			}
			if n++; n > MaxParams {
				return nil, malformed("The request has more than %d parameters", MaxParams)
			}
			rawKey, rawValue, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(rawKey)
			if err != nil {
				return nil, malformed("The parameter name %q is not validly percent-encoded", truncate(rawKey))
			}
			value, err := url.QueryUnescape(rawValue)
			if err != nil {
				return nil, malformed("The value of parameter %s is not validly percent-encoded", truncate(key))
			}
			if err := checkName(key); err != nil {
				return nil, err
			}
			if !utf8.ValidString(value) {
				return nil, malformed("The value of parameter %s is not valid UTF-8", truncate(key))
			}
			if seen[key] {
				return nil, malformed("The parameter %s is given more than once", truncate(key))
			}
			seen[key] = true
			switch key {
			case "Action":
				req.Action = value
			case "Version":
				req.Version = value
			default:
				req.Values[key] = []string{value}
			}
		}
	}
	req.index()
	return req, nil
}

// checkName refuses names no SDK sends: empty, not UTF-8, or with a list
// index that is not a plain positive number up to MaxIndex ("Name.0",
// "Name.01", "Name.99999999999").
func checkName(key string) error {
	if key == "" {
		return malformed("A parameter has an empty name")
	}
	if !utf8.ValidString(key) {
		return malformed("A parameter name is not valid UTF-8")
	}
	for seg := range strings.SplitSeq(key, ".") {
		if !allDigits(seg) {
			continue
		}
		if _, ok := parseIndex(seg); !ok {
			return Errorf("InvalidParameterValue", "The list index %s in parameter %s is invalid: indexes run from 1 to %d, without leading zeros",
				truncate(seg), truncate(key), MaxIndex)
		}
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseIndex reads a list index: 1 to MaxIndex, no sign, no leading zero.
func parseIndex(s string) (int, bool) {
	if !allDigits(s) || s[0] == '0' || len(s) > len(strconv.Itoa(MaxIndex)) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxIndex {
		return 0, false
	}
	return n, true
}

// truncate shortens what a client sent before it goes into a message.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func (r *Request) index() []string {
	if r.keys == nil || len(r.keys) != len(r.Values) {
		r.keys = make([]string, 0, len(r.Values))
		for k := range r.Values {
			r.keys = append(r.keys, k)
		}
		sort.Strings(r.keys)
	}
	return r.keys
}

// Params is the root of the request's parameters.
func (r *Request) Params() Params { return Params{r: r} }

// Params reads parameters: those of the request, or those of one structure
// inside it (Struct, Structs), whose names are relative to it. Errors are
// *Error and name the parameter as the client spelled it
// ("Filter.2.Value.1").
type Params struct {
	r      *Request
	prefix string // "" or "Filter.2."
}

// Name is the full name of the parameter name of p ("Filter.2.Name").
func (p Params) Name(name string) string { return p.prefix + name }

func (p Params) get(name string) (string, bool) {
	if p.r == nil || p.r.Values == nil {
		return "", false
	}
	vs, ok := p.r.Values[p.prefix+name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// Lookup returns the value of a parameter and whether it was given.
func (p Params) Lookup(name string) (string, bool) { return p.get(name) }

// String returns the value of a parameter, "" when absent.
func (p Params) String(name string) string {
	v, _ := p.get(name)
	return v
}

// Required returns the value of a parameter that must be given and not be
// empty, else MissingParameter.
func (p Params) Required(name string) (string, error) {
	v, ok := p.get(name)
	if !ok || v == "" {
		return "", MissingParameter(p.Name(name))
	}
	return v, nil
}

// Int returns an integer parameter (32 bits, as the Query protocol's
// Integer) and whether it was given. A value that is not a decimal integer
// is InvalidParameterValue.
func (p Params) Int(name string) (int, bool, error) {
	v, ok := p.get(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, true, InvalidValue(p.Name(name), truncate(v), "Expecting an integer.")
	}
	return int(n), true, nil
}

// IntRange is Int with the value checked to be in [min, max].
func (p Params) IntRange(name string, min, max int) (int, bool, error) {
	n, ok, err := p.Int(name)
	if err != nil || !ok {
		return n, ok, err
	}
	if n < min || n > max {
		return n, true, InvalidValue(p.Name(name), strconv.Itoa(n), fmt.Sprintf("Expecting a value between %d and %d.", min, max))
	}
	return n, true, nil
}

// Bool returns a boolean parameter and whether it was given: true or false,
// in any case. Anything else is InvalidParameterValue.
func (p Params) Bool(name string) (bool, bool, error) {
	v, ok := p.get(name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, InvalidValue(p.Name(name), truncate(v), "Expecting a boolean: true or false.")
}

// Has reports whether the parameter name, or anything under it
// ("name.x"), was given.
func (p Params) Has(name string) bool {
	if _, ok := p.get(name); ok {
		return true
	}
	full := p.prefix + name + "."
	keys := p.keys()
	i := sort.SearchStrings(keys, full)
	return i < len(keys) && strings.HasPrefix(keys[i], full)
}

func (p Params) keys() []string {
	if p.r == nil {
		return nil
	}
	return p.r.index()
}

// under returns the names that start with full, in sorted order.
func (p Params) under(full string) []string {
	keys := p.keys()
	i := sort.SearchStrings(keys, full)
	j := i
	for j < len(keys) && strings.HasPrefix(keys[j], full) {
		j++
	}
	return keys[i:j]
}

// List returns an EC2-style flattened list, name.1, name.2, ..., in index
// order (gaps are allowed, as the order is what matters). Names under it
// that are not name.N are ignored. nil when absent.
func (p Params) List(name string) []string {
	full := p.prefix + name + "."
	type item struct {
		i int
		v string
	}
	var items []item
	for _, k := range p.under(full) {
		i, ok := parseIndex(k[len(full):])
		if !ok {
			continue
		}
		items = append(items, item{i, p.r.Values[k][0]})
	}
	if len(items) == 0 {
		return nil
	}
	sort.Slice(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// Members returns an IAM-style list, name.member.1, name.member.2, ...
func (p Params) Members(name string) []string { return p.List(name + ".member") }

// Struct returns the structure name (its fields are name.Field) and
// whether any of its fields was given.
func (p Params) Struct(name string) (Params, bool) {
	s := Params{r: p.r, prefix: p.prefix + name + "."}
	return s, len(p.under(s.prefix)) > 0
}

// Structs returns a flattened list of structures, name.N.Field, one Params
// per index in index order. nil when absent.
func (p Params) Structs(name string) []Params {
	full := p.prefix + name + "."
	var idx []int
	last := ""
	for _, k := range p.under(full) {
		seg, _, found := strings.Cut(k[len(full):], ".")
		if !found || seg == last {
			continue
		}
		last = seg
		if i, ok := parseIndex(seg); ok {
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	var out []Params
	for _, i := range idx {
		out = append(out, Params{r: p.r, prefix: full + strconv.Itoa(i) + "."})
	}
	return out
}

// Filter is one Filter.N of an EC2 Describe action.
type Filter struct {
	Name   string
	Values []string
}

// Filters returns EC2 filters: name.N.Name and name.N.Value.M (the query
// name of EC2's Filters member is "Filter"). A filter without a name is
// MissingParameter.
func (p Params) Filters(name string) ([]Filter, error) {
	var out []Filter
	for _, it := range p.Structs(name) {
		n, err := it.Required("Name")
		if err != nil {
			return nil, err
		}
		out = append(out, Filter{Name: n, Values: it.List("Value")})
	}
	return out, nil
}

// Tag is a resource tag.
type Tag struct{ Key, Value string }

// Tags returns name.N.Key and name.N.Value. A tag without a key is
// MissingParameter; a missing value is "", as EC2 allows.
func (p Params) Tags(name string) ([]Tag, error) {
	var out []Tag
	for _, it := range p.Structs(name) {
		k, ok := it.get("Key")
		if !ok {
			return nil, MissingParameter(it.Name("Key"))
		}
		out = append(out, Tag{Key: k, Value: it.String("Value")})
	}
	return out, nil
}

// TagSpecification is one TagSpecification.N of an EC2 Create action.
type TagSpecification struct {
	ResourceType string
	Tags         []Tag
}

// TagSpecifications returns name.N.ResourceType and name.N.Tag.M.Key/Value
// (the query name of EC2's TagSpecifications member is
// "TagSpecification").
func (p Params) TagSpecifications(name string) ([]TagSpecification, error) {
	var out []TagSpecification
	for _, it := range p.Structs(name) {
		tags, err := it.Tags("Tag")
		if err != nil {
			return nil, err
		}
		out = append(out, TagSpecification{ResourceType: it.String("ResourceType"), Tags: tags})
	}
	return out, nil
}
