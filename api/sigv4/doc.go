// Package sigv4 verifies AWS Signature Version 4 on the requests `vpcflow
// serve` answers, so that awscli and the AWS SDKs, pointed at the server with
// --endpoint-url, authenticate as they do against AWS, and a wrong key or
// secret fails with the code AWS would answer.
//
// Verify takes the Authorization-header form and the presigned query form.
// It does not canonicalise requests itself: it rebuilds a request holding
// exactly the headers the client signed and signs it with aws-sdk-go-v2's
// signer, then compares the signatures in constant time. What the SDK signer
// cannot express is not accepted: a request dated by the Date header instead
// of X-Amz-Date, a signed "content-length: 0", S3's chunked bodies with
// signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), and SigV4a. S3's
// STREAMING-UNSIGNED-PAYLOAD-TRAILER, whose chunks carry no signature, is
// taken as UNSIGNED-PAYLOAD is; the S3 handler decodes the chunks and
// checks the trailing checksum.
//
// Failures are *Error values. The same failure has different codes and HTTP
// statuses in EC2's Query API, in the IAM/STS Query services, in the JSON
// services (CloudWatch Logs, Firehose) and in S3; Verify answers in the
// words of the service the credential scope names, and Error.For re-renders
// an error for another service. docs/api-auth.md has the table with the
// public sources each row comes from.
//
// LoadOrCreate gives a server its key pair: from the environment, from the
// data directory's credentials file, or newly generated into that file.
package sigv4
