package cwapi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"reflect"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
)

// Version is the API version of CloudWatch's Query protocol, which tells
// a CloudWatch request apart when its signature names no service.
const Version = "2010-08-01"

// ServiceID is the service's name in the rpc-v2-cbor path
// (/service/GraniteServiceVersion20100801/operation/<Action>).
const ServiceID = "GraniteServiceVersion20100801"

const xmlns = "http://monitoring.amazonaws.com/doc/2010-08-01/"

// Error codes: CloudWatch's Query codes (what awscli prints and the SDKs
// report as ErrorCode), from the API reference's Errors sections and
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html.
const (
	codeValidation                  = "ValidationError"
	codeInvalidParameterValue       = "InvalidParameterValue"
	codeInvalidParameterCombination = "InvalidParameterCombination"
	codeMissingParameter            = "MissingParameter"
	codeResourceNotFound            = "ResourceNotFound"
	codeInvalidNextToken            = "InvalidNextToken"
	codeInvalidFormat               = "InvalidFormat"
	codeInvalidAction               = "InvalidAction"
	codeInternal                    = "InternalServiceError"
	codeSerialization               = "SerializationException"
)

// errorShapes are the model's exception shapes behind the Query codes: the
// rpc-v2-cbor protocol names the shape in "__type" and the Query code in
// the X-Amzn-Query-Error header, and the SDKs report the latter.
var errorShapes = map[string]struct {
	shape  string
	status int
}{
	codeInvalidParameterValue:       {"InvalidParameterValueException", http.StatusBadRequest},
	codeInvalidParameterCombination: {"InvalidParameterCombinationException", http.StatusBadRequest},
	codeMissingParameter:            {"MissingRequiredParameterException", http.StatusBadRequest},
	codeResourceNotFound:            {"ResourceNotFound", http.StatusNotFound},
	codeInvalidNextToken:            {"InvalidNextToken", http.StatusBadRequest},
	codeInvalidFormat:               {"InvalidFormatFault", http.StatusBadRequest},
	"LimitExceeded":                 {"LimitExceededFault", http.StatusBadRequest},
	codeInternal:                    {"InternalServiceFault", http.StatusInternalServerError},
}

// apiError is an answer this package decides itself.
type apiError struct {
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// statusOf is the HTTP status of an error code: the model's, else 400
// (500 for the service's own failures).
func statusOf(code string) int {
	if s, ok := errorShapes[code]; ok {
		return s.status
	}
	return http.StatusBadRequest
}

// Handler serves CloudWatch requests over a log service, whose metric
// filters write the metrics and which keeps the alarms. It holds no
// state of its own.
type Handler struct {
	svc *logsvc.Service
}

// New returns a handler over svc.
func New(svc *logsvc.Service) *Handler { return &Handler{svc: svc} }

// Serve answers one authenticated Query request (awscli, the older SDKs)
// with the XML document of the action.
func (h *Handler) Serve(w http.ResponseWriter, req *query.Request, id string) {
	if req == nil || req.Action == "" {
		WriteError(w, http.StatusBadRequest, "MissingAction", "Missing Action", id)
		return
	}
	out, err := h.do(req.Action, formInput{req.Params()})
	if err != nil {
		status, code, msg := errorOf(err)
		WriteError(w, status, code, msg, id)
		return
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<` + req.Action + `Response xmlns="` + xmlns + `">`)
	if out != nil {
		b.WriteString("<" + req.Action + "Result>")
		writeXML(&b, reflect.ValueOf(out))
		b.WriteString("</" + req.Action + "Result>")
	}
	b.WriteString("<ResponseMetadata><RequestId>" + id + "</RequestId></ResponseMetadata>")
	b.WriteString("</" + req.Action + "Response>")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// ServeCBOR answers one authenticated rpc-v2-cbor request (aws-sdk-go-v2
// and the other SDKs of 2025 on): action is the operation of the path, body
// a CBOR map of its members. The answer is a CBOR map of the output
// members ({} for an action without output).
func (h *Handler) ServeCBOR(w http.ResponseWriter, action string, body []byte, id string) {
	in, err := decodeCBOR(body)
	var out any
	if err == nil {
		out, err = h.do(action, in)
	}
	if err != nil {
		status, code, msg := errorOf(err)
		WriteCBORError(w, status, code, msg, id)
		return
	}
	v := cbor.Value(cbor.Map{})
	if out != nil {
		v = toCBOR(reflect.ValueOf(out))
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(http.StatusOK)
	w.Write(cbor.Encode(v))
}

// errorOf maps an error to the HTTP status, code and message of the answer.
func errorOf(err error) (int, string, string) {
	var ae *apiError
	var me *metricfilter.Error
	var qe *query.Error
	switch {
	case errors.As(err, &ae):
		return statusOf(ae.code), ae.code, ae.message
	case errors.As(err, &me):
		return statusOf(me.Code), me.Code, me.Message
	case errors.As(err, &qe):
		return qe.Status, qe.Code, qe.Message
	}
	return http.StatusInternalServerError, codeInternal, err.Error()
}

// faultOf is the error's fault as the Query error document and the
// X-Amzn-Query-Error header give it.
func faultOf(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// WriteError writes CloudWatch's Query error document:
// <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>.
func WriteError(w http.ResponseWriter, status int, code, message, id string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ErrorResponse xmlns="` + xmlns + `"><Error><Type>` + faultOf(status) + `</Type><Code>`)
	xmlEscape(&b, code)
	b.WriteString("</Code><Message>")
	xmlEscape(&b, message)
	b.WriteString("</Message></Error><RequestId>" + id + "</RequestId></ErrorResponse>")
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// WriteCBORError writes an rpc-v2-cbor error: {"__type": shape, "message":
// text} with the Query code and fault in X-Amzn-Query-Error, so a client
// of the CBOR protocol reports the same code as one of the Query protocol.
func WriteCBORError(w http.ResponseWriter, status int, code, message, id string) {
	typ := code
	if s, ok := errorShapes[code]; ok {
		typ = s.shape
	}
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("X-Amzn-Query-Error", code+";"+faultOf(status))
	w.WriteHeader(status)
	w.Write(cbor.Encode(cbor.Map{"__type": cbor.String("com.amazonaws.cloudwatch#" + typ), "message": cbor.String(message)}))
}

func xmlEscape(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }
