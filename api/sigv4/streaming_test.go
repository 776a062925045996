package sigv4

import (
	"context"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// S3's aws-chunked body with unsigned chunks and a trailing checksum
// (what aws-sdk-go-v2 sends over HTTPS) is signed with the literal
// STREAMING-UNSIGNED-PAYLOAD-TRAILER as its payload hash: S3 takes it, as
// it takes UNSIGNED-PAYLOAD; another service does not; chunks signed one
// by one are still refused.
func TestStreamingUnsignedTrailer(t *testing.T) {
	srv := newVerifyServer(t, fixedVerifier("us-east-1", signedAt))
	body := []byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n")
	send := func(service, payload string) outcome {
		req := newRequest(t, "PUT", srv.URL+"/bucket/key", body)
		req.Header.Set("X-Amz-Content-Sha256", payload)
		req.Header.Set("Content-Encoding", "aws-chunked")
		err := v4.NewSigner().SignHTTP(context.Background(), testCreds(), req, payload, service, "us-east-1", signedAt, func(o *v4.SignerOptions) {
			o.DisableURIPathEscaping = service == "s3"
		})
		if err != nil {
			t.Fatal(err)
		}
		return srv.send(t, req)
	}
	if o := send("s3", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"); o.err != nil || o.res.Service != "s3" {
		t.Fatalf("s3: %+v", o)
	}
	wantError(t, send("logs", "STREAMING-UNSIGNED-PAYLOAD-TRAILER").err, KindPayloadHash, 400, "InvalidSignatureException")
	wantError(t, send("s3", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD").err, KindMalformed, 400, "AuthorizationHeaderMalformed")
}
