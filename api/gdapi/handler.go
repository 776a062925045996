package gdapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcflow/vpcflow/detect"
	"github.com/vpcflow/vpcflow/region"
)

// SigningName is GuardDuty's SigV4 service name: the front routes requests
// signed for it here.
const SigningName = "guardduty"

// Backend is what the API reads and changes: region.Region.
type Backend interface {
	Identity() region.Identity
	Detector() region.Detector
	Findings(region.FindingFilter) []*detect.Finding
	ArchiveFindings(ids []string, archived bool) (unknown []string, err error)
}

// Handler answers GuardDuty requests.
type Handler struct{ b Backend }

// New returns a Handler over b.
func New(b Backend) *Handler { return &Handler{b: b} }

// Limits of the API (GuardDuty's, from its service model).
const (
	maxResults  = 50  // MaxResults of ListDetectors and ListFindings, and the default
	maxIDs      = 50  // FindingIds of GetFindings, ArchiveFindings, UnarchiveFindings
	maxIDLength = 300 // DetectorId, FindingId
	maxValues   = 50  // values of an Eq or Neq condition
)

// route is one operation: its method and path pattern ({id} is the
// detector id).
type route struct {
	method, path, op string
}

var routes = []route{
	{http.MethodGet, "/detector", "ListDetectors"},
	{http.MethodGet, "/detector/{id}", "GetDetector"},
	{http.MethodPost, "/detector/{id}/findings", "ListFindings"},
	{http.MethodPost, "/detector/{id}/findings/get", "GetFindings"},
	{http.MethodPost, "/detector/{id}/findings/archive", "ArchiveFindings"},
	{http.MethodPost, "/detector/{id}/findings/unarchive", "UnarchiveFindings"},
}

// match returns the operation of method and path and the detector id in
// the path ("" when none matches).
func match(method, path string) (op, detectorID string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, rt := range routes {
		want := strings.Split(strings.TrimPrefix(rt.path, "/"), "/")
		if rt.method != method || len(want) != len(segs) {
			continue
		}
		id, ok := "", true
		for i, w := range want {
			switch {
			case w == "{id}":
				id = segs[i]
			case w != segs[i]:
				ok = false
			}
		}
		if ok {
			return rt.op, id
		}
	}
	return "", ""
}

// Operation names the operation of a request, for the front's metrics
// ("unknown" when it is none of those served).
func Operation(method, path string) string {
	if op, _ := match(method, path); op != "" {
		return op
	}
	return "unknown"
}

// Serve answers one authenticated request whose body has been read.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request, body []byte, requestID string) {
	op, id := match(r.Method, r.URL.EscapedPath())
	if op == "" {
		writeError(w, &apiError{status: http.StatusNotFound, code: "UnknownOperationException", typ: "UnknownOperationException",
			message: fmt.Sprintf("%s %s is not an operation of the GuardDuty API that vpcflow serves (docs/api-guardduty.md)", r.Method, r.URL.Path)}, requestID)
		return
	}
	var out any
	var err error
	if op == "ListDetectors" {
		out, err = h.listDetectors(r)
	} else if err = h.checkDetector(id); err == nil {
		switch op {
		case "GetDetector":
			out = h.getDetector()
		case "ListFindings":
			out, err = h.listFindings(body)
		case "GetFindings":
			out, err = h.getFindings(body)
		case "ArchiveFindings":
			out, err = h.archive(body, true)
		case "UnarchiveFindings":
			out, err = h.archive(body, false)
		}
	}
	if err != nil {
		writeError(w, asAPIError(err), requestID)
		return
	}
	writeJSON(w, http.StatusOK, out, requestID)
}

// checkDetector refuses any detector id but the service's, as GuardDuty
// refuses one of another account.
func (h *Handler) checkDetector(id string) error {
	d := h.b.Detector()
	if id == "" || len(id) > maxIDLength {
		return badRequest("detectorId: want 1 to %d characters, got %d", maxIDLength, len(id))
	}
	if !d.Enabled || id != d.ID {
		return &apiError{status: http.StatusBadRequest, code: "BadRequestException", typ: "InvalidInputException",
			message: "The request is rejected because the input detectorId is not owned by the current account."}
	}
	return nil
}

func (h *Handler) listDetectors(r *http.Request) (any, error) {
	q := r.URL.Query()
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxResults {
			return nil, badRequest("maxResults: want an integer from 1 to %d, got %q", maxResults, v)
		}
	}
	if v := q.Get("nextToken"); v != "" {
		return nil, badRequest("nextToken %q: this service has one detector; no token continues the list", v)
	}
	ids := []string{}
	if d := h.b.Detector(); d.Enabled {
		ids = append(ids, d.ID)
	}
	return map[string]any{"detectorIds": ids}, nil
}

// timeMillis is the layout GuardDuty gives the detector's times.
const timeMillis = "2006-01-02T15:04:05.000Z"

