package cwapi_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/vpcflow/vpcflow/metricfilter"
)

// clockAt is 17:mm:ss on t0's day.
func clockAt(m, s int) time.Time {
	return t0.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
}

// sshStory is the metric filter and alarm story of the user guide's flow
// log example: the filter counts rejected SSH (TCP to port 22, REJECT),
// the alarm goes to ALARM when a minute holds 3 or more (Sum >= 3 over one
// period of 60 s; minutes without data are not breaching). Records:
//
//	17:00:05, :10, :15  REJECT to 22 from three addresses  -> counted
//	17:00:20            ACCEPT to 22                        -> not counted
//	17:00:25            REJECT to 80                        -> not counted
//	17:01:05            REJECT to 22 (closes minute 17:00: Sum 3 -> ALARM)
//	17:02:05            REJECT to 22 (closes 17:01: Sum 1 -> OK)
//
// Alarms are evaluated on event time: a minute closes when an event of a
// later minute arrives.
func sshStory(t *testing.T, g *rig) {
	t.Helper()
	in := alarm("ssh-rejects", 3)
	in.AlarmActions = []string{topic}
	in.TreatMissingData = aws.String("notBreaching")
	if _, err := g.c.PutMetricAlarm(ctx, in); err != nil {
		t.Fatal(err)
	}
	g.put(t, record("198.51.100.1", 22, "REJECT", clockAt(0, 5)), record("198.51.100.2", 22, "REJECT", clockAt(0, 10)),
		record("198.51.100.3", 22, "REJECT", clockAt(0, 15)), record("198.51.100.4", 22, "ACCEPT", clockAt(0, 20)),
		record("198.51.100.5", 80, "REJECT", clockAt(0, 25)))
	if st := state(t, g, "ssh-rejects"); st != types.StateValueInsufficientData {
		t.Fatalf("minute 17:00 still open, state %s", st)
	}
	g.put(t, record("198.51.100.6", 22, "REJECT", clockAt(1, 5)))
}

func state(t *testing.T, g *rig, name string) types.StateValue {
	t.Helper()
	out, err := g.c.DescribeAlarms(ctx, &cw.DescribeAlarmsInput{AlarmNames: []string{name}})
	if err != nil || len(out.MetricAlarms) != 1 {
		t.Fatalf("DescribeAlarms %s: %+v %v", name, out, err)
	}
	return out.MetricAlarms[0].StateValue
}

// TestMetricFilterAlarmStory: flow log records through PutLogEvents, the
// metric filter, the alarm: DescribeAlarms shows ALARM with CloudWatch's
// reason, DescribeAlarmHistory the StateUpdate and the SNS Action; a
// SetAlarmState drill lasts until the next evaluation.
func TestMetricFilterAlarmStory(t *testing.T) {
	g := newRig(t)
	sshStory(t, g)
	out, _ := g.c.DescribeAlarms(ctx, nil)
	a := out.MetricAlarms[0]
	wantReason := "Threshold Crossed: 1 out of the last 1 datapoints [3 (07/12/26 17:00:00)] was greater than or equal to the threshold (3) (minimum 1 datapoints for ALARM)."
	if a.StateValue != types.StateValueAlarm || aws.ToString(a.StateReason) != wantReason || !aws.ToTime(a.StateUpdatedTimestamp).Equal(clockAt(1, 0)) {
		t.Fatalf("after minute 17:00: %s %q %v", a.StateValue, aws.ToString(a.StateReason), a.StateUpdatedTimestamp)
	}
	h, _ := g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{AlarmName: aws.String("ssh-rejects")})
	if len(h.AlarmHistoryItems) != 2 || h.AlarmHistoryItems[1].HistoryItemType != types.HistoryItemTypeStateUpdate ||
		aws.ToString(h.AlarmHistoryItems[1].HistorySummary) != "Alarm updated from INSUFFICIENT_DATA to ALARM" ||
		aws.ToString(h.AlarmHistoryItems[0].HistorySummary) != "Successfully executed action "+topic {
		t.Fatalf("history: %+v", h.AlarmHistoryItems)
	}
	g.put(t, record("198.51.100.7", 22, "REJECT", clockAt(2, 5)))
	if st := state(t, g, "ssh-rejects"); st != types.StateValueOk {
		t.Fatalf("minute 17:01 (Sum 1): %s, want OK", st)
	}
	// A drill: ALARM by hand at 17:02:30, then 17:03:05 closes minute
	// 17:02 (Sum 1) and the evaluation puts OK back.
	g.setClock(clockAt(2, 30))
	if _, err := g.c.SetAlarmState(ctx, &cw.SetAlarmStateInput{AlarmName: aws.String("ssh-rejects"), StateValue: types.StateValueAlarm, StateReason: aws.String("drill")}); err != nil {
		t.Fatal(err)
	}
	if st := state(t, g, "ssh-rejects"); st != types.StateValueAlarm {
		t.Fatalf("after SetAlarmState: %s", st)
	}
	g.put(t, record("198.51.100.8", 22, "REJECT", clockAt(3, 5)))
	if st := state(t, g, "ssh-rejects"); st != types.StateValueOk {
		t.Fatalf("the next evaluation: %s, want OK", st)
	}
	h, _ = g.c.DescribeAlarmHistory(ctx, &cw.DescribeAlarmHistoryInput{HistoryItemType: types.HistoryItemTypeStateUpdate})
	var got []string
	for _, it := range h.AlarmHistoryItems {
		got = append(got, aws.ToTime(it.Timestamp).UTC().Format("15:04:05")+" "+aws.ToString(it.HistorySummary))
	}
	want := []string{"17:03:00 Alarm updated from ALARM to OK", "17:02:30 Alarm updated from OK to ALARM",
		"17:02:00 Alarm updated from ALARM to OK", "17:01:00 Alarm updated from INSUFFICIENT_DATA to ALARM"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state updates:\n%v\nwant\n%v", got, want)
	}
}

