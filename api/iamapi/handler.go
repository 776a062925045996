// Package iamapi answers the IAM Query API (version 2010-05-08) for the
// roles a flow log delivers with: CreateRole, GetRole, ListRoles,
// DeleteRole and the inline role policies.
//
// It exists so `aws iam ...` works against vpcflow unchanged: requests
// decoded by package query become calls of the iam store, answers are the
// XML documents of AWS's IAM API reference.
package iamapi

import (
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/iam"
)

const xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

// Handler serves IAM requests over a role store.
type Handler struct{ roles *iam.Store }

// New returns a handler over roles.
func New(roles *iam.Store) *Handler { return &Handler{roles: roles} }

type metadata struct {
	RequestID string `xml:"RequestId"`
}

type roleXML struct {
	Path                     string   `xml:"Path"`
	AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument,omitempty"`
	RoleID                   string   `xml:"RoleId"`
	RoleName                 string   `xml:"RoleName"`
	Arn                      string   `xml:"Arn"`
	CreateDate               string   `xml:"CreateDate"`
	Description              string   `xml:"Description,omitempty"`
	MaxSessionDuration       int      `xml:"MaxSessionDuration,omitempty"`
	Tags                     *tagsXML `xml:"Tags,omitempty"`
}

type tagsXML struct {
	Members []tagXML `xml:"member"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// toXML renders a role as IAM does: the trust policy URL-encoded.
func toXML(r iam.Role) roleXML {
	x := roleXML{Path: r.Path, RoleID: r.RoleId, RoleName: r.RoleName, Arn: r.Arn,
		CreateDate: r.CreateDate.UTC().Format(time.RFC3339), Description: r.Description,
		MaxSessionDuration:       r.MaxSessionDuration,
		AssumeRolePolicyDocument: iam.EncodePolicyDocument(r.AssumeRolePolicyDocument)}
	if len(r.Tags) > 0 {
		x.Tags = &tagsXML{}
		for _, t := range r.Tags {
			x.Tags.Members = append(x.Tags.Members, tagXML{t.Key, t.Value})
		}
	}
	return x
}

// Serve answers one authenticated request.
func (h *Handler) Serve(w http.ResponseWriter, req *query.Request, id string) {
	resp, err := h.do(req)
	if err != nil {
		var ie *iam.Error
		var qe *query.Error
		switch {
		case errors.As(err, &ie):
			WriteError(w, ie.Status, ie.Code, ie.Message, id)
		case errors.As(err, &qe):
			WriteError(w, qe.Status, qe.Code, qe.Message, id)
		default:
			WriteError(w, http.StatusInternalServerError, "ServiceFailure", err.Error(), id)
		}
		return
	}
	write(w, req.Action, resp, id)
}

// do runs the action; resp is the content of <ActionResult>, nil when the
// action has none.
// Parameters the store requires are passed as given, absent ones as "":
// the store answers them with IAM's ValidationError ("Value null at
// 'roleName' failed to satisfy constraint: Member must not be null").
func (h *Handler) do(req *query.Request) (any, error) {
	p := req.Params()
	switch req.Action {
	case "CreateRole":
		in := iam.CreateRoleInput{}
		// Missing required parameters are the store's ValidationError,
		// as IAM reports them.
		in.RoleName, in.AssumeRolePolicyDocument = p.String("RoleName"), p.String("AssumeRolePolicyDocument")
		in.Path, in.Description = p.String("Path"), p.String("Description")
		if n, ok, err := p.Int("MaxSessionDuration"); err != nil {
			return nil, err
		} else if ok {
			in.MaxSessionDuration = n
		}
		for _, t := range p.Structs("Tags.member") {
			in.Tags = append(in.Tags, iam.Tag{Key: t.String("Key"), Value: t.String("Value")})
		}
		r, err := h.roles.CreateRole(in)
		if err != nil {
			return nil, err
		}
		return struct {
			Role roleXML `xml:"Role"`
		}{toXML(r)}, nil
	case "GetRole":
		name := p.String("RoleName")
		r, err := h.roles.GetRole(name)
		if err != nil {
			return nil, err
		}
		return struct {
			Role roleXML `xml:"Role"`
		}{toXML(r)}, nil
	case "ListRoles":
		prefix, marker := p.String("PathPrefix"), p.String("Marker")
		max, err := maxItems(p)
		if err != nil {
			return nil, err
		}
		roles, truncated, next, err := h.roles.ListRoles(prefix, marker, max)
		if err != nil {
			return nil, err
		}
		out := struct {
			Roles       []roleXML `xml:"Roles>member"`
			IsTruncated bool      `xml:"IsTruncated"`
			Marker      string    `xml:"Marker,omitempty"`
		}{Roles: []roleXML{}, IsTruncated: truncated, Marker: next}
		for _, r := range roles {
			x := toXML(r)
			out.Roles = append(out.Roles, x)
		}
		return out, nil
	case "DeleteRole":
		name := p.String("RoleName")
		return nil, h.roles.DeleteRole(name)
	case "PutRolePolicy", "GetRolePolicy", "DeleteRolePolicy":
		role := p.String("RoleName")
		name := p.String("PolicyName")
		switch req.Action {
		case "PutRolePolicy":
			doc := p.String("PolicyDocument")
			return nil, h.roles.PutRolePolicy(role, name, doc)
		case "DeleteRolePolicy":
			return nil, h.roles.DeleteRolePolicy(role, name)
		}
		doc, err := h.roles.GetRolePolicy(role, name)
		if err != nil {
			return nil, err
		}
		return struct {
			RoleName       string `xml:"RoleName"`
			PolicyName     string `xml:"PolicyName"`
			PolicyDocument string `xml:"PolicyDocument"`
		}{role, name, iam.EncodePolicyDocument(doc)}, nil
	case "ListRolePolicies":
		role := p.String("RoleName")
		marker := p.String("Marker")
		max, err := maxItems(p)
		if err != nil {
			return nil, err
		}
		names, truncated, next, err := h.roles.ListRolePolicies(role, marker, max)
		if err != nil {
			return nil, err
		}
		return struct {
			PolicyNames []string `xml:"PolicyNames>member"`
			IsTruncated bool     `xml:"IsTruncated"`
			Marker      string   `xml:"Marker,omitempty"`
		}{append([]string{}, names...), truncated, next}, nil
	case "":
		return nil, &query.Error{Status: http.StatusBadRequest, Code: "MissingAction", Message: "Missing Action"}
	}
	return nil, &query.Error{Status: http.StatusBadRequest, Code: "InvalidAction",
		Message: "Could not find operation " + req.Action + " for version " + req.Version}
}

// maxItems reads MaxItems: 1 to 1000, default 100 (IAM's paging).
func maxItems(p query.Params) (int, error) {
	n, ok, err := p.Int("MaxItems")
	if err != nil {
		return 0, err
	}
	if !ok {
		return 100, nil
	}
	if n < 1 || n > 1000 {
		return 0, &query.Error{Status: http.StatusBadRequest, Code: "ValidationError",
			Message: "1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"}
	}
	return n, nil
}

// write sends <ActionResponse><ActionResult>...</ActionResult><ResponseMetadata/></ActionResponse>.
func write(w http.ResponseWriter, action string, result any, id string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	start := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	enc.EncodeToken(start)
	if result != nil {
		enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	enc.EncodeElement(metadata{id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	enc.EncodeToken(start.End())
	enc.Flush()
}

// WriteError writes IAM's error document.
func WriteError(w http.ResponseWriter, status int, code, message, id string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	doc := struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Xmlns   string   `xml:"xmlns,attr"`
		Error   struct {
			Type    string `xml:"Type"`
			Code    string `xml:"Code"`
			Message string `xml:"Message"`
		} `xml:"Error"`
		RequestID string `xml:"RequestId"`
	}{Xmlns: xmlns, RequestID: id}
	doc.Error.Type, doc.Error.Code, doc.Error.Message = typ, code, message
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	xml.NewEncoder(w).Encode(doc)
}
