package logsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/filterpattern"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// Error codes of the CloudWatch Logs API
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html
// and each action's Errors section). The service's own codes come from
// logsvc; these are the ones this package answers itself.
const (
	codeInvalidParameter   = logsvc.CodeInvalidParameter // InvalidParameterException
	codeResourceNotFound   = "ResourceNotFoundException"
	codeValidation         = "ValidationException"
	codeServiceUnavailable = "ServiceUnavailableException"
	codeUnknownOperation   = "UnknownOperationException"
	codeSerialization      = "SerializationException"
	codeTooManyTags        = "TooManyTagsException"
	codeMalformedQuery     = logsvc.CodeMalformedQuery // MalformedQueryException
)

// apiError is an answer this package decides itself. extra holds members
// some exceptions add to the error document (MalformedQueryException's
// queryCompileError, TooManyTagsException's resourceName).
type apiError struct {
	status  int
	code    string
	message string
	extra   map[string]any
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func invalidParameter(message string) error {
	return &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, message: message}
}

// errInvalidToken is every operation's answer to a nextToken it did not
// issue (the text is the one the service gives for its own tokens).
var errInvalidToken = invalidParameter("The specified nextToken is invalid.")

// statusOf is the HTTP status AWS gives an error code: 400 for everything
// but the service's own failure, as the API reference lists them.
func statusOf(code string) int {
	switch code {
	case codeServiceUnavailable, "InternalServerException":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// toAPIError turns an error of logsvc (or of this package) into the
// answer AWS gives. An error that carries no AWS code is a failure of the
// service (a disk error, a closed data dir): ServiceUnavailableException,
// which the SDKs retry.
func toAPIError(err error) *apiError {
	var (
		ae  *apiError
		se  *logsvc.APIError
		me  *metricfilter.Error
		pe  *filterpattern.Error
		mqe *logsvc.MalformedQueryError
	)
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mqe):
		// The location is in characters of the query, as AWS gives it.
		return &apiError{status: http.StatusBadRequest, code: codeMalformedQuery, message: mqe.Err.Error(),
			extra: map[string]any{"queryCompileError": map[string]any{
				"location": map[string]int{"startCharOffset": mqe.Err.Start, "endCharOffset": mqe.Err.End},
				"message":  mqe.Err.Msg,
			}}}
	case errors.As(err, &se):
		return &apiError{status: statusOf(se.Code), code: se.Code, message: se.Message}
	case errors.As(err, &me):
		return &apiError{status: statusOf(me.Code), code: me.Code, message: me.Message}
	case errors.As(err, &pe):
		return &apiError{status: http.StatusBadRequest, code: filterpattern.Code, message: pe.Msg}
	}
	return &apiError{status: http.StatusInternalServerError, code: codeServiceUnavailable, message: err.Error()}
}

// WriteError writes the JSON 1.1 error document with the status: the code
// in __type and in the X-Amzn-ErrorType header (the SDKs read either), the
// text in message.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeError(w, &apiError{status: status, code: code, message: message}, requestID)
}

func writeError(w http.ResponseWriter, e *apiError, requestID string) {
	doc := map[string]any{}
	for k, v := range e.extra {
		doc[k] = v
	}
	doc["__type"], doc["message"] = e.code, e.message
	w.Header().Set("X-Amzn-ErrorType", e.code)
	writeJSON(w, e.status, doc, requestID)
}

// writeJSON sends one JSON document. < > & stay as they are (encoding/json
// would escape them as \u003c...): AWS does not escape them, and a message
// is easier to read in a capture without.
func writeJSON(w http.ResponseWriter, status int, v any, requestID string) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a value this package built can get here: a NaN would be one.
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"__type":"ServiceUnavailableException","message":` + strconv.Quote("logsapi: encode the answer: "+err.Error()) + "}")
		w.Header().Set("X-Amzn-ErrorType", codeServiceUnavailable)
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	if requestID != "" {
		h.Set("x-amzn-RequestId", requestID)
	}
	out := strings.TrimSuffix(b.String(), "\n")
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(out))
}

// violations collects the shape violations of one request and gives them in
// AWS's words ("1 validation error detected: Value 'x' at 'member' failed
// to satisfy constraint: Member must ..."), in the order of the members in
// the request shape.
type violations []string

func (v *violations) add(value, member, rule string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, rule))
}

// null records a required member that is absent (or null).
func (v *violations) null(member string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalidParameter("1 validation error detected: " + v[0])
	}
	return invalidParameter(fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; ")))
}

// requiredString records a missing required string member.
func (v *violations) requiredString(s *string, member string) {
	if s == nil {
		v.null(member)
	}
}

// length checks a string's length in characters, as the model counts
// them; max 0 is no maximum.
func (v *violations) length(s *string, member string, min, max int) {
	if s == nil {
		return
	}
	n := utf8.RuneCountInString(*s)
	switch {
	case n < min:
		v.add(*s, member, "have length greater than or equal to "+strconv.Itoa(min))
	case max > 0 && n > max:
		v.add(*s, member, "have length less than or equal to "+strconv.Itoa(max))
	}
}

// pattern checks a string against the model's pattern.
func (v *violations) pattern(s *string, member string, re *regexp.Regexp, text string) {
	if s != nil && !re.MatchString(*s) {
		v.add(*s, member, "satisfy regular expression pattern: "+text)
	}
}

// intRange checks an integer member against the model's range.
func (v *violations) intRange(n *int64, member string, min, max int64) {
	if n == nil {
		return
	}
	switch {
	case *n < min:
		v.add(strconv.FormatInt(*n, 10), member, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	case *n > max:
		v.add(strconv.FormatInt(*n, 10), member, "have value less than or equal to "+strconv.FormatInt(max, 10))
	}
}

// minValue checks a long member that only has a minimum (timestamps).
func (v *violations) minValue(n *int64, member string, min int64) {
	if n != nil && *n < min {
		v.add(strconv.FormatInt(*n, 10), member, "have value greater than or equal to "+strconv.FormatInt(min, 10))
	}
}

// enum checks a string member against the model's enum.
func (v *violations) enum(s *string, member string, values []string) {
	if s == nil {
		return
	}
	for _, e := range values {
		if *s == e {
			return
		}
	}
	v.add(*s, member, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// listLength checks a list's number of members; max 0 is no maximum.
// The value is rendered as the service renders a list ([a, b]).
func listLength[T any](v *violations, list []T, present bool, member string, min, max int) {
	if !present {
		return
	}
	switch {
	case len(list) < min:
		v.add(renderList(list), member, "have length greater than or equal to "+strconv.Itoa(min))
	case max > 0 && len(list) > max:
		v.add(renderList(list), member, "have length less than or equal to "+strconv.Itoa(max))
	}
}

func renderList[T any](list []T) string {
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = fmt.Sprint(deref(x))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func deref(x any) any {
	switch p := x.(type) {
	case *string:
		if p == nil {
			return "null"
		}
		return *p
	}
	return x
}

// renderMap renders a map as the service renders one in a validation
// message ({k=v, k2=v2}), keys sorted so that the text is stable.
func renderMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
