package record

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// The expected values below were typed by hand from the sample files (and
// the field tables of docs/aws-behaviour.md), not produced by the decoder.

func ip(s string) netip.Addr {
	if s == "" || s == "-" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

// v2 builds a default-format record; "-" addresses and -1 integers are absent.
func v2(acct, eni, src, dst string, sport, dport, proto, pkts, byts, start, end int64, act ActionValue, st Status) Record {
	var r Record
	r.Reset()
	r.Version, r.AccountID, r.InterfaceID = 2, acct, eni
	r.SrcAddr, r.DstAddr = ip(src), ip(dst)
	r.SrcPort, r.DstPort, r.Protocol, r.Packets, r.Bytes = sport, dport, proto, pkts, byts
	r.Start, r.End, r.Action, r.LogStatus = start, end, act, st
	return r
}

func with(f func(r *Record)) Record {
	var r Record
	r.Reset()
	f(&r)
	return r
}

func tcpSeq(src, dst string, sport, dport, byts, pkts, start, end, flags int64) Record {
	return with(func(r *Record) {
		r.Version, r.VPCID, r.SubnetID = 3, "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678"
		r.InstanceID, r.InterfaceID, r.AccountID = "i-01234567890123456", "eni-1235b8ca123456789", "123456789010"
		r.Type, r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort = TypeIPv4, ip(src), ip(dst), sport, dport
		r.PktSrcAddr, r.PktDstAddr, r.Protocol, r.Bytes, r.Packets = ip(src), ip(dst), 6, byts, pkts
		r.Start, r.End, r.Action, r.TCPFlags, r.LogStatus = start, end, ActionAccept, flags, StatusOK
	})
}

func natLine(inst, eni, src, dst, psrc, pdst string) Record {
	return with(func(r *Record) {
		r.InstanceID, r.InterfaceID = inst, eni
		r.SrcAddr, r.DstAddr, r.PktSrcAddr, r.PktDstAddr = ip(src), ip(dst), ip(psrc), ip(pdst)
	})
}

func tgwENI(eni, subnet, inst, src, dst string, sport, dport, flags int64, psrc, pdst string) Record {
	return with(func(r *Record) {
		r.Version, r.InterfaceID, r.AccountID, r.VPCID, r.SubnetID, r.InstanceID = 3, eni, "123456789010", "vpc-abcdefab012345678", subnet, inst
		r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol, r.TCPFlags = ip(src), ip(dst), sport, dport, 6, flags
		r.Type, r.PktSrcAddr, r.PktDstAddr, r.Action, r.LogStatus = TypeIPv4, ip(psrc), ip(pdst), ActionAccept, StatusOK
	})
}

var sampleWant = map[string]struct {
	version int // format version implied by the header (or default)
	records []Record
}{
	"aws/records-default-v2.log": {2, []Record{
		v2("123456789010", "eni-1235b8ca123456789", "172.31.16.139", "172.31.16.21", 20641, 22, 6, 20, 4249, 1418530010, 1418530070, ActionAccept, StatusOK),
		v2("123456789010", "eni-1235b8ca123456789", "172.31.9.69", "172.31.9.12", 49761, 3389, 6, 20, 4249, 1418530010, 1418530070, ActionReject, StatusOK),
		v2("123456789010", "eni-1235b8ca123456789", "-", "-", -1, -1, -1, -1, -1, 1431280876, 1431280934, ActionNone, StatusNoData),
		v2("123456789010", "eni-11111111aaaaaaaaa", "-", "-", -1, -1, -1, -1, -1, 1431280876, 1431280934, ActionNone, StatusSkipData),
		v2("123456789010", "eni-1235b8ca123456789", "203.0.113.12", "172.31.16.139", 0, 0, 1, 4, 336, 1432917027, 1432917142, ActionAccept, StatusOK),
		v2("123456789010", "eni-1235b8ca123456789", "172.31.16.139", "203.0.113.12", 0, 0, 1, 4, 336, 1432917094, 1432917142, ActionReject, StatusOK),
		v2("123456789010", "eni-1235b8ca123456789", "2001:db8:1234:a100:8d6e:3477:df66:f105", "2001:db8:1234:a102:3304:8879:34cf:4071", 34892, 22, 6, 54, 8855, 1477913708, 1477913820, ActionAccept, StatusOK),
	}},
	"aws/records-nat-gateway-custom.log": {3, []Record{
		natLine("", "eni-1235b8ca123456789", "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5"),
		natLine("", "eni-1235b8ca123456789", "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5"),
		natLine("", "eni-1235b8ca123456789", "203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220"),
		natLine("", "eni-1235b8ca123456789", "10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
		natLine("i-01234567890123456", "eni-1111aaaa2222bbbb3", "10.0.1.5", "203.0.113.5", "10.0.1.5", "203.0.113.5"),
		natLine("i-01234567890123456", "eni-1111aaaa2222bbbb3", "203.0.113.5", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
	}},
	"aws/records-service-traffic-path-v5.log": {5, []Record{
		with(func(r *Record) {
			r.Version, r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol = 5, ip("52.95.128.179"), ip("10.0.0.71"), 80, 34210, 6
			r.Start, r.End, r.Type, r.Packets, r.Bytes = 1616729292, 1616729349, TypeIPv4, 14, 15044
			r.AccountID, r.VPCID, r.SubnetID, r.InstanceID = "123456789012", "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-0c50d5961bcb2d47b"
			r.InterfaceID, r.Region, r.AZID = "eni-1235b8ca123456789", "ap-southeast-2", "apse2-az3"
			r.Action, r.TCPFlags, r.PktSrcAddr, r.PktDstAddr = ActionAccept, 19, ip("52.95.128.179"), ip("10.0.0.71")
			r.PktSrcAWSService, r.FlowDirection, r.LogStatus = "S3", Ingress, StatusOK
		}),
		with(func(r *Record) {
			r.Version, r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol = 5, ip("10.0.0.71"), ip("52.95.128.179"), 34210, 80, 6
			r.Start, r.End, r.Type, r.Packets, r.Bytes = 1616729292, 1616729349, TypeIPv4, 7, 471
			r.AccountID, r.VPCID, r.SubnetID, r.InstanceID = "123456789012", "vpc-abcdefab012345678", "subnet-aaaaaaaa012345678", "i-0c50d5961bcb2d47b"
			r.InterfaceID, r.Region, r.AZID = "eni-1235b8ca123456789", "ap-southeast-2", "apse2-az3"
			r.Action, r.TCPFlags, r.PktSrcAddr, r.PktDstAddr = ActionAccept, 3, ip("10.0.0.71"), ip("52.95.128.179")
			r.PktDstAWSService, r.TrafficPath, r.FlowDirection, r.LogStatus = "S3", 8, Egress, StatusOK
		}),
	}},
	"aws/records-tcp-flag-sequence-v3.log": {3, []Record{
		tcpSeq("52.213.180.42", "10.0.0.62", 43416, 5001, 568, 8, 1566848875, 1566848933, 2),
		tcpSeq("10.0.0.62", "52.213.180.42", 5001, 43416, 376, 7, 1566848875, 1566848933, 18),
		tcpSeq("52.213.180.42", "10.0.0.62", 43418, 5001, 100701, 70, 1566848875, 1566848933, 2),
		tcpSeq("10.0.0.62", "52.213.180.42", 5001, 43418, 632, 12, 1566848875, 1566848933, 18),
		tcpSeq("10.0.0.62", "52.213.180.42", 5001, 43418, 63388, 1219, 1566848933, 1566849113, 1),
		tcpSeq("52.213.180.42", "10.0.0.62", 43418, 5001, 23294588, 15774, 1566848933, 1566849113, 1),
		tcpSeq("52.213.180.42", "10.0.0.62", 43638, 5001, 1260, 17, 1566933133, 1566933193, 3),
		tcpSeq("10.0.0.62", "52.213.180.42", 5001, 43638, 967, 14, 1566933133, 1566933193, 19),
	}},
	"aws/records-transit-gateway-eni-v3.log": {3, []Record{
		tgwENI("eni-33333333333333333", "subnet-22222222bbbbbbbbb", "i-01234567890123456", "10.20.33.164", "10.40.2.236", 39812, 80, 3, "10.20.33.164", "10.40.2.236"),
		tgwENI("eni-33333333333333333", "subnet-22222222bbbbbbbbb", "i-01234567890123456", "10.40.2.236", "10.20.33.164", 80, 39812, 19, "10.40.2.236", "10.20.33.164"),
		tgwENI("eni-11111111111111111", "subnet-11111111aaaaaaaaa", "", "10.40.1.175", "10.40.2.236", 39812, 80, 3, "10.20.33.164", "10.40.2.236"),
		tgwENI("eni-22222222222222222", "subnet-22222222bbbbbbbbb", "", "10.40.2.236", "10.40.2.31", 80, 39812, 19, "10.40.2.236", "10.20.33.164"),
	}},
	"wild/otel-valid_vpc_flow_log.log": {2, []Record{
		v2("12345678910", "eni-0eb1e4178af74336c", "-", "-", -1, -1, -1, -1, -1, 1742570089, 1742570142, ActionNone, StatusNoData),
	}},
	"wild/otel-valid_vpc_flow_log_multi.log": {2, []Record{
		v2("123456789010", "eni-1235b8ca123456789", "172.31.16.139", "172.31.16.21", 20641, 22, 6, 20, 4249, 1418530010, 1418530070, ActionAccept, StatusOK),
		v2("123456789010", "eni-1235b8ca123456789", "172.31.9.69", "172.31.9.12", 49761, 3389, 6, 20, 4249, 1418530010, 1418530070, ActionReject, StatusOK),
	}},
	"wild/otel-valid_vpc_flow_log_ecs.log": {7, []Record{
		with(func(r *Record) {
			*r = v2("123456789012", "eni-0abc1234def567890", "10.0.1.100", "10.0.2.200", 49152, 22, 6, 15, 3500, 1700000000, 1700000060, ActionAccept, StatusOK)
			r.Version = 5 // as written in the file, although the format implies 7
			r.ECSClusterARN = "arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster"
			r.ECSClusterName = "my-cluster"
			r.ECSContainerInstanceARN = "arn:aws:ecs:us-east-1:123456789012:container-instance/my-cluster/abcdef"
			r.ECSContainerInstanceID = "abcdef1234567890"
			r.ECSContainerID, r.ECSSecondContainerID, r.ECSServiceName = "container-1", "container-2", "my-service"
			r.ECSTaskDefinitionARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/my-task:1"
			r.ECSTaskARN = "arn:aws:ecs:us-east-1:123456789012:task/my-cluster/abcdef"
			r.ECSTaskID = "abcdef1234567890"
		}),
	}},
	"wild/otel-valid_tgw_flow_log.log": {6, []Record{
		with(func(r *Record) {
			r.Version, r.AccountID, r.TGWID, r.TGWAttachmentID = 6, "123456789012", "tgw-0abc12345def67890", "tgw-attach-0abc12345def67890"
			r.TGWSrcVPCID, r.TGWDstVPCID = "vpc-0abc12345def67890", "vpc-0def12345abc67890"
			r.TGWSrcSubnetID, r.TGWDstSubnetID = "subnet-0abc12345def67890", "subnet-0def12345abc67890"
			r.TGWSrcENI, r.TGWDstENI, r.TGWSrcAZID, r.TGWDstAZID = "eni-0abc12345def67890", "eni-0def12345abc67890", "use1-az1", "use1-az2"
			r.TGWPairAttachmentID = "tgw-attach-0def12345abc67890"
			r.SrcAddr, r.DstAddr, r.SrcPort, r.DstPort, r.Protocol = ip("10.0.0.1"), ip("10.0.1.1"), 12345, 443, 6
			r.Packets, r.Bytes = 10, 1000
			r.PacketsLostNoRoute, r.PacketsLostBlackhole, r.PacketsLostMTUExceeded, r.PacketsLostTTLExpired = 1, 2, 3, 4
			r.Start, r.End, r.LogStatus, r.Type, r.TCPFlags = 1700000000, 1700000060, StatusOK, TypeIPv4, 2
			r.FlowDirection, r.Region = Ingress, "us-east-1"
		}),
	}},
}

func readAll(t *testing.T, path string) ([]Record, *Reader) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := NewReader(f, filepath.Base(path), nil)
	var out []Record
	for {
		var r Record
		err := rd.Next(&r)
		if err == io.EOF {
			return out, rd
		}
		if err != nil {
			t.Fatalf("%v", err)
		}
		out = append(out, r)
	}
}

func TestSamplesParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.log")
	if len(files) != len(sampleWant) {
		t.Errorf("%d sample files, %d with expectations: every sample needs hand-checked values", len(files), len(sampleWant))
	}
	for name, want := range sampleWant {
		t.Run(name, func(t *testing.T) {
			got, rd := readAll(t, filepath.Join("testdata", name))
			if len(got) != len(want.records) {
				t.Fatalf("got %d records, want %d", len(got), len(want.records))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want.records[i]) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i+1, got[i], want.records[i])
				}
			}
			if v := rd.Format().Version(); v != want.version {
				t.Errorf("format version %d, want %d", v, want.version)
			}
		})
	}
}