// TestGetMetricStatistics: the story's per-minute counts, by hand: 17:00
// three rejected SSH, 17:01, 17:02 and 17:03 one each (the filter gives 1
// per record, unit Count).
func TestGetMetricStatistics(t *testing.T) {
	g := newRig(t)
	sshStory(t, g)
	g.put(t, record("198.51.100.7", 22, "REJECT", clockAt(2, 5)), record("198.51.100.8", 22, "REJECT", clockAt(3, 5)))
	g.setClock(clockAt(5, 0))
	all := []types.Statistic{types.StatisticSampleCount, types.StatisticAverage, types.StatisticSum, types.StatisticMinimum, types.StatisticMaximum}
	get := func(in cw.GetMetricStatisticsInput) ([]string, error) {
		in.Namespace, in.MetricName = aws.String("VPCFlow"), aws.String("SSHRejects")
		if in.Statistics == nil && in.ExtendedStatistics == nil {
			in.Statistics = all
		}
		out, err := g.c.GetMetricStatistics(ctx, &in)
		if err != nil {
			return nil, err
		}
		if aws.ToString(out.Label) != "SSHRejects" {
			t.Errorf("Label %q", aws.ToString(out.Label))
		}
		got := []string{}
		for _, d := range out.Datapoints {
			s := aws.ToTime(d.Timestamp).UTC().Format("15:04")
			for _, v := range []*float64{d.SampleCount, d.Average, d.Sum, d.Minimum, d.Maximum} {
				if v == nil {
					s += " -"
				} else {
					s += fmt.Sprintf(" %g", *v)
				}
			}
			got = append(got, s+" "+string(d.Unit))
		}
		return got, nil
	}
	for _, tc := range []struct {
		what string
		in   cw.GetMetricStatisticsInput
		want []string
	}{
		{"every statistic per minute", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60)},
			[]string{"17:00 3 1 3 1 1 Count", "17:01 1 1 1 1 1 Count", "17:02 1 1 1 1 1 Count", "17:03 1 1 1 1 1 Count"}},
		{"two-minute periods", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(120),
			Statistics: []types.Statistic{types.StatisticSum}}, []string{"17:00 - - 4 - - Count", "17:02 - - 2 - - Count"}},
		{"EndTime is exclusive", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(3, 0)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum}}, []string{"17:00 - - 3 - - Count", "17:01 - - 1 - - Count", "17:02 - - 1 - - Count"}},
		{"StartTime rounded down to the minute", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 30)), EndTime: aws.Time(clockAt(1, 0)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum}}, []string{"17:00 - - 3 - - Count"}},
		{"the metric's unit", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(1, 0)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum}, Unit: types.StandardUnitCount}, []string{"17:00 - - 3 - - Count"}},
		{"another unit holds nothing", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60),
			Unit: types.StandardUnitBytes}, []string{}},
		{"another dimension set is another metric", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60),
			Dimensions: []types.Dimension{{Name: aws.String("Eni"), Value: aws.String("eni-1")}}}, []string{}},
		{"1,440 datapoints are allowed", cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(24*60, 0)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum}}, []string{"17:00 - - 3 - - Count", "17:01 - - 1 - - Count", "17:02 - - 1 - - Count", "17:03 - - 1 - - Count"}},
	} {
		got, err := get(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v %v, want %v", tc.what, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		in        cw.GetMetricStatisticsInput
		code, msg string
	}{
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(24*60+1, 0)), Period: aws.Int32(60)},
			"InvalidParameterCombination", "You have requested up to 1,441 datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range."},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(45)},
			"InvalidParameterValue", "The parameter Period must be 10, 20, 30 or a multiple of 60 (vpcflow keeps 10-second buckets), got 45."},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(0)},
			"InvalidParameterValue", "The parameter Period must be greater than 0."},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(4, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60)},
			"InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime."},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60), Statistics: []types.Statistic{}},
			"InvalidParameterCombination", "Must specify either Statistics or ExtendedStatistics, but not both."},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60), ExtendedStatistics: []string{"p99"}},
			"ValidationError", "vpcflow does not support ExtendedStatistics: percentiles are not kept (vpcflow stores count, sum, minimum and maximum); use Statistics"},
		{cw.GetMetricStatisticsInput{StartTime: aws.Time(clockAt(0, 0)), EndTime: aws.Time(clockAt(4, 0)), Period: aws.Int32(60), Statistics: []types.Statistic{"Median"}},
			"InvalidParameterValue", "The value Median for parameter Statistics.member.1 is not valid: it must be one of SampleCount, Average, Sum, Minimum, Maximum."},
	} {
		_, err := get(tc.in)
		apiErr(t, err, tc.code, tc.msg)
	}
	// CloudWatch rounds an older StartTime more coarsely: to 5 minutes
	// between 15 and 63 days of age, to the hour beyond. 17:02:30 then
	// starts the periods at 17:00, and minute 17:00 (Sum 3) is in.
	for _, c := range []struct {
		age   time.Duration
		start time.Time
	}{{20 * 24 * time.Hour, clockAt(2, 30)}, {70 * 24 * time.Hour, clockAt(30, 0)}} {
		g.setClock(t0.Add(c.age))
		got, err := get(cw.GetMetricStatisticsInput{StartTime: aws.Time(c.start), EndTime: aws.Time(clockAt(1, 0).Add(time.Hour)), Period: aws.Int32(60),
			Statistics: []types.Statistic{types.StatisticSum}})
		if err != nil || len(got) == 0 || got[0] != "17:00 - - 3 - - Count" {
			t.Errorf("StartTime %v asked %v later: %v %v", c.start.Format("15:04:05"), c.age, got, err)
		}
	}
}

