package logsvc

import "github.com/vpcflow/vpcflow/logstore"

// The event store's request, answer and error types as the service's
// callers use them: a client of the service (the CLI, the API) names
// logsvc only, never the store behind it.
type (
	Event                = logstore.Event
	InputEvent           = logstore.InputEvent
	FilteredEvent        = logstore.FilteredEvent
	LogGroup             = logstore.LogGroup
	LogStream            = logstore.LogStream
	GetInput             = logstore.GetInput
	DescribeGroupsInput  = logstore.DescribeGroupsInput
	DescribeStreamsInput = logstore.DescribeStreamsInput
	APIError             = logstore.APIError
	InUseError           = logstore.InUseError
	GroupOptions         = logstore.GroupOptions
)

// ErrGroupExists is CreateLogGroup's error for a group that exists.
var ErrGroupExists = logstore.ErrGroupExists

// CodeInvalidParameter is CloudWatch Logs' InvalidParameterException.
const CodeInvalidParameter = logstore.CodeInvalidParameter

// ValidateGroupName checks a log group name as CreateLogGroup does.
func ValidateGroupName(name string) error { return logstore.ValidateGroupName(name) }

// ValidateStreamName checks a log stream name as CreateLogStream does.
func ValidateStreamName(name string) error { return logstore.ValidateStreamName(name) }

// ValidateEvent checks one event as PutLogEvents does.
func ValidateEvent(ts int64, msg []byte) error { return logstore.ValidateEvent(ts, msg) }
