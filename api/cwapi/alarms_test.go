package cwapi_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

const topic = "arn:aws:sns:us-east-1:123456789012:ops"

func names(as []types.MetricAlarm) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, aws.ToString(a.AlarmName))
	}
	return out
}

// TestPutMetricAlarmAndDescribe: every member PutMetricAlarm keeps comes
// back from DescribeAlarms; a new alarm is INSUFFICIENT_DATA with the
// reason and times CloudWatch gives one at creation.
func TestPutMetricAlarmAndDescribe(t *testing.T) {
	g := newRig(t)
	in := alarm("ssh-rejects", 5)
	in.AlarmDescription = aws.String("Rejected SSH")
	in.ActionsEnabled = aws.Bool(true)
	in.AlarmActions = []string{topic}
	in.Unit = types.StandardUnitCount
	in.EvaluationPeriods, in.DatapointsToAlarm = aws.Int32(3), aws.Int32(2)
	in.TreatMissingData = aws.String("notBreaching")
	in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("net")}}
	if _, err := g.c.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, err := g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CompositeAlarms) != 0 || len(out.MetricAlarms) != 1 || out.NextToken != nil {
		t.Fatalf("DescribeAlarms: %+v", out)
	}
	a := out.MetricAlarms[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"AlarmName", aws.ToString(a.AlarmName), "ssh-rejects"},
		{"AlarmArn", aws.ToString(a.AlarmArn), "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ssh-rejects"},
		{"AlarmDescription", aws.ToString(a.AlarmDescription), "Rejected SSH"},
		{"AlarmConfigurationUpdatedTimestamp", aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).UTC(), t0},
		{"ActionsEnabled", aws.ToBool(a.ActionsEnabled), true},
		{"AlarmActions", a.AlarmActions, []string{topic}},
		{"OKActions", a.OKActions, []string{}},
		{"InsufficientDataActions", a.InsufficientDataActions, []string{}},
		{"StateValue", a.StateValue, types.StateValueInsufficientData},
		{"StateReason", aws.ToString(a.StateReason), "Unchecked: Initial alarm creation"},
		{"StateUpdatedTimestamp", aws.ToTime(a.StateUpdatedTimestamp).UTC(), t0},
		{"StateTransitionedTimestamp", aws.ToTime(a.StateTransitionedTimestamp).UTC(), t0},
		{"MetricName", aws.ToString(a.MetricName), "SSHRejects"},
		{"Namespace", aws.ToString(a.Namespace), "VPCFlow"},
		{"Statistic", a.Statistic, types.StatisticSum},
		{"Dimensions", a.Dimensions, []types.Dimension{}},
		{"Period", aws.ToInt32(a.Period), int32(60)},
		{"Unit", a.Unit, types.StandardUnitCount},
		{"EvaluationPeriods", aws.ToInt32(a.EvaluationPeriods), int32(3)},
		{"DatapointsToAlarm", aws.ToInt32(a.DatapointsToAlarm), int32(2)},
		{"Threshold", aws.ToFloat64(a.Threshold), 5.0},
		{"ComparisonOperator", a.ComparisonOperator, types.ComparisonOperatorGreaterThanOrEqualToThreshold},
		{"TreatMissingData", aws.ToString(a.TreatMissingData), "notBreaching"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
		}
	}
	// An update keeps the state and dates the configuration.
	if _, err := g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm, StateReason: aws.String("by hand")}); err != nil {
		t.Fatal(err)
	}
	g.clk.Advance(time.Minute)
	in.Threshold = aws.Float64(7)
	if _, err := g.c.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	out, _ = g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{"ssh-rejects"}})
	if a := out.MetricAlarms[0]; a.StateValue != types.StateValueAlarm || aws.ToFloat64(a.Threshold) != 7 ||
		!aws.ToTime(a.AlarmConfigurationUpdatedTimestamp).Equal(t0.Add(time.Minute)) || !aws.ToTime(a.StateUpdatedTimestamp).Equal(t0) {
		t.Errorf("after an update: %s threshold %v config %v state %v", a.StateValue, aws.ToFloat64(a.Threshold), a.AlarmConfigurationUpdatedTimestamp, a.StateUpdatedTimestamp)
	}
	// The selections of DescribeAlarms.
	for _, tc := range []struct {
		in   cw.DescribeAlarmsInput
		want []string
	}{
		{cw.DescribeAlarmsInput{StateValue: types.StateValueAlarm}, []string{"ssh-rejects"}},
		{cw.DescribeAlarmsInput{StateValue: types.StateValueOk}, []string{}},
		{cw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("ssh-")}, []string{"ssh-rejects"}},
		{cw.DescribeAlarmsInput{AlarmNamePrefix: aws.String("http")}, []string{}},
		{cw.DescribeAlarmsInput{AlarmNames: []string{"other"}}, []string{}},
		{cw.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:us-east-1:123456789012:")}, []string{"ssh-rejects"}},
		{cw.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:us-east-1:123456789012:pager")}, []string{}},
		{cw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}, []string{}},
		{cw.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm, types.AlarmTypeMetricAlarm}}, []string{"ssh-rejects"}},
		{cw.DescribeAlarmsInput{ChildrenOfAlarmName: aws.String("ssh-rejects")}, []string{}},
	} {
		out, err := g.c.DescribeAlarms(ctx, &tc.in)
		if err != nil || !reflect.DeepEqual(names(out.MetricAlarms), tc.want) {
			t.Errorf("DescribeAlarms(%+v) = %v, %v; want %v", tc.in, names(out.MetricAlarms), err, tc.want)
		}
	}
}

