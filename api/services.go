package api

import (
	"net/http"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/iamapi"
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
