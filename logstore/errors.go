package logstore

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes of the CloudWatch Logs API (docs/aws-behaviour.md, "CloudWatch
// Logs API"). The api package turns
// an *APIError into the JSON 1.1 error body unchanged.
const (
	CodeInvalidParameter      = "InvalidParameterException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeValidation            = "ValidationException"
	CodeServiceUnavailable    = "ServiceUnavailableException"
)

// APIError is an error the CloudWatch Logs API reports with a code and an
// exact message text.
type APIError struct {
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Errors with a fixed text, returned as these very values so callers can use
// errors.Is.
var (
	ErrGroupNotFound      = &APIError{CodeResourceNotFound, "The specified log group does not exist."}
	ErrStreamNotFound     = &APIError{CodeResourceNotFound, "The specified log stream does not exist."}
	ErrGroupExists        = &APIError{CodeResourceAlreadyExists, "The specified log group already exists"}
	ErrStreamExists       = &APIError{CodeResourceAlreadyExists, "The specified log stream already exists"}
	ErrInvalidToken       = &APIError{CodeInvalidParameter, "The specified nextToken is invalid."}
	ErrNameTooLong        = &APIError{CodeInvalidParameter, "Invalid LogGroup or LogStream, both must have length less than or equal to 512."}
	ErrNotChronological   = &APIError{CodeInvalidParameter, "Log events in a single PutLogEvents request must be in chronological order."}
	ErrSpanTooLong        = &APIError{CodeInvalidParameter, "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."}
	ErrPrefixAndPattern   = &APIError{CodeInvalidParameter, "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."}
	ErrOrderByWithPrefix  = &APIError{CodeInvalidParameter, "Cannot order by LastEventTime with a logStreamNamePrefix."}
	ErrDeletionProtected  = &APIError{CodeValidation, "Log group deletion protection is enabled; disable it before deleting the log group."}
	ErrNamesAndPrefix     = &APIError{CodeInvalidParameter, "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."}
	ErrTailBefore2024     = &APIError{CodeInvalidParameter, "startFromHead=false is not supported with a startTime before 2024-01-01T00:00:00Z."}
	ErrReservedGroupName  = &APIError{CodeInvalidParameter, "Log group names cannot start with 'aws/'."}
	ErrInvalidRetention   = &APIError{CodeInvalidParameter, "Invalid retentionInDays value."}
	ErrUnsupportedOrderBy = &APIError{CodeInvalidParameter, "1 validation error detected: Value at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"}
)

// violation is one shape violation (a member that fails its constraint).
type violation struct{ value, member, rule string }

// validationError joins shape violations into AWS's "N validation errors
// detected" message (docs/aws-behaviour.md, "CloudWatch Logs API").
func validationError(vs ...violation) *APIError {
	items := make([]string, len(vs))
	for i, v := range vs {
		items[i] = fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", v.value, v.member, v.rule)
	}
	head := "1 validation error detected: "
	if len(vs) > 1 {
		head = fmt.Sprintf("%d validation errors detected: ", len(vs))
	}
	return &APIError{CodeInvalidParameter, head + strings.Join(items, "; ")}
}

// ErrReadOnly is what every write method of a store opened with
// Options.ReadOnly returns (as a *ReadOnlyError, which matches it with
// errors.Is).
var ErrReadOnly = errors.New("the data dir is open read-only")

// ReadOnlyError says a write was refused because the store was opened
// read-only; Op names the write.
type ReadOnlyError struct {
	Dir string
	Op  string
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("logstore: %s: the data dir %s is open read-only", e.Op, e.Dir)
}

// Is makes errors.Is(err, ErrReadOnly) true.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }
