package metricfilter

import (
	"encoding/json"
	"strings"
	"time"
)

// Notification is the message CloudWatch publishes to an alarm's SNS
// topics when the alarm changes state; vpcflow records it in the Action
// history item and POSTs it to webhooks. The members and their forms
// (StateChangeTime with a "+0000" offset, the statistic in capitals,
// dimensions as lower-case name/value pairs, the Region's display name)
// are those of the messages CloudWatch sends
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
// describes the notifications; a captured message is in aws-lambda-go's
// events/testdata/cloudwatch-alarm-sns-payload-single-metric.json).
type Notification struct {
	AlarmName                          string   `json:"AlarmName"`
	AlarmDescription                   *string  `json:"AlarmDescription"` // null when the alarm has none
	AWSAccountID                       string   `json:"AWSAccountId"`
	AlarmConfigurationUpdatedTimestamp string   `json:"AlarmConfigurationUpdatedTimestamp,omitempty"`
	NewStateValue                      string   `json:"NewStateValue"`
	NewStateReason                     string   `json:"NewStateReason"`
	StateChangeTime                    string   `json:"StateChangeTime"`
	Region                             string   `json:"Region"`
	AlarmArn                           string   `json:"AlarmArn"`
	OldStateValue                      string   `json:"OldStateValue"`
	OKActions                          []string `json:"OKActions"`
	AlarmActions                       []string `json:"AlarmActions"`
	InsufficientDataActions            []string `json:"InsufficientDataActions"`
	Trigger                            Trigger  `json:"Trigger"`
}

// Trigger is the alarm's metric and condition in a Notification.
type Trigger struct {
	MetricName                       string                  `json:"MetricName"`
	Namespace                        string                  `json:"Namespace"`
	StatisticType                    string                  `json:"StatisticType"`
	Statistic                        string                  `json:"Statistic"`
	Unit                             *string                 `json:"Unit"` // null when the alarm names none
	Dimensions                       []NotificationDimension `json:"Dimensions"`
	Period                           int                     `json:"Period"`
	EvaluationPeriods                int                     `json:"EvaluationPeriods"`
	DatapointsToAlarm                int                     `json:"DatapointsToAlarm"`
	ComparisonOperator               string                  `json:"ComparisonOperator"`
	Threshold                        float64                 `json:"Threshold"`
	TreatMissingData                 string                  `json:"TreatMissingData"`
	EvaluateLowSampleCountPercentile string                  `json:"EvaluateLowSampleCountPercentile"`
}

// NotificationDimension is a dimension as notifications spell it.
type NotificationDimension struct {
	Value string `json:"value"`
	Name  string `json:"name"`
}

// Notification builds the message of state change c of the alarm, in the
// given account and region, for the alarm's ARN.
func (e *Evaluator) Notification(c StateChange, account, region, arn string) Notification {
	a := &e.Alarm
	n := Notification{AlarmName: a.AlarmName, AWSAccountID: account, NewStateValue: c.NewState, NewStateReason: c.Reason,
		StateChangeTime: time.UnixMilli(c.Timestamp).UTC().Format("2006-01-02T15:04:05.000-0700"),
		Region:          RegionName(region), AlarmArn: arn, OldStateValue: c.OldState,
		OKActions: nonNil(a.OKActions), AlarmActions: nonNil(a.AlarmActions), InsufficientDataActions: nonNil(a.InsufficientDataActions),
		Trigger: Trigger{MetricName: a.MetricName, Namespace: a.Namespace, StatisticType: "Statistic",
			Statistic: strings.ToUpper(a.Statistic), Dimensions: []NotificationDimension{}, Period: a.Period,
			EvaluationPeriods: a.EvaluationPeriods, DatapointsToAlarm: a.datapointsToAlarm(), ComparisonOperator: a.ComparisonOperator,
			Threshold: a.Threshold, TreatMissingData: a.TreatMissingData}}
	if n.Trigger.TreatMissingData == "" {
		n.Trigger.TreatMissingData = missingMissing
	}
	if a.AlarmDescription != "" {
		d := a.AlarmDescription
		n.AlarmDescription = &d
	}
	if a.Unit != "" {
		u := a.Unit
		n.Trigger.Unit = &u
	}
	if e.ConfigUpdated != 0 {
		n.AlarmConfigurationUpdatedTimestamp = time.UnixMilli(e.ConfigUpdated).UTC().Format("2006-01-02T15:04:05.000-0700")
	}
	for _, d := range a.Dimensions {
		n.Trigger.Dimensions = append(n.Trigger.Dimensions, NotificationDimension{Value: d.Value, Name: d.Name})
	}
	return n
}

// JSON is the notification as text, with '<', '>' and '&' as they are
// ("OK -> ALARM" in reasons), not escaped for HTML.
func (n Notification) JSON() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(n) // strings, numbers and lists only: cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// regionNames are the display names notifications give regions, from the
// Regions table of the AWS General Reference
// (https://docs.aws.amazon.com/general/latest/gr/rande.html#regional-endpoints).
var regionNames = map[string]string{
	"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
	"us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
	"af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
	"ap-south-1": "Asia Pacific (Mumbai)", "ap-south-2": "Asia Pacific (Hyderabad)",
	"ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
	"ap-northeast-3": "Asia Pacific (Osaka)", "ap-southeast-1": "Asia Pacific (Singapore)",
	"ap-southeast-2": "Asia Pacific (Sydney)", "ap-southeast-3": "Asia Pacific (Jakarta)",
	"ap-southeast-4": "Asia Pacific (Melbourne)", "ca-central-1": "Canada (Central)",
	"ca-west-1": "Canada West (Calgary)", "eu-central-1": "EU (Frankfurt)", "eu-central-2": "EU (Zurich)",
	"eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
	"eu-north-1": "EU (Stockholm)", "eu-south-1": "EU (Milan)", "eu-south-2": "EU (Spain)",
	"il-central-1": "Israel (Tel Aviv)", "me-south-1": "Middle East (Bahrain)",
	"me-central-1": "Middle East (UAE)", "sa-east-1": "South America (Sao Paulo)",
}

// RegionName is the display name of a region code, or the code itself for
// a region the table does not know.
func RegionName(code string) string {
	if n, ok := regionNames[code]; ok {
		return n
	}
	return code
}
