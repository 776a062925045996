package logsapi

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/vpcflow/vpcflow/logsvc"
)

// An error that carries no AWS code is the service failing (a disk
// error): ServiceUnavailableException, HTTP 500, which the SDKs retry;
// the codes the service gives keep AWS's status, 400 but for
// ServiceUnavailableException.
func TestToAPIError(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{errors.New("write meta.db: no space left on device"), http.StatusInternalServerError, "ServiceUnavailableException"},
		{&logsvc.APIError{Code: "ServiceUnavailableException", Message: "x"}, http.StatusInternalServerError, "ServiceUnavailableException"},
		{fmt.Errorf("wrapped: %w", &logsvc.APIError{Code: "ResourceNotFoundException", Message: "x"}), http.StatusBadRequest, "ResourceNotFoundException"},
		{logsvc.ErrFilterNotFound, http.StatusBadRequest, "ResourceNotFoundException"},
	} {
		e := toAPIError(c.err)
		if e.status != c.status || e.code != c.code {
			t.Errorf("%v: got %d %s, want %d %s", c.err, e.status, e.code, c.status, c.code)
		}
	}
}