// canonical is how a line reads after one trip through the codec: single
// spaces, LF, final newline.
func canonical(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(strings.Join(strings.Fields(line), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSamplesRoundTripText(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.log")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs, rd := readAll(t, path)
			var out []byte
			if rd.Headers > 0 {
				out = append(out, rd.Format().Header()...)
				out = append(out, '\n')
			}
			for i := range recs {
				out = AppendText(out, rd.Format(), &recs[i])
				out = append(out, '\n')
			}
			if want := canonical(string(raw)); string(out) != want {
				t.Errorf("round trip differs:\n got %q\nwant %q", out, want)
			}
		})
	}
}

func TestSamplesRoundTripJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.log")
	dec := NewDecoder()
	for _, path := range files {
		recs, rd := readAll(t, path)
		for i := range recs {
			js := AppendJSON(nil, rd.Format(), &recs[i])
			var back Record
			if err := dec.DecodeJSON(rd.Format(), js, &back); err != nil {
				t.Fatalf("%s record %d: %v", path, i+1, err)
			}
			if !reflect.DeepEqual(back, recs[i]) {
				t.Errorf("%s record %d: JSON round trip changed the record:\n%s\n got %+v", path, i+1, js, back)
			}
			if js2 := AppendJSON(nil, rd.Format(), &back); string(js2) != string(js) {
				t.Errorf("%s record %d: NDJSON differs:\n%s\n%s", path, i+1, js, js2)
			}
		}
	}
}