// TestDescribeAlarmsPaging: MaxRecords (1 to 100, default 50) cuts pages in
// name order; NextToken continues; the SDK's paginator gets every alarm
// once.
func TestDescribeAlarmsPaging(t *testing.T) {
	g := newRig(t)
	for i := 7; i >= 1; i-- { // created out of order: pages go by name
		if _, err := g.c.PutMetricAlarm(ctx, alarm(fmt.Sprintf("a%d", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	var pages [][]string
	var token *string
	for {
		out, err := g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(3), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, names(out.MetricAlarms))
		if token = out.NextToken; token == nil {
			break
		}
	}
	if want := [][]string{{"a1", "a2", "a3"}, {"a4", "a5", "a6"}, {"a7"}}; !reflect.DeepEqual(pages, want) {
		t.Errorf("pages %v, want %v", pages, want)
	}
	var all []string
	p := cw.NewDescribeAlarmsPaginator(g.c, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, names(out.MetricAlarms)...)
	}
	if want := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7"}; !reflect.DeepEqual(all, want) {
		t.Errorf("paginator: %v", all)
	}
	_, err := g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{NextToken: aws.String("not-a-token")})
	apiErr(t, err, "InvalidNextToken", "The specified NextToken is not valid.")
	for _, n := range []int32{0, 101} {
		_, err := g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{MaxRecords: aws.Int32(n)})
		rule := "greater than or equal to 1"
		if n > 100 {
			rule = "less than or equal to 100"
		}
		apiErr(t, err, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%d' at 'maxRecords' failed to satisfy constraint: Member must have value %s", n, rule))
	}
}

// TestAlarmErrors: the errors of the alarm actions, as the API reference
// lists them.
func TestAlarmErrors(t *testing.T) {
	g := newRig(t)
	if _, err := g.c.PutMetricAlarm(ctx, alarm("kept", 1)); err != nil {
		t.Fatal(err)
	}
	// DeleteAlarms: ResourceNotFound for an unknown name, and then nothing
	// is deleted.
	_, err := g.c.DeleteAlarms(ctx, &cw.DeleteAlarmsInput{AlarmNames: []string{"kept", "nope"}})
	apiErr(t, err, "ResourceNotFound", "The following alarms were not found: [nope]")
	if out, _ := g.c.DescribeAlarms(ctx, nil); len(out.MetricAlarms) != 1 {
		t.Errorf("a failed DeleteAlarms deleted %v", names(out.MetricAlarms))
	}
	_, err = g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")})
	apiErr(t, err, "ResourceNotFound", "Alarm nope not found")
	_, err = g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("kept"), StateValue: "BAD", StateReason: aws.String("x")})
	apiErr(t, err, "ValidationError", "1 validation error detected: Value 'BAD' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
	_, err = g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("kept"), StateValue: types.StateValueOk, StateReason: aws.String("x"), StateReasonData: aws.String("{not json")})
	apiErr(t, err, "InvalidFormat", "")
	_, err = g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{StateValue: "BAD"})
	apiErr(t, err, "ValidationError", "1 validation error detected: Value 'BAD' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
	// PutMetricAlarm: a period CloudWatch does not take (10, 20, 30 or a
	// multiple of 60), an action vpcflow cannot run, what is not
	// supported.
	bad := alarm("bad", 1)
	bad.Period = aws.Int32(45)
	_, err = g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60 seconds, got 45")
	bad = alarm("bad", 1)
	bad.OKActions = []string{"https://hooks.example.com/alarm"}
	_, err = g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", `Invalid alarm action "https://hooks.example.com/alarm": a webhook must be on this machine (127.0.0.1, localhost or [::1]): vpcflow sends nothing elsewhere.`)
	bad = alarm("bad", 1)
	bad.AlarmActions = []string{"arn:aws:sns:eu-west-1:123456789012:ops"}
	_, err = g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", "Invalid region eu-west-1 specified. Only us-east-1 is supported.")
	bad = alarm("bad", 1)
	bad.Statistic, bad.ExtendedStatistic = "", aws.String("p99")
	_, err = g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", "vpcflow does not support ExtendedStatistic: percentiles are not kept (vpcflow stores count, sum, minimum and maximum); use Statistic")
	bad = alarm("bad", 1)
	bad.Threshold = nil
	_, err = g.c.PutMetricAlarm(ctx, bad)
	apiErr(t, err, "ValidationError", "Threshold must be specified for an alarm that is not based on an anomaly detection model.")
	if out, _ := g.c.DescribeAlarms(ctx, nil); len(out.MetricAlarms) != 1 {
		t.Errorf("a refused alarm was kept: %v", names(out.MetricAlarms))
	}
}