// TestGetMetricData: MetricStat queries over the story's minutes, newest
// first unless ScanBy says otherwise, in pages of MaxDatapoints.
func TestGetMetricData(t *testing.T) {
	g := newRig(t)
	sshStory(t, g)
	g.put(t, record("198.51.100.7", 22, "REJECT", clockAt(2, 5)), record("198.51.100.8", 22, "REJECT", clockAt(3, 5)))
	g.setClock(clockAt(5, 0))
	stat := func(period int32, s string) *types.MetricStat {
		return &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("VPCFlow"), MetricName: aws.String("SSHRejects")}, Period: aws.Int32(period), Stat: aws.String(s)}
	}
	queries := []types.MetricDataQuery{
		{Id: aws.String("perminute"), MetricStat: stat(60, "Sum")},
		{Id: aws.String("hidden"), MetricStat: stat(120, "SampleCount"), ReturnData: aws.Bool(false)},
		{Id: aws.String("five"), MetricStat: stat(300, "Maximum"), Label: aws.String("max over 5 min")},
	}
	type result struct {
		id, label, status string
		points            []string
	}
	run := func(in cw.GetMetricDataInput) ([]result, *string, error) {
		in.StartTime, in.EndTime = aws.Time(clockAt(0, 0)), aws.Time(clockAt(4, 0))
		if in.MetricDataQueries == nil {
			in.MetricDataQueries = queries
		}
		out, err := g.c.GetMetricData(ctx, &in)
		if err != nil {
			return nil, nil, err
		}
		var rs []result
		for _, r := range out.MetricDataResults {
			x := result{id: aws.ToString(r.Id), label: aws.ToString(r.Label), status: string(r.StatusCode), points: []string{}}
			for i := range r.Timestamps {
				x.points = append(x.points, fmt.Sprintf("%s=%g", r.Timestamps[i].UTC().Format("15:04"), r.Values[i]))
			}
			rs = append(rs, x)
		}
		return rs, out.NextToken, nil
	}
	got, next, err := run(cw.GetMetricDataInput{})
	want := []result{
		{"perminute", "SSHRejects", "Complete", []string{"17:03=1", "17:02=1", "17:01=1", "17:00=3"}},
		{"five", "max over 5 min", "Complete", []string{"17:00=1"}},
	}
	if err != nil || next != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("GetMetricData: %+v %v %v", got, next, err)
	}
	got, _, _ = run(cw.GetMetricDataInput{ScanBy: types.ScanByTimestampAscending})
	if len(got) != 2 || !reflect.DeepEqual(got[0].points, []string{"17:00=3", "17:01=1", "17:02=1", "17:03=1"}) {
		t.Errorf("ascending: %+v", got)
	}
	// Pages of 3 datapoints: the first query's newest three, then the rest.
	got, next, _ = run(cw.GetMetricDataInput{MaxDatapoints: aws.Int32(3)})
	want = []result{
		{"perminute", "SSHRejects", "PartialData", []string{"17:03=1", "17:02=1", "17:01=1"}},
		{"five", "max over 5 min", "PartialData", []string{}},
	}
	if next == nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("page 1: %+v %v", got, next)
	}
	got, next2, _ := run(cw.GetMetricDataInput{MaxDatapoints: aws.Int32(3), NextToken: next})
	want = []result{
		{"perminute", "SSHRejects", "Complete", []string{"17:00=3"}},
		{"five", "max over 5 min", "Complete", []string{"17:00=1"}},
	}
	if next2 != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("page 2: %+v %v", got, next2)
	}
	points := 0
	p := cw.NewGetMetricDataPaginator(g.c, &cw.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(clockAt(0, 0)),
		EndTime: aws.Time(clockAt(4, 0)), MaxDatapoints: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.MetricDataResults {
			points += len(r.Values)
		}
	}
	if points != 5 {
		t.Errorf("paginator: %d datapoints, want 5", points)
	}
	// What is refused, and why.
	q := func(mod func(*types.MetricDataQuery)) []types.MetricDataQuery {
		x := types.MetricDataQuery{Id: aws.String("q"), MetricStat: stat(60, "Sum")}
		mod(&x)
		return []types.MetricDataQuery{x}
	}
	for _, tc := range []struct {
		in        cw.GetMetricDataInput
		code, msg string
	}{
		{cw.GetMetricDataInput{MetricDataQueries: q(func(x *types.MetricDataQuery) { x.MetricStat, x.Expression = nil, aws.String("SUM(METRICS())") })},
			"ValidationError", "vpcflow does not support MetricDataQueries.member.1.Expression: metric math expressions are not evaluated; query metrics with MetricStat"},
		{cw.GetMetricDataInput{MetricDataQueries: q(func(x *types.MetricDataQuery) { x.MetricStat = nil })},
			"ValidationError", "The parameter MetricDataQueries.member.1.MetricStat is required."},
		{cw.GetMetricDataInput{MetricDataQueries: q(func(x *types.MetricDataQuery) { x.Id = aws.String("Q1") })},
			"ValidationError", "The value Q1 for parameter MetricDataQueries.member.1.Id is not valid: it must start with a lower-case letter and hold only letters, digits and underscores."},
		{cw.GetMetricDataInput{MetricDataQueries: append(q(func(*types.MetricDataQuery) {}), q(func(*types.MetricDataQuery) {})...)},
			"ValidationError", "The value q for parameter MetricDataQueries.member.2.Id is not unique."},
		{cw.GetMetricDataInput{MetricDataQueries: q(func(x *types.MetricDataQuery) { x.MetricStat.Stat = aws.String("p99") })},
			"ValidationError", "vpcflow does not support the statistic p99 in MetricDataQueries.member.1.MetricStat.Stat: vpcflow computes SampleCount, Average, Sum, Minimum, Maximum"},
		{cw.GetMetricDataInput{MetricDataQueries: q(func(x *types.MetricDataQuery) { x.MetricStat.Period = aws.Int32(45) })},
			"ValidationError", "The value 45 for parameter MetricDataQueries.member.1.MetricStat.Period is not valid: it must be 10, 20, 30 or a multiple of 60 (vpcflow keeps 10-second buckets)."},
		{cw.GetMetricDataInput{NextToken: aws.String("bm9wZQ")}, "InvalidNextToken", "The specified NextToken is not valid."},
	} {
		_, _, err := run(tc.in)
		apiErr(t, err, tc.code, tc.msg)
	}
	_, err = g.c.GetMetricData(ctx, &cw.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(clockAt(4, 0)), EndTime: aws.Time(clockAt(0, 0))})
	apiErr(t, err, "ValidationError", "The parameter EndTime must be greater than StartTime.")
	_, err = g.c.GetMetricData(ctx, &cw.GetMetricDataInput{MetricDataQueries: queries, StartTime: aws.Time(clockAt(4, 0)), EndTime: aws.Time(clockAt(4, 0))})
	apiErr(t, err, "ValidationError", "The parameter StartTime must not equal parameter EndTime.")
}

