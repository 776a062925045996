package logsapi

import (
	"net/http"

	"github.com/vpcflow/vpcflow/logsvc"
)

// TargetPrefix is what X-Amz-Target starts with for this API; the action
// follows it.
const TargetPrefix = "Logs_20140328."

// Handler serves CloudWatch Logs requests over a log service. It is safe for
// concurrent use and keeps no state of its own: everything, tags included,
// is the service's.
type Handler struct {
	svc *logsvc.Service
}

// New returns a handler over svc.
func New(svc *logsvc.Service) *Handler {
	return &Handler{svc: svc}
}

// action is one operation: it decodes its request from the body and
// returns the answer's document (nil for {}).
type action func(h *Handler, body []byte, requestID string) (any, error)

var actions = map[string]action{
	"CreateLogGroup":        (*Handler).createLogGroup,
	"DeleteLogGroup":        (*Handler).deleteLogGroup,
	"DescribeLogGroups":     (*Handler).describeLogGroups,
	"CreateLogStream":       (*Handler).createLogStream,
	"DeleteLogStream":       (*Handler).deleteLogStream,
	"DescribeLogStreams":    (*Handler).describeLogStreams,
	"PutRetentionPolicy":    (*Handler).putRetentionPolicy,
	"DeleteRetentionPolicy": (*Handler).deleteRetentionPolicy,
	"PutLogEvents":          (*Handler).putLogEvents,
	"GetLogEvents":          (*Handler).getLogEvents,
	"FilterLogEvents":       (*Handler).filterLogEvents,
	"PutMetricFilter":       (*Handler).putMetricFilter,
	"DescribeMetricFilters": (*Handler).describeMetricFilters,
	"DeleteMetricFilter":    (*Handler).deleteMetricFilter,
	"TestMetricFilter":      (*Handler).testMetricFilter,
	"StartQuery":            (*Handler).startQuery,
	"GetQueryResults":       (*Handler).getQueryResults,
	"StopQuery":             (*Handler).stopQuery,
	"DescribeQueries":       (*Handler).describeQueries,
	"TagResource":           (*Handler).tagResource,
	"UntagResource":         (*Handler).untagResource,
	"ListTagsForResource":   (*Handler).listTagsForResource,
	"TagLogGroup":           (*Handler).tagLogGroup,
	"UntagLogGroup":         (*Handler).untagLogGroup,
	"ListTagsLogGroup":      (*Handler).listTagsLogGroup,
}

// Actions lists the actions the handler serves, for the front's metrics and
// documentation.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	return out
}

// Serve answers one authenticated request; action is the part of
// X-Amz-Target after "Logs_20140328."; body is the JSON request.
func (h *Handler) Serve(w http.ResponseWriter, action string, body []byte, requestID string) {
	act, ok := actions[action]
	if !ok {
		msg := "The requested operation " + action + " is not recognized by the service."
		if action == "" {
			msg = "The request names no operation: X-Amz-Target must be " + TargetPrefix + "<Action>."
		}
		WriteError(w, http.StatusBadRequest, codeUnknownOperation, msg, requestID)
		return
	}
	resp, err := act(h, body, requestID)
	if err != nil {
		writeError(w, toAPIError(err), requestID)
		return
	}
	if resp == nil {
		resp = struct{}{}
	}
	writeJSON(w, http.StatusOK, resp, requestID)
}