// TestMissingMembers: the SDKs refuse to send a request without a
// required member, so these go by hand. CloudWatch's validation names
// each missing member ("Value null at ..."); GetMetricStatistics answers
// MissingParameter, the error its reference lists.
func TestMissingMembers(t *testing.T) {
	g := newRig(t)
	status, body := g.form(t, "Action", "PutMetricAlarm", "Namespace", "VPCFlow")
	want := `<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>ValidationError</Code>` +
		`<Message>3 validation errors detected: Value null at &#39;alarmName&#39; failed to satisfy constraint: Member must not be null; ` +
		`Value null at &#39;evaluationPeriods&#39; failed to satisfy constraint: Member must not be null; ` +
		`Value null at &#39;comparisonOperator&#39; failed to satisfy constraint: Member must not be null</Message></Error>` +
		`<RequestId>` + reqID + `</RequestId></ErrorResponse>`
	if status != http.StatusBadRequest || !strings.HasSuffix(body, want) {
		t.Errorf("PutMetricAlarm without members: %d\n%s\nwant suffix\n%s", status, body, want)
	}
	status, body = g.form(t, "Action", "SetAlarmState", "AlarmName", "x")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Message>2 validation errors detected: Value null at &#39;stateValue&#39;") {
		t.Errorf("SetAlarmState without state: %d %s", status, body)
	}
	status, body = g.form(t, "Action", "DeleteAlarms")
	if status != http.StatusBadRequest || !strings.Contains(body, "Value null at &#39;alarmNames&#39;") {
		t.Errorf("DeleteAlarms without names: %d %s", status, body)
	}
	status, body = g.form(t, "Action", "GetMetricStatistics", "Namespace", "VPCFlow", "MetricName", "SSHRejects", "Period", "60",
		"EndTime", "2026-12-07T18:00:00Z", "Statistics.member.1", "Sum")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>MissingParameter</Code><Message>The parameter StartTime is required.</Message>") {
		t.Errorf("GetMetricStatistics without StartTime: %d %s", status, body)
	}
	status, body = g.form(t, "Action", "Frobnicate")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidAction</Code><Message>Could not find operation Frobnicate for version 2010-08-01</Message>") {
		t.Errorf("unknown action: %d %s", status, body)
	}
	status, body = g.form(t, "MaxRecords", "1")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>MissingAction</Code>") {
		t.Errorf("no action: %d %s", status, body)
	}
	status, body = g.form(t, "Action", "DescribeAlarms", "MaxRecords", "ten")
	if status != http.StatusBadRequest || !strings.Contains(body, "<Code>InvalidParameterValue</Code><Message>The value of parameter MaxRecords is not a valid integer.</Message>") {
		t.Errorf("a non-number: %d %s", status, body)
	}
}