// TestListMetrics: the metrics metric filters wrote, 500 a page, selected
// by namespace, name and dimensions.
func TestListMetrics(t *testing.T) {
	g := newRig(t)
	d := metricfilter.Definition{LogGroupName: group, FilterName: "by-source", FilterPattern: sshPattern,
		MetricTransformations: []metricfilter.Transformation{{MetricName: "BySource", MetricNamespace: "VPCFlow", MetricValue: "1",
			Dimensions: map[string]string{"Source": "$source"}}}}
	if err := g.svc.PutMetricFilter(d); err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i := 0; i < 501; i++ {
		recs = append(recs, record(fmt.Sprintf("10.0.%d.%d", i/256, i%256), 22, "REJECT", clockAt(0, 5)))
	}
	g.put(t, recs...)
	list := func(in cw.ListMetricsInput) ([]string, *string, []string) {
		t.Helper()
		out, err := g.c.ListMetrics(ctx, &in)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range out.Metrics {
			s := aws.ToString(m.Namespace) + "/" + aws.ToString(m.MetricName)
			for _, d := range m.Dimensions {
				s += " " + aws.ToString(d.Name) + "=" + aws.ToString(d.Value)
			}
			got = append(got, s)
		}
		return got, out.NextToken, out.OwningAccounts
	}
	page1, next, _ := list(cw.ListMetricsInput{MetricName: aws.String("BySource")})
	if len(page1) != 500 || next == nil || page1[0] != "VPCFlow/BySource Source=10.0.0.0" {
		t.Fatalf("page 1: %d metrics, first %q, token %v", len(page1), page1[0], next)
	}
	page2, next2, _ := list(cw.ListMetricsInput{MetricName: aws.String("BySource"), NextToken: next})
	if len(page2) != 1 || next2 != nil {
		t.Errorf("page 2: %v %v", page2, next2)
	}
	seen := map[string]bool{}
	p := cw.NewListMetricsPaginator(g.c, &cw.ListMetricsInput{Namespace: aws.String("VPCFlow")})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Metrics {
			k := aws.ToString(m.MetricName)
			for _, d := range m.Dimensions {
				k += " " + aws.ToString(d.Value)
			}
			seen[k] = true
		}
	}
	// 501 sources and the dimensionless SSHRejects of the rig's filter.
	if len(seen) != 502 || !seen["SSHRejects"] || !seen["BySource 10.0.1.244"] {
		t.Errorf("paginator: %d metrics", len(seen))
	}
	for _, tc := range []struct {
		in   cw.ListMetricsInput
		want []string
	}{
		{cw.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Source"), Value: aws.String("10.0.1.7")}}}, []string{"VPCFlow/BySource Source=10.0.1.7"}},
		{cw.ListMetricsInput{Dimensions: []types.DimensionFilter{{Name: aws.String("Eni")}}}, nil},
		{cw.ListMetricsInput{MetricName: aws.String("SSHRejects")}, []string{"VPCFlow/SSHRejects"}},
		{cw.ListMetricsInput{Namespace: aws.String("AWS/EC2")}, nil},
	} {
		if got, _, _ := list(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListMetrics(%+v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	// RecentlyActive PT3H: the data of 17:00 counts until 20:00.
	g.setClock(clockAt(2*60+50, 0))
	if got, _, _ := list(cw.ListMetricsInput{MetricName: aws.String("SSHRejects"), RecentlyActive: types.RecentlyActivePt3h}); len(got) != 1 {
		t.Errorf("recently active at 19:50: %v", got)
	}
	g.setClock(clockAt(3*60+10, 0))
	if got, _, _ := list(cw.ListMetricsInput{MetricName: aws.String("SSHRejects"), RecentlyActive: types.RecentlyActivePt3h}); len(got) != 0 {
		t.Errorf("recently active at 20:10: %v", got)
	}
	if got, _, owners := list(cw.ListMetricsInput{MetricName: aws.String("SSHRejects"), IncludeLinkedAccounts: aws.Bool(true)}); len(got) != 1 || !reflect.DeepEqual(owners, []string{account}) {
		t.Errorf("with linked accounts: %v %v", got, owners)
	}
}
