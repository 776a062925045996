package sigv4

import (
	"fmt"
	"net/http"
	"time"
)

// Kind is what went wrong, independent of the service: the same failure is
// spelled differently by EC2, by the IAM/STS Query services, by the JSON
// services and by S3, and a front may learn which service it talks to only
// after Verify has run (or never, when the request names none).
type Kind int

// The failure kinds, in the order Verify checks for them.
const (
	// KindMissing: neither an Authorization header nor X-Amz-Algorithm in
	// the query.
	KindMissing Kind = iota + 1
	// KindMalformed: an Authorization header or presigned query that does
	// not parse, misses a part, names another algorithm or carries a bad
	// X-Amz-Date or X-Amz-Expires.
	KindMalformed
	// KindScope: the credential scope is well formed but wrong: another
	// region, a day other than X-Amz-Date's, a terminator other than
	// aws4_request.
	KindScope
	// KindUnknownKey: the access key id is not one Credentials knows.
	KindUnknownKey
	// KindSkewed: X-Amz-Date is further from the server's clock than
	// MaxSkew (for a presigned URL: only further in the future).
	KindSkewed
	// KindExpired: a presigned URL used after X-Amz-Date + X-Amz-Expires.
	KindExpired
	// KindPayloadHash: X-Amz-Content-Sha256 is not the SHA-256 of the body
	// (or, outside S3, not a hash at all).
	KindPayloadHash
	// KindSignature: the signature does not match, or a signed header is
	// absent from the request.
	KindSignature
)

var kindNames = map[Kind]string{
	KindMissing:     "missing",
	KindMalformed:   "malformed",
	KindScope:       "scope",
	KindUnknownKey:  "unknown-key",
	KindSkewed:      "skewed",
	KindExpired:     "expired",
	KindPayloadHash: "payload-hash",
	KindSignature:   "signature",
}

