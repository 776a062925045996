package metricfilter

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Alarm actions. CloudWatch runs an alarm's OKActions, AlarmActions or
// InsufficientDataActions when the alarm enters that state
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
// vpcflow knows two kinds:
//
//   - an SNS topic ARN (arn:aws:sns:region:account:topic), which vpcflow
//     records as executed (there is no SNS to publish to), as CloudWatch's
//     history shows a publish;
//   - a webhook on this machine (http or https to 127.0.0.1, localhost or
//     [::1]), a vpcflow extension: the notification SNS would carry is
//     POSTed to it.
//
// Anything else is refused when the alarm is defined, so an alarm never
// sends traffic off the machine and never claims to have run an action
// vpcflow cannot run (stopping an instance, scaling a group, ...).

// Action kinds.
const (
	ActionSNS     = "sns"
	ActionWebhook = "webhook"
)

// MaxActions is how many actions each of an alarm's three lists may hold
// (ResourceList in the API model: at most 5 members of 1 to 1024
// characters).
const (
	MaxActions      = 5
	maxActionLength = 1024
)

// Action is one parsed alarm action.
type Action struct {
	Kind   string // ActionSNS or ActionWebhook
	Region string // the topic's region (ActionSNS)
	URL    *url.URL
}

// ParseAction reads an alarm action. Errors are *Error with CloudWatch's
// code ValidationError and say which forms are accepted.
func ParseAction(s string) (Action, error) {
	if n := utf8.RuneCountInString(s); n < 1 || n > maxActionLength {
		return Action{}, actionError(s, "an action must have 1 to 1024 characters")
	}
	if strings.HasPrefix(s, "arn:") {
		// arn:partition:service:region:account:resource
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[1] == "" || parts[2] == "" {
			return Action{}, actionError(s, "it is not an ARN (arn:partition:service:region:account:resource)")
		}
		if parts[2] != "sns" {
			return Action{}, actionError(s, fmt.Sprintf("vpcflow runs no %s actions; use an SNS topic ARN or a webhook on 127.0.0.1", parts[2]))
		}
		if parts[3] == "" || !isAccount(parts[4]) || !isTopicName(parts[5]) {
			return Action{}, actionError(s, "an SNS topic ARN is arn:aws:sns:region:account-id:topic-name")
		}
		return Action{Kind: ActionSNS, Region: parts[3]}, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return Action{}, actionError(s, "it is neither an ARN nor an http(s) URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Action{}, actionError(s, "a webhook URL must be http or https")
	}
	if u.User != nil || u.Opaque != "" {
		return Action{}, actionError(s, "a webhook URL may not carry user information")
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
	default:
		return Action{}, actionError(s, "a webhook must be on this machine (127.0.0.1, localhost or [::1]): vpcflow sends nothing elsewhere")
	}
	return Action{Kind: ActionWebhook, URL: u}, nil
}

func actionError(action, why string) error {
	if utf8.RuneCountInString(action) > 120 {
		action = string([]rune(action)[:120]) + "..."
	}
	return &Error{Code: "ValidationError", Message: fmt.Sprintf("Invalid alarm action %q: %s.", action, why)}
}

func isAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isTopicName checks an SNS topic name: 1 to 256 letters, digits, '-' and
// '_', with an optional ".fifo" suffix
// (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html).
func isTopicName(s string) bool {
	s = strings.TrimSuffix(s, ".fifo")
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validateActions checks one of the alarm's action lists.
func validateActions(member string, actions []string) []string {
	var bad []string
	if len(actions) > MaxActions {
		bad = append(bad, fmt.Sprintf("%s must have at most %d members, got %d", member, MaxActions, len(actions)))
	}
	for _, a := range actions {
		if _, err := ParseAction(a); err != nil {
			bad = append(bad, err.(*Error).Message)
		}
	}
	return bad
}
