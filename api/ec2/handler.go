package ec2

import (
	"encoding/xml"
	"errors"
	"net/http"
	"unicode"
	"unicode/utf8"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/netstate"
)

const (
	// APIVersion is the EC2 API version answered; requests naming another
	// are refused with NoSuchVersion.
	APIVersion = "2016-11-15"
	// Namespace is the XML namespace of every response document.
	Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

// Backend is what the handler needs of the service; *region.Region satisfies it.
type Backend interface {
	CreateFlowLogs(spec *flowlog.Spec, clientToken string) ([]*flowlog.Entry, []flowlog.Unsuccessful, error)
	DescribeFlowLogs(f flowlog.Filter) ([]flowlog.Entry, error)
	DeleteFlowLogs(ids []string) ([]flowlog.Unsuccessful, error)
	Identity() logsvc.Identity
	// Network is the network store the describes read (nil: no network).
	Network() *netstate.Store
	// ChangeNetwork runs one change of the network store and hands the
	// new network to the packet path, so that the next packet is judged by
	// it. Every change goes through it: a change made on the store
	// directly would not reach the packet path.
	ChangeNetwork(change func(*netstate.Store) (int, error)) (int, error)
}

// Handler answers EC2 Query requests from a Backend. It holds no state of
// its own and is safe for concurrent use.
type Handler struct {
	b Backend
}

// New returns a handler over b.
func New(b Backend) *Handler { return &Handler{b: b} }

// action answers one EC2 action from the request's parameters: a response
// document, or an error (*query.Error, *flowlog.Error, or any other error,
// which becomes InternalError).
type action func(h *Handler, p query.Params) (response, error)

// actions are the EC2 actions answered, by name (names are case-sensitive,
// as AWS's are). Any other name is InvalidAction.
var actions = map[string]action{
	// Flow logs: the registry of the running service.
	"CreateFlowLogs":   createFlowLogs,
	"DescribeFlowLogs": describeFlowLogs,
	"DeleteFlowLogs":   deleteFlowLogs,

	// The network: describes read the network store.
	"DescribeVpcs":               describeVpcs,
	"DescribeSubnets":            describeSubnets,
	"DescribeNetworkInterfaces":  describeNetworkInterfaces,
	"DescribeSecurityGroups":     describeSecurityGroups,
	"DescribeSecurityGroupRules": describeSecurityGroupRules,
	"DescribeNetworkAcls":        describeNetworkAcls,
	"DescribeRouteTables":        describeRouteTables,

	// The network: changes go through Backend.ChangeNetwork.
	"CreateVpc":                     createVpc,
	"CreateSubnet":                  createSubnet,
	"CreateSecurityGroup":           createSecurityGroup,
	"DeleteSecurityGroup":           deleteSecurityGroup,
	"AuthorizeSecurityGroupIngress": authorizeIngress,
	"AuthorizeSecurityGroupEgress":  authorizeEgress,
	"RevokeSecurityGroupIngress":    revokeIngress,
	"RevokeSecurityGroupEgress":     revokeEgress,
	"CreateNetworkAcl":              createNetworkAcl,
	"CreateNetworkAclEntry":         createNetworkAclEntry,
	"ReplaceNetworkAclEntry":        replaceNetworkAclEntry,
	"DeleteNetworkAclEntry":         deleteNetworkAclEntry,
	"ReplaceNetworkAclAssociation":  replaceNetworkAclAssociation,
	"CreateNetworkInterface":        createNetworkInterface,
	"DeleteNetworkInterface":        deleteNetworkInterface,
	"CreateRoute":                   createRoute,
	"ReplaceRoute":                  replaceRoute,
	"DeleteRoute":                   deleteRoute,
	"CreateTags":                    createTags,
	"DeleteTags":                    deleteTags,
}

// response is a response document: a struct whose XMLName is
// {Namespace, ActionResponse} and that embeds responseMeta.
type response interface{ setRequestID(string) }

// responseMeta is what every response document starts with.
type responseMeta struct {
	RequestID string `xml:"requestId"`
}

func (m *responseMeta) setRequestID(id string) { m.RequestID = id }

// Serve answers one authenticated request (the front has read the body,
// verified SigV4 and assigned requestID).
func (h *Handler) Serve(w http.ResponseWriter, req *query.Request, requestID string) {
	resp, err := h.serve(req)
	if err != nil {
		e := toError(err)
		WriteError(w, e.Status, e.Code, e.Message, requestID)
		return
	}
	resp.setRequestID(requestID)
	body, err := xml.Marshal(resp)
	if err != nil {
		WriteError(w, http.StatusInternalServerError, "InternalError", "An internal error has occurred: "+err.Error(), requestID)
		return
	}
	writeXML(w, http.StatusOK, body)
}

func (h *Handler) serve(req *query.Request) (response, error) {
	if req == nil || req.Action == "" {
		return nil, query.Errorf("MissingAction", "The request is missing an action or a required parameter.")
	}
	switch req.Version {
	case APIVersion:
	case "":
		return nil, query.MissingParameter("Version")
	default:
		// EC2's answer to a version it does not have.
		return nil, query.Errorf("NoSuchVersion", "The requested version (%s) of service AmazonEC2 does not exist", req.Version)
	}
	fn, ok := actions[req.Action]
	if !ok {
		return nil, query.Errorf("InvalidAction", "The action %s is not valid for this web service.", req.Action)
	}
	return fn(h, req.Params())
}

// toError turns what an action returned into the error document's
// content: AWS errors as they are, the flow-log and network packages'
// errors with their AWS codes (client errors, HTTP 400), anything else (a
// failed write) as InternalError.
func toError(err error) *query.Error {
	var qe *query.Error
	if errors.As(err, &qe) {
		return qe
	}
	var fe *flowlog.Error
	if errors.As(err, &fe) {
		return query.Errorf(fe.Code, "%s", flowLogMessage(fe))
	}
	var ne *netstate.Error
	if errors.As(err, &ne) {
		return query.Errorf(ne.Code, "%s", ne.Message)
	}
	return &query.Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "An internal error has occurred: " + err.Error()}
}

