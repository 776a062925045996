package cwapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"

	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/logstore"
	"github.com/vpcflow/vpcflow/logsvc"
)

// readOnly are the actions a fuzzer may run end to end: they read the
// service and write nothing (the others would fsync a bbolt file per
// input).
var readOnly = []string{"DescribeAlarms", "DescribeAlarmsForMetric", "DescribeAlarmHistory", "ListMetrics", "GetMetricStatistics", "GetMetricData"}

// FuzzDecode feeds arbitrary bodies (read as CBOR and as JSON) and Query
// forms to the decoding of the three protocols: the MetricDataQueries and Dimensions readers, every
// read-only action and the writing of its answer in XML and CBOR. Nothing
// may panic; a bad request is an error value.
func FuzzDecode(f *testing.F) {
	svc, err := logsvc.Open(f.TempDir(), logsvc.Options{Identity: logsvc.Identity{Account: "123456789012", Region: "us-east-1"},
		Store: logstore.Options{Now: func() time.Time { return time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC) }}})
	if err != nil {
		f.Fatal(err)
	}
	defer svc.Close()
	h := New(svc)
	metricStat := cbor.Map{"Metric": cbor.Map{"Namespace": cbor.String("VPCFlow"), "MetricName": cbor.String("SSHRejects"),
		"Dimensions": cbor.List{cbor.Map{"Name": cbor.String("Eni"), "Value": cbor.String("eni-1")}}},
		"Period": cbor.Uint(60), "Stat": cbor.String("Sum")}
	f.Add(cbor.Encode(cbor.Map{"MetricDataQueries": cbor.List{cbor.Map{"Id": cbor.String("q"), "MetricStat": metricStat, "ReturnData": cbor.Bool(true)}},
		"StartTime": &cbor.Tag{ID: 1, Value: cbor.Float64(1.7966628e9)}, "EndTime": &cbor.Tag{ID: 1, Value: cbor.Uint(1796666400)},
		"MaxDatapoints": cbor.Uint(2), "ScanBy": cbor.String("TimestampAscending")}),
		"MetricDataQueries.member.1.Id=q&MetricDataQueries.member.1.MetricStat.Metric.Namespace=VPCFlow&MetricDataQueries.member.1.MetricStat.Metric.MetricName=SSHRejects"+
			"&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum&StartTime=2026-12-07T17:00:00Z&EndTime=2026-12-07T18:00:00Z")
	f.Add(cbor.Encode(cbor.Map{"Namespace": cbor.String("VPCFlow"), "MetricName": cbor.String("SSHRejects"), "Period": cbor.Uint(60),
		"Statistics": cbor.List{cbor.String("Sum")}, "Dimensions": cbor.List{cbor.Map{"Name": cbor.String("Eni"), "Value": &cbor.Nil{}}},
		"StartTime": &cbor.Tag{ID: 1, Value: cbor.NegInt(5)}, "EndTime": &cbor.Tag{ID: 1, Value: cbor.Uint(10)}}),
		"Namespace=VPCFlow&MetricName=SSHRejects&Dimensions.member.1.Name=Eni&Dimensions.member.1.Value=eni-1&Period=60&Statistics.member.1=Sum&StartTime=1796662800&EndTime=1796666400")
	f.Add(cbor.Encode(cbor.Map{"AlarmNames": cbor.List{cbor.String("a"), cbor.Uint(1)}, "MaxRecords": cbor.Float64(3.5), "NextToken": cbor.String("YWxhcm1zAGE")}),
		"AlarmNames.member.1=a&AlarmNames.member.2=&MaxRecords=3&NextToken=YWxhcm1zAGE&Dimensions=")
	f.Add([]byte{0xbf, 0x61, 0x41, 0x9f, 0xff, 0xff}, "Dimensions.member.99999.Name=x&MetricDataQueries.member.1.MetricStat=")
	f.Add([]byte(`{"MetricDataQueries":[{"Id":"q","MetricStat":{"Metric":{"Namespace":"VPCFlow","MetricName":"SSHRejects"},"Period":60,"Stat":"Sum"}}],`+
		`"StartTime":1796662800,"EndTime":1796666400.5,"Namespace":"VPCFlow","MetricName":"SSHRejects","Period":60,"Statistics":["Sum"],"Dimensions":[{"Name":"x","Value":null}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, form string) {
		var ins []input
		if in, err := decodeCBOR(body); err == nil {
			ins = append(ins, in)
		}
		// The same bytes as an AWS JSON 1.0 body.
		if in, err := decodeJSON(body); err == nil {
			ins = append(ins, in)
		}
		if req, err := query.ParseForm(form); err == nil {
			ins = append(ins, formInput{req.Params()})
		}
		for _, in := range ins {
			r := &reader{in: in}
			readDataQueries(r)
			var v violations
			r.dimensions("Dimensions", "dimensions", &v)
			v.err()
			for _, action := range readOnly {
				out, err := h.do(action, in)
				if err != nil {
					errorOf(err)
					continue
				}
				var b bytes.Buffer
				writeXML(&b, reflect.ValueOf(out))
				cbor.Encode(toCBOR(reflect.ValueOf(out)))
				if _, err := json.Marshal(toJSON(reflect.ValueOf(out))); err != nil {
					t.Errorf("%s answer does not encode as JSON: %v", action, err)
				}
			}
		}
	})
}