func (h *Handler) getDetector() any {
	d, id := h.b.Detector(), h.b.Identity()
	return map[string]any{
		"createdAt": d.CreatedAt.UTC().Format(timeMillis),
		// GuardDuty's default; vpcflow exports findings nowhere, so it
		// only says what a detector made with defaults says.
		"findingPublishingFrequency": "SIX_HOURS",
		"serviceRole":                fmt.Sprintf("arn:aws:iam::%s:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty", id.Account),
		"status":                     "ENABLED",
		"updatedAt":                  d.UpdatedAt.UTC().Format(timeMillis),
		"dataSources": map[string]any{
			"cloudTrail": map[string]string{"status": "DISABLED"},
			"dnsLogs":    map[string]string{"status": "DISABLED"},
			"flowLogs":   map[string]string{"status": "ENABLED"},
			"s3Logs":     map[string]string{"status": "DISABLED"},
		},
		"tags": map[string]string{},
	}
}

func (h *Handler) listFindings(body []byte) (any, error) {
	req, err := decodeListFindings(body)
	if err != nil {
		return nil, err
	}
	all := h.b.Findings(req.criteria.prefilter())
	wires := make([]wireFinding, 0, len(all))
	for _, f := range all {
		wf, err := toWire(f)
		if err != nil {
			return nil, err
		}
		if req.criteria.match(wf) {
			wires = append(wires, wf)
		}
	}
	sortFindings(wires, req.sort)
	end := min(req.offset+req.max, len(wires))
	ids := []string{}
	if req.offset < len(wires) {
		for _, wf := range wires[req.offset:end] {
			ids = append(ids, wf.id())
		}
	}
	out := map[string]any{"findingIds": ids}
	if end < len(wires) {
		out["nextToken"] = encodeToken(end)
	}
	return out, nil
}

func (h *Handler) getFindings(body []byte) (any, error) {
	req, err := decodeGetFindings(body)
	if err != nil {
		return nil, err
	}
	found := h.b.Findings(region.FindingFilter{IDs: req.ids})
	wires := make([]wireFinding, 0, len(found))
	for _, f := range found {
		wf, err := toWire(f)
		if err != nil {
			return nil, err
		}
		wires = append(wires, wf)
	}
	if req.sort != nil {
		sortFindings(wires, req.sort)
	}
	list := make([]any, len(wires))
	for i, wf := range wires {
		list[i] = wf.doc
	}
	return map[string]any{"findings": list}, nil
}

func (h *Handler) archive(body []byte, archived bool) (any, error) {
	ids, err := decodeFindingIDs(body)
	if err != nil {
		return nil, err
	}
	unknown, err := h.b.ArchiveFindings(ids, archived)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: "InternalServerErrorException", typ: "InternalException", message: err.Error()}
	}
	if len(unknown) > 0 {
		return nil, &apiError{status: http.StatusBadRequest, code: "BadRequestException", typ: "InvalidInputException",
			message: fmt.Sprintf("The request is rejected because these findingIds name no finding of the detector: %s", strings.Join(unknown, ", "))}
	}
	return map[string]any{}, nil
}

// encodeToken and decodeToken make the position in a list an opaque
// token, as GuardDuty's are.
func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeToken(tok string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	n, cerr := 0, error(nil)
	if err == nil {
		s, ok := strings.CutPrefix(string(b), "offset:")
		if n, cerr = strconv.Atoi(s); !ok || cerr != nil || n < 0 {
			err = fmt.Errorf("bad token")
		}
	}
	if err != nil {
		return 0, badRequest("nextToken %q: not a token this API gave", tok)
	}
	return n, nil
}

// sortFindings orders by the sort criteria's attribute (numbers and times
// by value, others as text), keeping the Backend's order (first seen,
// type, id) among equals.
func sortFindings(wires []wireFinding, s *sortCriteria) {
	if s == nil || s.attribute == "" {
		return
	}
	slices.SortStableFunc(wires, func(a, b wireFinding) int {
		c := compareValues(a.values(s.attribute), b.values(s.attribute))
		if s.desc {
			return -c
		}
		return c
	})
}

// compareValues compares the first values of two attributes: absent
// first, then numbers (times as epoch milliseconds) before text.
func compareValues(a, b []any) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return -1
	case len(b) == 0:
		return 1
	}
	an, aok := number(a[0])
	bn, bok := number(b[0])
	switch {
	case aok && bok:
		if an < bn {
			return -1
		} else if an > bn {
			return 1
		}
		return 0
	case aok:
		return -1
	case bok:
		return 1
	}
	return strings.Compare(text(a[0]), text(b[0]))
}

// number reads a JSON number, or a time as epoch milliseconds (GuardDuty
// compares updatedAt and the like as such).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case string:
		for _, layout := range []string{timeMillis, time.RFC3339} {
			if t, err := time.Parse(layout, x); err == nil {
				return float64(t.UnixMilli()), true
			}
		}
	}
	return 0, false
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
