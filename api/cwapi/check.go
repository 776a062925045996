package cwapi

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// violations collects the shape violations of one request (a missing
// required member, a length, range or enum constraint) into CloudWatch's
// ValidationError: "1 validation error detected: Value 'x' at 'stateValue'
// failed to satisfy constraint: Member must satisfy enum value set: [...]",
// several joined with "; " and counted. Member names are the model's, in
// lower camel case, as the service spells them in these messages.
type violations struct{ list []string }

func (v *violations) add(value, member, rule string) {
	v.list = append(v.list, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, rule))
}

func (v *violations) null(member string) {
	v.list = append(v.list, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
}

func (v *violations) err() error {
	switch n := len(v.list); n {
	case 0:
		return nil
	case 1:
		return &apiError{code: codeValidation, message: "1 validation error detected: " + v.list[0]}
	default:
		return &apiError{code: codeValidation, message: strconv.Itoa(n) + " validation errors detected: " + strings.Join(v.list, "; ")}
	}
}

// length checks a string's length in characters.
func (v *violations) length(s string, given bool, member string, min, max int) {
	if !given {
		return
	}
	if n := utf8.RuneCountInString(s); n < min || n > max {
		switch {
		case n < min:
			v.add(s, member, fmt.Sprintf("have length greater than or equal to %d", min))
		default:
			v.add(clip(s), member, fmt.Sprintf("have length less than or equal to %d", max))
		}
	}
}

// required checks a required string, then its length.
func (v *violations) required(s string, given bool, member string, min, max int) {
	if !given {
		v.null(member)
		return
	}
	v.length(s, true, member, min, max)
}

func (v *violations) enum(s string, given bool, member string, values ...string) {
	if !given {
		return
	}
	for _, x := range values {
		if s == x {
			return
		}
	}
	v.add(clip(s), member, "satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

func (v *violations) atLeast(n int64, given bool, member string, min int64) {
	if given && n < min {
		v.add(strconv.FormatInt(n, 10), member, fmt.Sprintf("have value greater than or equal to %d", min))
	}
}

func (v *violations) between(n int64, given bool, member string, min, max int64) {
	if !given {
		return
	}
	switch {
	case n < min:
		v.add(strconv.FormatInt(n, 10), member, fmt.Sprintf("have value greater than or equal to %d", min))
	case n > max:
		v.add(strconv.FormatInt(n, 10), member, fmt.Sprintf("have value less than or equal to %d", max))
	}
}

func (v *violations) maxItems(n int, member string, max int) {
	if n > max {
		v.add(fmt.Sprintf("[%d members]", n), member, fmt.Sprintf("have length less than or equal to %d", max))
	}
}

// clip shortens what a client sent before it goes into a message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 100 {
		return s
	}
	return string([]rune(s)[:100]) + "..."
}

// Enums of the API model.
var (
	stateValues  = []string{"INSUFFICIENT_DATA", "ALARM", "OK"}
	statistics   = []string{"SampleCount", "Average", "Sum", "Minimum", "Maximum"}
	alarmTypes   = []string{"CompositeAlarm", "MetricAlarm"}
	historyTypes = []string{"ConfigurationUpdate", "StateUpdate", "Action"}
	scanBys      = []string{"TimestampDescending", "TimestampAscending"}
	comparisons  = []string{"GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
		"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
	units = []string{"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
		"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
		"Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
		"Gigabits/Second", "Terabits/Second", "Count/Second", "None"}
)
