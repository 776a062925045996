package iam

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes the store returns, as the IAM Query API names them. The HTTP
// statuses are those of the IAM service model (the AWS SDK's error shapes).
const (
	CodeNoSuchEntity            = "NoSuchEntity"            // 404
	CodeEntityAlreadyExists     = "EntityAlreadyExists"     // 409
	CodeMalformedPolicyDocument = "MalformedPolicyDocument" // 400
	CodeValidationError         = "ValidationError"         // 400
	CodeInvalidInput            = "InvalidInput"            // 400
	CodeLimitExceeded           = "LimitExceeded"           // 409
	CodeDeleteConflict          = "DeleteConflict"          // 409
)

// Error is an IAM API error: the HTTP status, the code of the Query API's
// <Error><Code> and AWS's message. Everything the store rejects because of
// the request is an *Error; a failure to write the data dir is a plain
// error (a ServiceFailure for an API front end).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrClosed is returned by the writing methods after Close.
var ErrClosed = errors.New("iam: store is closed")

func noSuchRole(name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNoSuchEntity,
		Message: fmt.Sprintf("The role with name %s cannot be found.", name)}
}

func noSuchRolePolicy(name string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNoSuchEntity,
		Message: fmt.Sprintf("The role policy with name %s cannot be found.", name)}
}

func roleExists(name string) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeEntityAlreadyExists,
		Message: fmt.Sprintf("Role with name %s already exists.", name)}
}

func malformed(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeMalformedPolicyDocument, Message: msg}
}

func limitExceeded(msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeLimitExceeded, Message: msg}
}

func invalidInput(msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidInput, Message: msg}
}

func deleteConflict(msg string) *Error {
	return &Error{Status: http.StatusConflict, Code: CodeDeleteConflict, Message: msg}
}

// violations collects the parameter constraint failures of one request. AWS
// reports them all at once in one ValidationError:
//
//	1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: Member must ...
//	2 validation errors detected: Value ...; Value ...
//
// Members are named as the Query API's wire protocol names them
// (lowerCamelCase: roleName, assumeRolePolicyDocument, tags.1.member.key).
type violations []string

func (v *violations) add(value, member, constraint string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint))
}

func (v *violations) null(member string) {
	*v = append(*v, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

// str checks a string member against the model's pattern and length bounds
// (in characters). Pattern before length, the order AWS lists them in.
func (v *violations) str(value, member string, minLen, maxLen int, pattern string, ok func(string) bool) {
	if ok != nil && !ok(value) {
		v.add(value, member, "satisfy regular expression pattern: "+pattern)
	}
	n := len([]rune(value))
	if n < minLen {
		v.add(value, member, fmt.Sprintf("have length greater than or equal to %d", minLen))
	}
	if maxLen > 0 && n > maxLen {
		v.add(value, member, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
}

// num checks an integer member against the model's bounds.
func (v *violations) num(value int, member string, lo, hi int) {
	if value < lo {
		v.add(fmt.Sprint(value), member, fmt.Sprintf("have value greater than or equal to %d", lo))
	}
	if value > hi {
		v.add(fmt.Sprint(value), member, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return &Error{Status: http.StatusBadRequest, Code: CodeValidationError, Message: "1 validation error detected: " + v[0]}
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeValidationError,
		Message: fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; "))}
}