// TestWildConcatenation reads every sample as one file, the way `cat *.log`
// or a careless export produces it: repeated headers, CRLF endings, a missing
// final newline, junk between files. Every record of every sample must come
// out, equal to the hand-checked values, and every junk line must be reported.
func TestWildConcatenation(t *testing.T) {
	var in strings.Builder
	var want []Record
	var names []string
	for name := range sampleWant {
		names = append(names, name)
	}
	sort.Strings(names)
	junk := 0
	for i, name := range names {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(raw)
		if !strings.HasPrefix(text, "version") && !strings.HasPrefix(text, "instance-id") {
			text = DefaultFormat.Header() + "\n" + text // a headerless file needs its format back
		}
		if i%2 == 1 {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		in.WriteString(text)
		if !strings.HasSuffix(text, "\n") {
			in.WriteString("\n")
		}
		in.WriteString("this line is junk\n\n")
		junk++
		want = append(want, sampleWant[name].records...)
	}
	rd := NewReader(strings.NewReader(in.String()), "all.log", nil)
	var got []Record
	bad := 0
	for {
		var r Record
		err := rd.Next(&r)
		if err == io.EOF {
			break
		}
		if err != nil {
			bad++
			continue
		}
		got = append(got, r)
	}
	if bad != junk || !reflect.DeepEqual(got, want) {
		t.Errorf("got %d records (want %d) and %d bad lines (want %d)", len(got), len(want), bad, junk)
	}
}
