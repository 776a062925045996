package logsvc

import (
	"math"
	"testing"

	"github.com/vpcflow/vpcflow/metricfilter"
)

// FuzzParseMark: the marker-key decoder of metrics.db never panics on any
// bytes, and every key it writes reads back the same.
func FuzzParseMark(f *testing.F) {
	f.Add([]byte(mark{namespace: "VPC", name: "SSHRejects", kind: markSeen, minute: 1563108180000}.key()), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, []byte{})
	f.Add([]byte{3, 'a'}, []byte{1})
	f.Fuzz(func(t *testing.T, k, v []byte) {
		parseMark(k, v)
		m := mark{namespace: string(k), name: string(v), kind: markMatched, minute: int64(len(k)) - 5, value: float64(len(v))}
		if len(k)%2 == 0 {
			m.kind = markSeen
		}
		back, ok := parseMark(m.key(), u64(math.Float64bits(m.value)))
		if !ok || back != m {
			t.Fatalf("round trip %+v -> %+v, %v", m, back, ok)
		}
	})
}

// FuzzDecodePoints: the datapoint-batch decoder of metrics.db never panics
// on damaged bytes, and a batch built from the input reads back the same.
func FuzzDecodePoints(f *testing.F) {
	f.Add(encodePoints([]metricfilter.Datapoint{
		{Namespace: "VPC", MetricName: "SSHRejects", Unit: "None", Timestamp: 1563108188000, Value: 1},
		{Namespace: "VPC", MetricName: "Bytes", Unit: "Bytes", Timestamp: -5, Value: 4065, Dimensions: []metricfilter.Dimension{{Name: "Eni", Value: "eni-1"}}},
	}), "VPC", 1.5)
	f.Add([]byte{1, 0, 0}, "", 0.0)
	f.Add([]byte{1, 1, 3, 'a'}, "x", -1.0)
	f.Fuzz(func(t *testing.T, b []byte, s string, v float64) {
		decodePoints(b)
		in := []metricfilter.Datapoint{
			{Namespace: s, MetricName: "M", Unit: "None", Timestamp: int64(len(b)) - 3, Value: v},
			{Namespace: "N", MetricName: s, Unit: "Count", Timestamp: math.MaxInt64, Value: 0, Dimensions: []metricfilter.Dimension{{Name: s, Value: string(b)}}},
			{Namespace: s, MetricName: "M", Unit: "None", Timestamp: math.MinInt64, Value: -v},
		}
		out, err := decodePoints(encodePoints(in))
		if err != nil || len(out) != len(in) {
			t.Fatalf("round trip: %v, %d points", err, len(out))
		}
		for i := range in {
			a, b := in[i], out[i]
			if a.Namespace != b.Namespace || a.MetricName != b.MetricName || a.Unit != b.Unit || a.Timestamp != b.Timestamp ||
				math.Float64bits(a.Value) != math.Float64bits(b.Value) || len(a.Dimensions) != len(b.Dimensions) ||
				len(a.Dimensions) == 1 && a.Dimensions[0] != b.Dimensions[0] {
				t.Fatalf("point %d: %+v -> %+v", i, a, b)
			}
		}
	})
}
