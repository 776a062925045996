package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/api"
	"github.com/vpcflow/vpcflow/capture/live"
	"github.com/vpcflow/vpcflow/examples"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/iam"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/metricfilter"
	"github.com/vpcflow/vpcflow/region"
	"github.com/vpcflow/vpcflow/sim"
)

func init() { register(newDemoCmd) }

// What the demo sets up besides the example network's own S3 flow log.
const (
	demoVPC         = "vpc-0f1e2d3c4b5a69788"   // the VPC of examples/scenarios.yaml
	demoBucket      = "scenario-flow-bucket"    // its S3 flow log's bucket
	demoLogGroup    = "/vpcflow/demo"           // the CloudWatch Logs flow log's group
	demoRole        = "vpcflow-demo-flow-logs"  // the role that flow log delivers with
	demoFilter      = "ssh-connection-attempts" // metric filter on the group
	demoNamespace   = "VPCFlowLogs"             //
	demoMetric      = "SSHConnectionAttempts"   //
	demoAlarm       = "ssh-brute-force"         // alarm on the metric
	demoTopology    = "demo-topology.yaml"      // the network, written into the data dir
	demoSSHPattern  = `[version, account, eni, source, destination, srcport, destport="22", protocol, packets, bytes, windowstart, windowend, action, flowlogstatus]`
	demoDefaultSim  = 50
	demoDefaultRate = "10"
)

