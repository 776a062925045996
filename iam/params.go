package iam

import "unicode"

// Parameter constraints of the IAM API model (botocore's iam service-2.json:
// roleNameType, pathType, policyDocumentType, ...). The pattern strings are
// quoted in ValidationError messages exactly as the model writes them.
const (
	maxRoleName     = 64
	maxPolicyName   = 128
	maxPath         = 512
	maxDocument     = 131072 // policyDocumentType; the quotas below are smaller
	maxDescription  = 1000
	maxMarker       = 320
	maxTags         = 50
	maxTagKey       = 128
	maxTagValue     = 256
	minSession      = 3600
	maxSession      = 43200
	defaultSession  = 3600 // "the default value of one hour is applied"
	defaultMaxItems = 100  // "the number of items defaults to 100"
	maxMaxItems     = 1000

	patName       = `[\w+=,.@-]+`
	patPath       = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	patPathPrefix = `\u002F[\u0021-\u007F]*`
	patDocument   = `[\u0009\u000A\u000D\u0020-\u00FF]+`
	patDesc       = `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`
	patMarker     = `[\u0020-\u00FF]+`
	patTagKey     = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	patTagValue   = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
)

// IAM quotas (IAM User Guide, "IAM and AWS STS quotas").
const (
	// Role policy size: the sum of a role's inline policies, white space not
	// counted.
	maxRolePolicySize = 10240
	// Role trust policy length (the default; AWS can raise it to 4,096).
	maxTrustPolicySize = 2048
	// Roles in an AWS account (the default quota).
	defaultMaxRoles = 1000
)

// isName is [\w+=,.@-]+ with Java's ASCII \w.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_', c == '+', c == '=', c == ',', c == '.', c == '@', c == '-':
		default:
			return false
		}
	}
	return true
}

func isPath(s string) bool {
	if s == "/" {
		return true
	}
	if len(s) < 3 || s[0] != '/' || s[len(s)-1] != '/' {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func isPathPrefix(s string) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7f {
			return false
		}
	}
	return true
}

// runesIn reports whether every rune of s is allowed; an invalid UTF-8 byte
// is not.
func runesIn(s string, allowed func(rune) bool) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || !allowed(r) {
			return false
		}
	}
	return true
}

func isDocument(s string) bool {
	return s != "" && runesIn(s, func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xff)
	})
}

func isDescription(s string) bool {
	return runesIn(s, func(r rune) bool {
		return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7e) || (r >= 0xa1 && r <= 0xff)
	})
}

func isMarker(s string) bool {
	return s != "" && runesIn(s, func(r rune) bool { return r >= 0x20 && r <= 0xff })
}

func isTagChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) || unicode.IsNumber(r) ||
		r == '_' || r == '.' || r == ':' || r == '/' || r == '=' || r == '+' || r == '-' || r == '@'
}

func isTagKey(s string) bool   { return s != "" && runesIn(s, isTagChar) }
func isTagValue(s string) bool { return runesIn(s, isTagChar) }

// policySize is what the size quotas count: characters, white space not
// included ("IAM doesn't count white space when calculating the size of a
// policy against these quotas").
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}