// flowLogMessage is the message of a flow-log error: the package writes AWS's
// own sentences (capitalised) as they are, and names the parameter before
// its shorter explanations ("LogDestination: want arn:aws:s3:::BUCKET...").
func flowLogMessage(e *flowlog.Error) string {
	r, _ := utf8.DecodeRuneInString(e.Msg)
	if unicode.IsUpper(r) {
		return e.Msg
	}
	param := e.Where
	for i := 0; i < len(param); i++ {
		if param[i] == '.' {
			param = param[i+1:]
			break
		}
	}
	return param + ": " + e.Msg
}

// WriteError writes EC2's error document:
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>,
// with the status.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	doc := errorDoc{RequestID: requestID}
	doc.Errors.Error = []errorItem{{Code: code, Message: message}}
	body, err := xml.Marshal(&doc)
	if err != nil { // plain strings: cannot fail
		status = http.StatusInternalServerError
		body = []byte("<Response><Errors><Error><Code>InternalError</Code><Message></Message></Error></Errors><RequestID></RequestID></Response>")
	}
	writeXML(w, status, body)
}

type errorDoc struct {
	XMLName xml.Name `xml:"Response"`
	Errors  struct {
		Error []errorItem `xml:"Error"`
	} `xml:"Errors"`
	RequestID string `xml:"RequestID"`
}

type errorItem struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// dryRun reads DryRun. With DryRun=true an action checks its parameters,
// changes nothing and answers DryRunOperation (HTTP 412) — the answer AWS
// gives a caller with the permission; this emulator grants every caller
// every action, so UnauthorizedOperation never comes.
func dryRun(p query.Params) (bool, error) {
	v, _, err := p.Bool("DryRun")
	return v, err
}

var errDryRun = &query.Error{Status: http.StatusPreconditionFailed, Code: "DryRunOperation",
	Message: "Request would have succeeded, but DryRun flag is set."}