type demoFlags struct {
	dataDir, listen, speed string
	sim                    float64
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	c := &cobra.Command{
		Use:   "demo [--data-dir DIR] [--listen ADDR] [--speed X] [--sim RATE]",
		Short: "Run the service on the example VPC with scripted attacks and open the console",
		Long: `demo runs 'vpcflow serve' on the example network of the scenarios (built
into the binary): a VPC with web, app, db, bastion and cache hosts behind an
internet gateway and a NAT gateway. Every named scenario (` + sim.ScenarioNames() + `)
plays --speed times faster than scripted, looped, over simulated background
traffic, and two flow logs with 1-minute windows receive the records: the
network's own to the S3 bucket ` + demoBucket + `, and one to the CloudWatch
Logs group ` + demoLogGroup + ` (delivered with the IAM role ` + demoRole + `),
whose metric filter counts SSH connection attempts for the alarm ` + demoAlarm + `.
The first records appear within a minute.

Without --data-dir the data lives in a temporary directory removed when demo
stops. demo prints the console's address and the access key to sign in with
(the same key signs AWS API requests: --endpoint-url the same address).
Ctrl-C stops.`,
		Example: `  vpcflow demo
  vpcflow demo --data-dir ./demo-data --listen 127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "", "data dir (default: a temporary directory, removed at exit)")
	fl.StringVar(&f.listen, "listen", api.DefaultConfiguration().Listen, "HTTP address of the console and the AWS API; keep it on loopback")
	fl.StringVar(&f.speed, "speed", demoDefaultRate, "play the scenarios this many times faster than scripted")
	fl.Float64Var(&f.sim, "sim", demoDefaultSim, "background traffic, packets per second")
	return c
}

func runDemo(cmd *cobra.Command, f *demoFlags) error {
	if s, err := strconv.ParseFloat(f.speed, 64); err != nil || s <= 0 {
		return usageErrorf("--speed %q: want a positive factor such as 1 or 10", f.speed)
	}
	if f.sim <= 0 {
		return usageErrorf("--sim=%v: want a positive number of packets per second", f.sim)
	}
	dir := f.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "vpcflow-demo-")
		if err != nil {
			return &exitError{code: 1, msg: err.Error()}
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	topo := filepath.Join(dir, demoTopology)
	if err := os.MkdirAll(filepath.Join(dir, region.BucketsDir, demoBucket), 0o755); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	if err := os.WriteFile(topo, examples.Scenarios, 0o644); err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	var names []string
	for _, s := range sim.Scenarios() {
		names = append(names, s.Name)
	}
	sf := serveFlags{
		dataDir: dir, topology: topo, listen: f.listen, speed: f.speed, loop: true, sim: f.sim, simSeed: 1,
		scenario: names, scenarioRate: 1, scenarioDuration: sim.DefaultScenarioDuration,
		maxFlowsPerWindow: region.DefaultConfiguration().Flow.MaxFlowsPerWindow,
		maxFlows:          region.DefaultConfiguration().Flow.MaxFlows,
		liveFlags:         liveFlags{snapLen: live.DefaultConfiguration().SnapLen, readers: live.DefaultConfiguration().Readers, blockTimeout: live.DefaultConfiguration().BlockTimeout},
		prepare:           demoPrepare,
		ready: func(w io.Writer, url, keyID, secret string) {
			fmt.Fprintf(w, "\nvpcflow demo: open %s and sign in with\n", url)
			fmt.Fprintf(w, "  access key id      %s\n  secret access key  %s\n", keyID, secret)
			fmt.Fprintf(w, "vpcflow demo: records arrive every minute: CloudWatch Logs group %s, S3 bucket %s\n", demoLogGroup, demoBucket)
			if f.dataDir == "" {
				fmt.Fprintf(w, "vpcflow demo: data in %s (removed at exit; keep it with --data-dir)\n", dir)
			}
			fmt.Fprintln(w)
		},
	}
	return runServe(cmd, &sf)
}

// demoPrepare adds what the demo shows besides the network's S3 flow log:
// a flow log to CloudWatch Logs with its role, and a metric filter and an
// alarm on SSH connection attempts. A data dir that has them keeps them.
func demoPrepare(svc *region.Region) error {
	id := svc.Identity()
	roles := svc.IAM()
	role, err := roles.GetRole(demoRole)
	if err != nil {
		var ie *iam.Error
		if !errors.As(err, &ie) || ie.Code != "NoSuchEntity" {
			return fmt.Errorf("demo: role %s: %w", demoRole, err)
		}
		trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"%s"}}}]}`, id.Account)
		if role, err = roles.CreateRole(iam.CreateRoleInput{RoleName: demoRole, AssumeRolePolicyDocument: trust,
			Description: "vpcflow demo: delivers the demo VPC's flow log to CloudWatch Logs"}); err != nil {
			return fmt.Errorf("demo: creating role %s: %w", demoRole, err)
		}
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"*"}]}`
		if err := roles.PutRolePolicy(demoRole, "deliver-flow-logs", policy); err != nil {
			return fmt.Errorf("demo: policy of role %s: %w", demoRole, err)
		}
	}
	logs := svc.Logs()
	if _, err := logs.GroupInfo(demoLogGroup); err != nil {
		if err := logs.CreateLogGroup(demoLogGroup, logsvc.GroupOptions{}); err != nil {
			return fmt.Errorf("demo: creating log group %s: %w", demoLogGroup, err)
		}
	}
	have, err := svc.DescribeFlowLogs(flowlog.Filter{Filters: []flowlog.FilterTerm{{Name: "log-group-name", Values: []string{demoLogGroup}}}})
	if err != nil {
		return err
	}
	if len(have) == 0 {
		interval := 60
		spec := &flowlog.Spec{ResourceIds: []string{demoVPC}, ResourceType: "VPC", TrafficType: "ALL",
			LogDestinationType: flowlog.DestCloudWatch, LogGroupName: demoLogGroup,
			DeliverLogsPermissionArn: role.Arn, MaxAggregationInterval: &interval}
		_, bad, err := svc.CreateFlowLogs(spec, "")
		if err != nil {
			return fmt.Errorf("demo: creating the CloudWatch Logs flow log: %w", err)
		}
		if len(bad) > 0 {
			return fmt.Errorf("demo: creating the CloudWatch Logs flow log: %s: %s", bad[0].Code, bad[0].Message)
		}
	}
	one := 0.0
	if err := logs.PutMetricFilter(metricfilter.Definition{FilterName: demoFilter, LogGroupName: demoLogGroup,
		FilterPattern: demoSSHPattern, MetricTransformations: []metricfilter.Transformation{{
			MetricName: demoMetric, MetricNamespace: demoNamespace, MetricValue: "1", DefaultValue: &one}}}); err != nil {
		return fmt.Errorf("demo: metric filter: %w", err)
	}
	if err := logs.PutMetricAlarm(metricfilter.Alarm{AlarmName: demoAlarm,
		AlarmDescription: "More than 30 SSH connection records a minute in the demo VPC",
		Namespace:        demoNamespace, MetricName: demoMetric, Statistic: "Sum", Period: 60, EvaluationPeriods: 1,
		Threshold: 30, ComparisonOperator: "GreaterThanThreshold", TreatMissingData: "notBreaching"}); err != nil {
		return fmt.Errorf("demo: alarm: %w", err)
	}
	return nil
}