func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an authentication failure as the service answers it: the HTTP
// status, AWS's error code (what awscli prints in "An error occurred (Code)")
// and the message.
//
// Status, Code and Message are those of the service Service names: Verify
// fills them for the service of the request's credential scope, or for the
// IAM/STS Query family when the scope could not be read. A front that knows
// the service otherwise (by its port, path or X-Amz-Target) re-renders the
// error with For. docs/api-auth.md has the table and its sources.
type Error struct {
	Status  int
	Code    string
	Message string

	// Kind is the failure, whatever the service.
	Kind Kind
	// Service is the signing name (ec2, iam, sts, logs, s3, ...) whose codes
	// Status, Code and Message are; "" when the request named none.
	Service string

	presigned bool
	// detail is the specific text of KindMalformed, KindScope and
	// KindSignature failures, shared by every service.
	detail string
	// region is the scope's region of a KindScope region mismatch, and
	// want the Verifier's; both empty for other scope failures.
	region, want string
	// at is the request's X-Amz-Date and now the server's clock, for the
	// clock-skew messages; skew is MaxSkew.
	at, now time.Time
	skew    time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// For returns the same failure as the given service answers it. It never
// changes e.
func (e *Error) For(service string) *Error {
	c := *e
	c.render(service)
	return &c
}

// The families of services that spell authentication failures alike.
type family int

const (
	famQuery family = iota // IAM, STS and other awsQuery services: the default
	famEC2                 // the EC2 Query API
	famJSON                // awsJson services: CloudWatch Logs, Firehose
	famS3                  // S3's REST API
)

func familyOf(service string) family {
	switch service {
	case "ec2":
		return famEC2
	case "logs", "firehose":
		return famJSON
	case "s3":
		return famS3
	}
	return famQuery
}

// Messages AWS answers with, word for word where one is known (see
// docs/api-auth.md).
const (
	msgEC2AuthFailure = "AWS was not able to validate the provided access credentials"
	msgMissingQuery   = "The request must contain either a valid (registered) AWS access key ID or X.509 certificate."
	msgMissingJSON    = "Request is missing Authentication Token"
	msgInvalidToken   = "The security token included in the request is invalid."
	msgS3UnknownKey   = "The AWS Access Key Id you provided does not exist in our records."
	msgSignature      = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgS3Signature    = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgRequestExpired = "Request has expired."
	msgS3Skewed       = "The difference between the request time and the current time is too large."
	msgS3PayloadHash  = "The provided 'x-amz-content-sha256' header does not match what was computed."
)

// render sets Service, Status, Code and Message from the kind and details.
func (e *Error) render(service string) {
	e.Service = service
	fam := familyOf(service)
	switch e.Kind {
	case KindMissing:
		switch fam {
		case famEC2:
			e.set(http.StatusUnauthorized, "MissingAuthenticationToken", msgMissingQuery)
		case famJSON:
			e.set(http.StatusBadRequest, "MissingAuthenticationTokenException", msgMissingJSON)
		case famS3:
			e.set(http.StatusForbidden, "AccessDenied", "Access Denied")
		default:
			e.set(http.StatusForbidden, "MissingAuthenticationToken", msgMissingQuery)
		}
	case KindMalformed:
		switch fam {
		case famJSON:
			e.set(http.StatusBadRequest, "IncompleteSignatureException", e.detail)
		case famS3:
			if e.presigned {
				e.set(http.StatusBadRequest, "AuthorizationQueryParametersError", e.detail)
			} else {
				e.set(http.StatusBadRequest, "AuthorizationHeaderMalformed", e.detail)
			}
		default:
			e.set(http.StatusBadRequest, "IncompleteSignature", e.detail)
		}
	case KindScope:
		switch fam {
		case famEC2:
			e.set(http.StatusUnauthorized, "AuthFailure", msgEC2AuthFailure)
		case famJSON:
			e.set(http.StatusBadRequest, "InvalidSignatureException", e.detail)
		case famS3:
			msg := e.detail
			if e.region != "" {
				if e.presigned {
					msg = fmt.Sprintf("Error parsing the X-Amz-Credential parameter; the region '%s' is wrong; expecting '%s'", e.region, e.want)
				} else {
					msg = fmt.Sprintf("The authorization header is malformed; the region '%s' is wrong; expecting '%s'", e.region, e.want)
				}
			}
			if e.presigned {
				e.set(http.StatusBadRequest, "AuthorizationQueryParametersError", msg)
			} else {
				e.set(http.StatusBadRequest, "AuthorizationHeaderMalformed", msg)
			}
		default:
			e.set(http.StatusForbidden, "SignatureDoesNotMatch", e.detail)
		}
	case KindUnknownKey:
		switch fam {
		case famEC2:
			e.set(http.StatusUnauthorized, "AuthFailure", msgEC2AuthFailure)
		case famJSON:
			e.set(http.StatusBadRequest, "UnrecognizedClientException", msgInvalidToken)
		case famS3:
			e.set(http.StatusForbidden, "InvalidAccessKeyId", msgS3UnknownKey)
		default:
			e.set(http.StatusForbidden, "InvalidClientTokenId", msgInvalidToken)
		}
	case KindSkewed:
		switch fam {
		case famEC2:
			e.set(http.StatusBadRequest, "RequestExpired", msgRequestExpired)
		case famJSON:
			e.set(http.StatusBadRequest, "InvalidSignatureException", e.skewMessage())
		case famS3:
			if e.presigned {
				e.set(http.StatusForbidden, "AccessDenied", "Request is not valid yet")
			} else {
				e.set(http.StatusForbidden, "RequestTimeTooSkewed", msgS3Skewed)
			}
		default:
			e.set(http.StatusForbidden, "SignatureDoesNotMatch", e.skewMessage())
		}
	case KindExpired:
		switch fam {
		case famS3:
			e.set(http.StatusForbidden, "AccessDenied", "Request has expired")
		default:
			e.set(http.StatusBadRequest, "RequestExpired", msgRequestExpired)
		}
	case KindPayloadHash:
		if fam == famS3 {
			e.set(http.StatusBadRequest, "XAmzContentSHA256Mismatch", msgS3PayloadHash)
			return
		}
		// Elsewhere the body hash is only an input of the signature, so a
		// wrong one is a wrong signature.
		e.renderSignature(fam)
	default:
		e.renderSignature(fam)
	}
}

func (e *Error) renderSignature(fam family) {
	msg := msgSignature
	if e.detail != "" {
		msg = e.detail
	}
	switch fam {
	case famEC2:
		e.set(http.StatusUnauthorized, "AuthFailure", msgEC2AuthFailure)
	case famJSON:
		e.set(http.StatusBadRequest, "InvalidSignatureException", msg)
	case famS3:
		if e.detail == "" {
			msg = msgS3Signature
		}
		e.set(http.StatusForbidden, "SignatureDoesNotMatch", msg)
	default:
		e.set(http.StatusForbidden, "SignatureDoesNotMatch", msg)
	}
}

func (e *Error) set(status int, code, msg string) {
	e.Status, e.Code, e.Message = status, code, msg
}

// skewMessage is the text IAM, STS and the JSON services answer a skewed
// clock with; SDKs read the times in it to correct their clock.
func (e *Error) skewMessage() string {
	const f = "20060102T150405Z"
	if e.at.Before(e.now) {
		return fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)",
			e.at.UTC().Format(f), e.now.Add(-e.skew).UTC().Format(f), e.now.UTC().Format(f), skewText(e.skew))
	}
	return fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s)",
		e.at.UTC().Format(f), e.now.Add(e.skew).UTC().Format(f), e.now.UTC().Format(f), skewText(e.skew))
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return d.String()
}
