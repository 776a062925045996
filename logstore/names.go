package logstore

import (
	"strconv"
	"unicode/utf8"
)

// maxNameLen is the limit on group and stream names, in code points
// (docs/aws-behaviour.md, "Log groups, streams and events").
const maxNameLen = 512

const groupNamePattern = `[\.\-_/#A-Za-z0-9]+`
const streamNamePattern = `[^:*]*`

// retentionDays are the only values PutRetentionPolicy accepts
// (docs/aws-behaviour.md, "Log groups, streams and events").
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// ValidRetention reports whether days is an allowed retentionInDays value.
func ValidRetention(days int) bool {
	for _, d := range retentionDays {
		if d == days {
			return true
		}
	}
	return false
}

// ValidateGroupName checks a log group name against AWS's rules
// (docs/aws-behaviour.md, "Log groups, streams and events"). It does not apply
// CreateLogGroup's `aws/` rule, which only the API-facing create enforces.
func ValidateGroupName(name string) error {
	if utf8.RuneCountInString(name) > maxNameLen {
		return ErrNameTooLong
	}
	ok := name != ""
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == '/' || c == '#'
	}
	if !ok {
		return validationError(violation{name, "logGroupName", "satisfy regular expression pattern: " + groupNamePattern})
	}
	return nil
}

// ValidateStreamName checks a log stream name against AWS's rules: 1-512
// code points, no ':' or '*'.
func ValidateStreamName(name string) error {
	if name == "" {
		return validationError(violation{name, "logStreamName", "have length greater than or equal to 1"})
	}
	if utf8.RuneCountInString(name) > maxNameLen {
		return ErrNameTooLong
	}
	for i := 0; i < len(name); i++ {
		if name[i] == ':' || name[i] == '*' {
			return validationError(violation{name, "logStreamName", "satisfy regular expression pattern: " + streamNamePattern})
		}
	}
	if !utf8.ValidString(name) {
		return validationError(violation{strconv.Quote(name), "logStreamName", "satisfy regular expression pattern: " + streamNamePattern})
	}
	return nil
}
