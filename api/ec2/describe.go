package ec2

import (
	"encoding/base64"
	"slices"
	"strings"

	"github.com/vpcflow/vpcflow/api/query"
)

// set is an EC2 list in a response: <fooSet><item>...</item></fooSet>. A
// nil *set omits the element; an empty one is written empty (<fooSet/> in
// AWS's documents), as AWS does for the lists it always returns.
type set[T any] struct {
	Items []T `xml:"item"`
}

func newSet[T any](items []T) *set[T] { return &set[T]{Items: items} }

// optSet is newSet, or nil (element omitted) for an empty list.
func optSet[T any](items []T) *set[T] {
	if len(items) == 0 {
		return nil
	}
	return newSet(items)
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// Pagination.
//
// A NextToken names the last item of the page it ends, with the kind of
// resource: the next page starts after that item in the action's order,
// wherever it now is. So paging is stable while resources come and go
// between calls (nothing is skipped or repeated, new items after the token
// appear), and a token of one action is refused by another.

// encodeToken makes a NextToken: opaque to clients, and checked on return.
func encodeToken(kind, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v1|" + kind + "|" + last))
}

// decodeToken reads a NextToken of kind; "" (no token) gives "".
func decodeToken(kind, tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err == nil {
		rest, ok := strings.CutPrefix(string(raw), "v1|"+kind+"|")
		if ok && rest != "" {
			return rest, nil
		}
	}
	// EC2 does not document the code of a bad token; InvalidParameterValue
	// is its code for a value it cannot use.
	return "", query.Errorf("InvalidParameterValue", "The specified NextToken is not valid.")
}

// page cuts items (sorted by key, increasing) into the page after the
// token's key: at most max items (all when max is 0) and the token of the
// next page, "" when this is the last.
func page[T any](items []T, key func(T) string, kind, after string, max int) ([]T, string) {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(items, after, func(it T, k string) int { return strings.Compare(key(it), k) })
		if start < len(items) && key(items[start]) == after {
			start++
		}
	}
	items = items[start:]
	if max <= 0 || len(items) <= max {
		return items, ""
	}
	return items[:max], encodeToken(kind, key(items[max-1]))
}

// Filters.

// filterFunc gives the values a resource has for one filter name; the
// resource matches when one of them matches one of the filter's values.
type filterFunc[T any] func(T) []string

// matcher compiles EC2 filters: different filters are ANDed, the values of
// one filter ORed, and values may use the wildcards * (any run of
// characters) and ? (one character), as EC2's Describe actions document.
// known are the filter names a resource type has; names AWS documents but
// the declared network holds no data for are in noData and match nothing.
// tag:<key> and tag-key match the resource's tags (tags returns them).
func matcher[T any](fs []query.Filter, known map[string]filterFunc[T], noData []string, tags func(T) []tagXML) (func(T) bool, error) {
	var preds []func(T) bool
	for _, f := range fs {
		if len(f.Values) == 0 {
			return nil, query.Errorf("InvalidParameterValue", "The filter '%s' does not have a value", f.Name)
		}
		vals := f.Values
		anyMatch := func(have []string) bool {
			for _, h := range have {
				for _, v := range vals {
					if wildcard(v, h) {
						return true
					}
				}
			}
			return false
		}
		if fn, ok := known[f.Name]; ok {
			preds = append(preds, func(r T) bool { return anyMatch(fn(r)) })
			continue
		}
		if key, ok := strings.CutPrefix(f.Name, "tag:"); ok && key != "" {
			preds = append(preds, func(r T) bool {
				for _, t := range tags(r) {
					if t.Key == key && anyMatch([]string{t.Value}) {
						return true
					}
				}
				return false
			})
			continue
		}
		if f.Name == "tag-key" || f.Name == "tag-value" {
			preds = append(preds, func(r T) bool {
				for _, t := range tags(r) {
					if f.Name == "tag-key" && anyMatch([]string{t.Key}) || f.Name == "tag-value" && anyMatch([]string{t.Value}) {
						return true
					}
				}
				return false
			})
			continue
		}
		if slices.Contains(noData, f.Name) {
			preds = append(preds, func(T) bool { return false })
			continue
		}
		return nil, query.Errorf("InvalidParameterValue", "The filter '%s' is invalid", f.Name)
	}
	return func(r T) bool {
		for _, p := range preds {
			if !p(r) {
				return false
			}
		}
		return true
	}, nil
}

// wildcard matches s against an EC2 filter value: * is any run of
// characters, ? any one character, \ escapes the next character.
func wildcard(pattern, s string) bool {
	if !strings.ContainsAny(pattern, `*?\`) {
		return pattern == s
	}
	// Iterative matching with one backtrack point: linear in practice and
	// never exponential, whatever the pattern.
	p, r := []rune(pattern), []rune(s)
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(r) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == '?':
			pi++
			si++
		case pi < len(p) && lit(p, pi) == r[si]:
			if p[pi] == '\\' && pi+1 < len(p) {
				pi++
			}
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// lit is the literal character at p[i], after an escaping backslash.
func lit(p []rune, i int) rune {
	if p[i] == '\\' && i+1 < len(p) {
		return p[i+1]
	}
	return p[i]
}

// notFound is EC2's error for ids a Describe action does not know, in the
// wording EC2 uses: "The vpc ID 'vpc-1a2b3c4d' does not exist", and for
// several "The vpc IDs 'vpc-1, vpc-2' do not exist".
func notFound(code, noun string, ids []string) error {
	if len(ids) == 1 {
		return query.Errorf(code, "The %s '%s' does not exist", noun, ids[0])
	}
	return query.Errorf(code, "The %ss '%s' do not exist", noun, strings.Join(ids, ", "))
}

// maxIDs bounds the ids of one Describe call; EC2 documents 1,000 for its
// flow-log ids, the largest list these actions take.
const maxIDs = 1000

func idList(p query.Params, name string) ([]string, error) {
	ids := p.List(name)
	if len(ids) > maxIDs {
		return nil, query.Errorf("InvalidParameterValue", "The parameter %s has %d values; the maximum is %d", name, len(ids), maxIDs)
	}
	return ids, nil
}
