package sql

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/record"
)

// Expected names and types are those of docs/aws-behaviour.md ("Athena
// tables and queries", and the field types of "Record fields and formats"),
// typed in by hand.
func TestAthenaColumns(t *testing.T) {
	tests := []struct {
		name, format string
		want         string // "name type, ..."
	}{
		{"default v2", "", "version int, account_id string, interface_id string, srcaddr string, dstaddr string, srcport int, dstport int, " +
			"protocol bigint, packets bigint, bytes bigint, start bigint, end bigint, action string, log_status string"},
		{"default plus v3", "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr}",
			"version int, account_id string, interface_id string, srcaddr string, dstaddr string, srcport int, dstport int, " +
				"protocol bigint, packets bigint, bytes bigint, start bigint, end bigint, action string, log_status string, " +
				"vpc_id string, subnet_id string, instance_id string, tcp_flags int, type string, pkt_srcaddr string, pkt_dstaddr string"},
		{"v4 v5", "${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}",
			"region string, az_id string, sublocation_type string, sublocation_id string, pkt_src_aws_service string, pkt_dst_aws_service string, flow_direction string, traffic_path int"},
		{"v7 v8 ecs reject", "${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}",
			"ecs_cluster_arn string, ecs_cluster_name string, ecs_container_instance_arn string, ecs_container_instance_id string, ecs_container_id string, " +
				"ecs_second_container_id string, ecs_service_name string, ecs_task_definition_arn string, ecs_task_arn string, ecs_task_id string, reject_reason string"},
		// Transit gateways: packets-lost-* INT_64, protocol INT_64.
		{"tgw", "${version} ${tgw-id} ${protocol} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags}",
			"version int, tgw_id string, protocol bigint, packets_lost_no_route bigint, packets_lost_blackhole bigint, packets_lost_mtu_exceeded bigint, packets_lost_ttl_expired bigint, tcp_flags int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := record.DefaultFormat
			if tt.format != "" {
				f = record.MustFormat(tt.format)
			}
			var got []string
			for _, c := range AthenaColumns(f) {
				got = append(got, c.Name+" "+c.Type)
			}
			if g := strings.Join(got, ", "); g != tt.want {
				t.Errorf("got  %s\nwant %s", g, tt.want)
			}
		})
	}
}

func TestDuckDBType(t *testing.T) {
	for typ, want := range map[string]string{TypeInt: "INTEGER", TypeBigint: "BIGINT", TypeString: "VARCHAR"} {
		if got := (Column{Type: typ}).DuckDBType(); got != want {
			t.Errorf("%s: got %s, want %s", typ, got, want)
		}
	}
}

// [Choice] behaviour, kept apart so it can be revised.
func TestColumnsChoice(t *testing.T) {
	t.Run("duplicate fields get a suffix", func(t *testing.T) {
		var got []string
		for _, c := range AthenaColumns(record.MustFormat("${srcaddr} ${dstaddr} ${srcaddr} ${srcaddr}")) {
			got = append(got, c.Name)
		}
		if want := []string{"srcaddr", "dstaddr", "srcaddr_2", "srcaddr_3"}; !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("extension fields are strings", func(t *testing.T) {
		c := AthenaColumns(record.MustFormat("${action} ${x-rule}"))
		if c[1].Name != "x_rule" || c[1].Type != TypeString {
			t.Errorf("got %+v", c[1])
		}
	})
	t.Run("region partition renamed when the format has region", func(t *testing.T) {
		if r, d := PartitionColumns(record.MustFormat("${version} ${region}")); r != "aws_region" || d != "day" {
			t.Errorf("got %s %s", r, d)
		}
		if r, d := PartitionColumns(record.DefaultFormat); r != "region" || d != "day" {
			t.Errorf("got %s %s", r, d)
		}
	})
	t.Run("partition of a key", func(t *testing.T) {
		for path, want := range map[string][2]string{
			"d/AWSLogs/1/vpcflowlogs/eu-west-1/2024/03/09/f.log.gz":                                                              {"eu-west-1", "2024/03/09"},
			"d/p/AWSLogs/1/vpcflowlogs/eu-west-1/2024/03/09/07/f.log.gz":                                                         {"eu-west-1", "2024/03/09"},
			"d/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-2/year=2024/month=03/day=09/hour=07/f.log.gz": {"us-east-2", "2024/03/09"},
			"d/elsewhere/f.log.gz": {"-", "-"},
		} {
			if r, d := partitionOf(path); r != want[0] || d != want[1] {
				t.Errorf("%s: got %s %s, want %v", path, r, d, want)
			}
		}
	})
}
