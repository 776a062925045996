package api

import (
	"net/http"

	"github.com/vpcflow/vpcflow/api/cwapi"
	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/gdapi"
	"github.com/vpcflow/vpcflow/api/iamapi"
	"github.com/vpcflow/vpcflow/api/logsapi"
	"github.com/vpcflow/vpcflow/api/s3api"
)

// ec2Service and iamService adapt the protocol packages to the front.
type ec2Service struct{ h *ec2.Handler }

func (s ec2Service) serve(w http.ResponseWriter, c *call, id string) { s.h.Serve(w, c.query, id) }
func (ec2Service) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	ec2.WriteError(w, status, code, msg, id)
}

type iamService struct{ h *iamapi.Handler }

func (s iamService) serve(w http.ResponseWriter, c *call, id string) { s.h.Serve(w, c.query, id) }
func (iamService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	iamapi.WriteError(w, status, code, msg, id)
}

type logsService struct{ h *logsapi.Handler }

func (s logsService) serve(w http.ResponseWriter, c *call, id string) {
	s.h.Serve(w, c.action, c.body, id)
}
func (logsService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	logsapi.WriteError(w, status, code, msg, id)
}

// gdService serves GuardDuty's REST-JSON protocol.
type gdService struct{ h *gdapi.Handler }

func (s gdService) serve(w http.ResponseWriter, c *call, id string) { s.h.Serve(w, c.r, c.body, id) }
func (gdService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	gdapi.WriteError(w, status, code, msg, id)
}

type s3Service struct{ h *s3api.Handler }

func (s s3Service) serve(w http.ResponseWriter, c *call, id string) { s.h.Serve(w, c.r, c.body, id) }
func (s3Service) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	s3api.WriteError(w, status, code, msg, "", id)
}

// cwService serves CloudWatch in the Query protocol; forProtocol gives the
// same handler in Smithy RPC v2 CBOR or AWS JSON 1.0, errors included.
type cwService struct{ h *cwapi.Handler }

func (s cwService) serve(w http.ResponseWriter, c *call, id string) {
	if c.query == nil {
		// Not a form: the front chose this adapter for a request of
		// another protocol; answer in JSON rather than fail.
		cwJSONService(s).serve(w, c, id)
		return
	}
	s.h.Serve(w, c.query, id)
}
func (cwService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	cwapi.WriteError(w, status, code, msg, id)
}
func (s cwService) forProtocol(p protocol) service {
	switch p {
	case protoCBOR:
		return cwCBORService(s)
	case protoJSON:
		return cwJSONService(s)
	}
	return s
}

type cwCBORService struct{ h *cwapi.Handler }

func (s cwCBORService) serve(w http.ResponseWriter, c *call, id string) {
	if c.action == "unknown" {
		cwapi.WriteCBORError(w, http.StatusNotFound, "UnknownOperationException",
			"The path must be /service/GraniteServiceVersion20100801/operation/<Action>", id)
		return
	}
	s.h.ServeCBOR(w, c.action, c.body, id)
}
func (cwCBORService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	cwapi.WriteCBORError(w, status, code, msg, id)
}

type cwJSONService struct{ h *cwapi.Handler }

func (s cwJSONService) serve(w http.ResponseWriter, c *call, id string) {
	s.h.ServeJSON(w, c.action, c.body, id)
}
func (cwJSONService) writeError(w http.ResponseWriter, status int, code, msg, id string) {
	cwapi.WriteJSONError(w, status, code, msg, id)
}