// TestSetAlarmStateAndHistory: SetAlarmState changes the state at once,
// records a StateUpdate (with its StateReasonData) and runs the new
// state's actions; DescribeAlarmHistory selects by type and dates, orders
// by ScanBy and pages by MaxRecords.
func TestSetAlarmStateAndHistory(t *testing.T) {
	g := newRig(t)
	in := alarm("ssh-rejects", 3)
	in.AlarmActions = []string{topic}
	g.c.PutMetricAlarm(ctx, in)
	g.clk.Advance(time.Minute) // 17:01
	if _, err := g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm,
		StateReason: aws.String("testing"), StateReasonData: aws.String(`{"by":"test"}`)}); err != nil {
		t.Fatal(err)
	}
	out, _ := g.c.DescribeAlarms(ctx, nil)
	if a := out.MetricAlarms[0]; a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != "testing" ||
		aws.ToString(a.StateReasonData) != `{"by":"test"}` || !aws.ToTime(a.StateUpdatedTimestamp).Equal(t0.Add(time.Minute)) {
		t.Errorf("after SetAlarmState: %s %q %q %v", a.StateValue, aws.ToString(a.StateReason), aws.ToString(a.StateReasonData), a.StateUpdatedTimestamp)
	}
	g.clk.Advance(time.Minute) // 17:02
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueOk, StateReason: aws.String("over")})

	type item struct{ typ, summary, at string }
	history := func(in cw.DescribeAlarmHistoryInput) []item {
		t.Helper()
		out, err := g.c.DescribeAlarmHistory(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		var got []item
		for _, it := range out.AlarmHistoryItems {
			if aws.ToString(it.AlarmName) != "ssh-rejects" || it.AlarmType != types.AlarmTypeMetricAlarm {
				t.Errorf("item of %q, type %s", aws.ToString(it.AlarmName), it.AlarmType)
			}
			got = append(got, item{string(it.HistoryItemType), aws.ToString(it.HistorySummary), aws.ToTime(it.Timestamp).Format("15:04")})
		}
		return got
	}
	// Newest first; the Action item of 17:01 is later than its
	// StateUpdate (the topic is published after the change).
	all := []item{
		{"StateUpdate", "Alarm updated from ALARM to OK", "17:02"},
		{"Action", "Successfully executed action " + topic, "17:01"},
		{"StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM", "17:01"},
	}
	if got := history(cw.DescribeAlarmHistoryInput{AlarmName: aws.String("ssh-rejects")}); !reflect.DeepEqual(got, all) {
		t.Errorf("history %v, want %v", got, all)
	}
	oldestFirst := []item{all[2], all[1], all[0]}
	for _, tc := range []struct {
		in   cw.DescribeAlarmHistoryInput
		want []item
	}{
		{cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeStateUpdate}, []item{all[0], all[2]}},
		{cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeAction}, []item{all[1]}},
		{cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeConfigurationUpdate}, nil},
		{cw.DescribeAlarmHistoryInput{ScanBy: types.ScanByTimestampAscending}, oldestFirst},
		{cw.DescribeAlarmHistoryInput{StartDate: aws.Time(t0.Add(2 * time.Minute))}, all[:1]},
		{cw.DescribeAlarmHistoryInput{EndDate: aws.Time(t0.Add(time.Minute))}, all[1:]},
		{cw.DescribeAlarmHistoryInput{AlarmName: aws.String("other")}, nil},
		{cw.DescribeAlarmHistoryInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}, nil},
	} {
		if got := history(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DescribeAlarmHistory(%+v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// The StateUpdate carries the state reason data of SetAlarmState.
	h, _ := g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{ScanBy: types.ScanByTimestampAscending, MaxRecords: aws.Int32(1)})
	if d := aws.ToString(h.AlarmHistoryItems[0].HistoryData); d != `{"version":"1.0","oldState":{"stateValue":"INSUFFICIENT_DATA","stateReason":"Unchecked: Initial alarm creation"},`+
		`"newState":{"stateValue":"ALARM","stateReason":"testing","stateReasonData":{"by":"test"}},"actions":["`+topic+`"]}` {
		t.Errorf("HistoryData %s", d)
	}
	// Pages of one item, both orders, by hand and with the paginator.
	for _, scan := range []types.ScanBy{types.ScanByTimestampDescending, types.ScanByTimestampAscending} {
		var got []item
		p := cw.NewDescribeAlarmHistoryPaginator(g.c, &cw.DescribeAlarmHistoryInput{MaxRecords: aws.Int32(1), ScanBy: scan})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, it := range out.AlarmHistoryItems {
				got = append(got, item{string(it.HistoryItemType), aws.ToString(it.HistorySummary), aws.ToTime(it.Timestamp).Format("15:04")})
			}
		}
		want := all
		if scan == types.ScanByTimestampAscending {
			want = oldestFirst
		}
		if pages != 3 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s in pages of 1: %d pages, %v", scan, pages, got)
		}
	}
	_, err := g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{NextToken: aws.String("bm90IG1pbmU")})
	apiErr(t, err, "InvalidNextToken", "The specified NextToken is not valid.")
}

