// Package sdktest gives the tests' AWS SDK clients an HTTP client that
// does not trip over the SDK's handling of request bodies.
//
// The SDK closes the body it built as soon as Do returns, while net/http
// may still be reading it: after Content-Length bytes it reads on to check
// that nothing follows. The transport then takes the failed read for a
// broken connection and closes it, and the answer, a 200 already received,
// fails to read with "use of closed network connection" (about one request
// in 10,000). The SDK's default retryer hides it; the tests' clients do not
// retry, so that an error is always the answer under test, and need this
// client instead.
package sdktest

import (
	"bytes"
	"io"
	"net/http"
)

// Client is an HTTP client that hands net/http its own copy of each
// request body.
type Client struct{ C *http.Client }

// HTTPClient returns a Client over a default transport.
func HTTPClient() Client {
	return Client{C: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Do sends req with a copy of its body.
func (o Client) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return o.C.Do(req)
}