// TestAlarmActionsSwitch: DisableAlarmActions keeps the actions but runs
// none (no Action item on a change); EnableAlarmActions turns them back
// on. Unknown names are ignored, as CloudWatch ignores them.
func TestAlarmActionsSwitch(t *testing.T) {
	g := newRig(t)
	in := alarm("ssh-rejects", 3)
	in.AlarmActions = []string{topic}
	g.c.PutMetricAlarm(ctx, in)
	if _, err := g.c.DisableAlarmActions(ctx, &cw.DisableAlarmActionsInput{AlarmNames: []string{"ssh-rejects", "unknown"}}); err != nil {
		t.Fatal(err)
	}
	out, _ := g.c.DescribeAlarms(ctx, nil)
	if a := out.MetricAlarms[0]; aws.ToBool(a.ActionsEnabled) || !reflect.DeepEqual(a.AlarmActions, []string{topic}) {
		t.Errorf("disabled: enabled=%v actions %v", aws.ToBool(a.ActionsEnabled), a.AlarmActions)
	}
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm, StateReason: aws.String("muted")})
	h, _ := g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeAction})
	if len(h.AlarmHistoryItems) != 0 {
		t.Errorf("disabled actions ran: %+v", h.AlarmHistoryItems)
	}
	if _, err := g.c.EnableAlarmActions(ctx, &cw.EnableAlarmActionsInput{AlarmNames: []string{"ssh-rejects"}}); err != nil {
		t.Fatal(err)
	}
	out, _ = g.c.DescribeAlarms(ctx, nil)
	if !aws.ToBool(out.MetricAlarms[0].ActionsEnabled) {
		t.Error("EnableAlarmActions left actions disabled")
	}
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueOk, StateReason: aws.String("x")})
	g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm, StateReason: aws.String("loud")})
	h, _ = g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeAction})
	if len(h.AlarmHistoryItems) != 1 || aws.ToString(h.AlarmHistoryItems[0].HistorySummary) != "Successfully executed action "+topic {
		t.Errorf("enabled actions: %+v", h.AlarmHistoryItems)
	}
}

// TestDescribeAlarmsForMetric: the alarms on one metric (namespace, name
// and the same dimensions), narrowed by statistic, period and unit.
func TestDescribeAlarmsForMetric(t *testing.T) {
	g := newRig(t)
	g.c.PutMetricAlarm(ctx, alarm("sum-60", 1))
	max := alarm("max-300", 1)
	max.Statistic, max.Period = types.StatisticMaximum, aws.Int32(300)
	g.c.PutMetricAlarm(ctx, max)
	eni := alarm("eni", 1)
	eni.Dimensions = []types.Dimension{{Name: aws.String("Eni"), Value: aws.String("eni-1")}}
	g.c.PutMetricAlarm(ctx, eni)
	other := alarm("other", 1)
	other.MetricName = aws.String("Other")
	g.c.PutMetricAlarm(ctx, other)
	for _, tc := range []struct {
		in   cw.DescribeAlarmsForMetricInput
		want []string
	}{
		{cw.DescribeAlarmsForMetricInput{}, []string{"max-300", "sum-60"}},
		{cw.DescribeAlarmsForMetricInput{Statistic: types.StatisticMaximum}, []string{"max-300"}},
		{cw.DescribeAlarmsForMetricInput{Period: aws.Int32(60)}, []string{"sum-60"}},
		{cw.DescribeAlarmsForMetricInput{Unit: types.StandardUnitBytes}, []string{}},
		{cw.DescribeAlarmsForMetricInput{Dimensions: []types.Dimension{{Name: aws.String("Eni"), Value: aws.String("eni-1")}}}, []string{"eni"}},
		{cw.DescribeAlarmsForMetricInput{ExtendedStatistic: aws.String("p90")}, []string{}},
	} {
		tc.in.Namespace, tc.in.MetricName = aws.String("VPCFlow"), aws.String("SSHRejects")
		out, err := g.c.DescribeAlarmsForMetric(ctx, &tc.in)
		if err != nil || !reflect.DeepEqual(names(out.MetricAlarms), tc.want) {
			t.Errorf("DescribeAlarmsForMetric(%+v) = %v, %v; want %v", tc.in, names(out.MetricAlarms), err, tc.want)
		}
	}
}
