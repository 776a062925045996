package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/region"
	"github.com/vpcflow/vpcflow/topology"
)

func init() { register(newEC2Cmd) }

// The offline `vpcflow ec2 ...` commands: awscli's flow-log commands for
// users without awscli, run against a data dir no service holds. They call
// the service's own methods and print what awscli prints.

func newEC2Cmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ec2",
		Short: "EC2 flow-log commands with awscli's flags, on a data dir (no server needed)",
		Long: `ec2 create-flow-logs, describe-flow-logs and delete-flow-logs do what
'aws ec2 ...' does against 'vpcflow serve', directly on a data dir that no
service holds, with awscli's flag names and its JSON output. Errors are
printed as awscli prints them ("An error occurred (Code) when calling the
Operation operation: ...") with awscli's exit status 254.

The network is the data dir's (from the topology file of the first start
of 'vpcflow serve', or --topology now); a data dir without one has the single
interface ` + defaultENI + `.`,
	}
	c.AddCommand(newEC2CreateFlowLogsCmd(), newEC2DescribeFlowLogsCmd(), newEC2DeleteFlowLogsCmd())
	return c
}

type ec2Flags struct{ dataDir, topology string }

func (f *ec2Flags) add(c *cobra.Command) {
	addLogsDataDirFlag(c, &f.dataDir)
	c.Flags().StringVar(&f.topology, "topology", "", "topology file for a data dir without a network yet")
}

// open opens the data dir's service without sources or listener.
func (f *ec2Flags) open(cmd *cobra.Command) (*region.Region, error) {
	cfg := region.DefaultConfiguration()
	var err error
	if cfg.DataDir, err = logsDataDir(f.dataDir); err != nil {
		return nil, err
	}
	cfg.DefaultAccount, cfg.DefaultRegion = defaultAccount, defaultRegion
	cfg.TopologyFile = f.topology
	cfg.Interface = &topology.ENI{ID: defaultENI}
	cfg.Owner = fmt.Sprintf("vpcflow %s (PID %d)", cmd.CommandPath()[len("vpcflow "):], os.Getpid())
	r, err := region.New(cfg, region.Dependencies{})
	if err != nil {
		return nil, &exitError{code: 1, msg: err.Error()}
	}
	return r, nil
}

// awsError prints a service error as awscli does.
func awsError(op string, err error) error {
	code, msg := "InternalError", err.Error()
	var fe *flowlog.Error
	if errors.As(err, &fe) {
		code, msg = fe.Code, fe.Msg
	}
	return &exitError{code: 254, msg: fmt.Sprintf("\nAn error occurred (%s) when calling the %s operation: %s", code, op, msg)}
}

// printAWSJSON prints v as awscli's default output: JSON indented by 4.
func printAWSJSON(cmd *cobra.Command, v any) error { return writeLogsJSON(cmd.OutOrStdout(), v) }

func newEC2CreateFlowLogsCmd() *cobra.Command {
	var (
		f                         ec2Flags
		spec                      flowlog.Spec
		ids                       []string
		interval                  int
		destOpts, tagSpecs, token string
		dryRun                    bool
	)
	c := &cobra.Command{
		Use:   "create-flow-logs --resource-type T --resource-ids ID[,ID...] --traffic-type T [flags]",
		Short: "Create flow logs (aws ec2 create-flow-logs)",
		Example: `  vpcflow ec2 create-flow-logs --resource-type VPC --resource-ids vpc-0f1e2d3c4b5a69788 \
      --traffic-type ALL --log-destination-type s3 --log-destination arn:aws:s3:::my-bucket/prod/ \
      --destination-options FileFormat=parquet,PerHourPartition=true
  vpcflow ec2 create-flow-logs --resource-type Subnet --resource-ids subnet-0123abcd4567ef890 \
      --traffic-type REJECT --log-group-name /vpc/flows \
      --deliver-logs-permission-arn arn:aws:iam::111122223333:role/flowlogs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec.ResourceIds = ids
			if cmd.Flags().Changed("max-aggregation-interval") {
				spec.MaxAggregationInterval = &interval
			}
			if destOpts != "" {
				spec.DestinationOptions = &topology.DestinationOptions{}
				if err := shorthand(destOpts, spec.DestinationOptions); err != nil {
					return usageErrorf("--destination-options: %v", err)
				}
			}
			if tagSpecs != "" {
				if err := shorthand(tagSpecs, &spec.TagSpecifications); err != nil {
					return usageErrorf("--tag-specifications: %v", err)
				}
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer r.Stop()
			if dryRun {
				return awsError("CreateFlowLogs", &flowlog.Error{Code: "DryRunOperation", Msg: "Request would have succeeded, but DryRun flag is set."})
			}
			created, bad, err := r.CreateFlowLogs(&spec, token)
			if err != nil {
				return awsError("CreateFlowLogs", err)
			}
			out := struct {
				ClientToken  string             `json:"ClientToken,omitempty"`
				FlowLogIds   []string           `json:"FlowLogIds"`
				Unsuccessful []unsuccessfulJSON `json:"Unsuccessful"`
			}{ClientToken: token, FlowLogIds: []string{}, Unsuccessful: unsuccessful(bad)}
			for _, e := range created {
				out.FlowLogIds = append(out.FlowLogIds, e.FlowLog.ID)
			}
			return printAWSJSON(cmd, out)
		},
	}
	f.add(c)
	fl := c.Flags()
	fl.StringSliceVar(&ids, "resource-ids", nil, "VPC, subnet or network interface ids (comma-separated or repeated)")
	fl.StringVar(&spec.ResourceType, "resource-type", "", "VPC, Subnet or NetworkInterface")
	fl.StringVar(&spec.TrafficType, "traffic-type", "", "ACCEPT, REJECT or ALL")
	fl.StringVar(&spec.LogDestinationType, "log-destination-type", "", "cloud-watch-logs (default) or s3")
	fl.StringVar(&spec.LogDestination, "log-destination", "", "arn:aws:s3:::BUCKET[/PREFIX/] or a log group ARN")
	fl.StringVar(&spec.LogGroupName, "log-group-name", "", "log group (cloud-watch-logs)")
	fl.StringVar(&spec.DeliverLogsPermissionArn, "deliver-logs-permission-arn", "", "IAM role the flow-logs service assumes to write to CloudWatch Logs")
	fl.StringVar(&spec.LogFormat, "log-format", "", "record format, '${field} ${field} ...' (default: the version 2 default format)")
	fl.IntVar(&interval, "max-aggregation-interval", 600, "60 or 600 seconds")
	fl.StringVar(&destOpts, "destination-options", "", "S3 options: FileFormat=plain-text|parquet,HiveCompatiblePartitions=BOOL,PerHourPartition=BOOL (or JSON)")
	fl.StringVar(&tagSpecs, "tag-specifications", "", "tags: ResourceType=vpc-flow-log,Tags=[{Key=K,Value=V}] (or JSON)")
	fl.StringVar(&token, "client-token", "", "idempotency token")
	fl.BoolVar(&dryRun, "dry-run", false, "check the request without creating anything")
	return c
}

type unsuccessfulJSON struct {
	Error struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error"`
	ResourceID string `json:"ResourceId"`
}

func unsuccessful(items []flowlog.Unsuccessful) []unsuccessfulJSON {
	out := []unsuccessfulJSON{}
	for _, u := range items {
		var j unsuccessfulJSON
		j.Error.Code, j.Error.Message, j.ResourceID = u.Code, u.Message, u.ResourceID
		out = append(out, j)
	}
	return out
}

// flowLogJSON is awscli's rendering of a FlowLog: members in the model's
// order, absent ones left out, CreationTime as Python's isoformat.
type flowLogJSON struct {
	CreationTime             string           `json:"CreationTime"`
	DeliverLogsErrorMessage  string           `json:"DeliverLogsErrorMessage,omitempty"`
	DeliverLogsPermissionArn string           `json:"DeliverLogsPermissionArn,omitempty"`
	DeliverCrossAccountRole  string           `json:"DeliverCrossAccountRole,omitempty"`
	DeliverLogsStatus        string           `json:"DeliverLogsStatus"`
	FlowLogID                string           `json:"FlowLogId"`
	FlowLogStatus            string           `json:"FlowLogStatus"`
	LogGroupName             string           `json:"LogGroupName,omitempty"`
	ResourceID               string           `json:"ResourceId"`
	TrafficType              string           `json:"TrafficType,omitempty"`
	LogDestinationType       string           `json:"LogDestinationType"`
	LogDestination           string           `json:"LogDestination,omitempty"`
	LogFormat                string           `json:"LogFormat"`
	Tags                     []flowlog.Tag    `json:"Tags,omitempty"`
	MaxAggregationInterval   int64            `json:"MaxAggregationInterval"`
	DestinationOptions       *destOptionsJSON `json:"DestinationOptions,omitempty"`
}

type destOptionsJSON struct {
	FileFormat               string `json:"FileFormat"`
	HiveCompatiblePartitions bool   `json:"HiveCompatiblePartitions"`
	PerHourPartition         bool   `json:"PerHourPartition"`
}

func flowLogOf(e *flowlog.Entry, id region.Identity) flowLogJSON {
	f := e.FlowLog
	// Python's isoformat of the millisecond time EC2 sends.
	j := flowLogJSON{
		CreationTime:             e.CreationTime.UTC().Format("2006-01-02T15:04:05.000000+00:00"),
		DeliverLogsPermissionArn: e.DeliverLogsPermissionArn, DeliverCrossAccountRole: e.Spec.DeliverCrossAccountRole,
		DeliverLogsStatus: e.DeliverLogsStatus, FlowLogID: f.ID, FlowLogStatus: e.FlowLogStatus,
		LogGroupName: f.LogGroupName, ResourceID: f.ResourceID, TrafficType: f.TrafficType,
		LogDestinationType: f.DestinationType, LogDestination: e.Spec.LogDestination, LogFormat: f.LogFormat,
		Tags: f.Tags, MaxAggregationInterval: f.MaxAggregationInterval,
	}
	if e.DeliverLogsStatus == flowlog.DeliveryFailed {
		j.DeliverLogsErrorMessage = e.DeliverLogsErrorMessage
	}
	if f.DestinationType == flowlog.DestCloudWatch && j.LogDestination == "" {
		j.LogDestination = "arn:aws:logs:" + id.Region + ":" + id.Account + ":log-group:" + f.LogGroupName
	}
	if f.DestinationType == flowlog.DestS3 {
		j.DestinationOptions = &destOptionsJSON{f.FileFormat, f.HiveCompatiblePartitions, f.PerHourPartition}
	}
	return j
}

func newEC2DescribeFlowLogsCmd() *cobra.Command {
	var (
		f       ec2Flags
		ids     []string
		filters []string
	)
	c := &cobra.Command{
		Use:   "describe-flow-logs [--flow-log-ids ID,...] [--filter Name=N,Values=V1,V2 ...]",
		Short: "Describe flow logs (aws ec2 describe-flow-logs)",
		Example: `  vpcflow ec2 describe-flow-logs
  vpcflow ec2 describe-flow-logs --filter Name=resource-id,Values=vpc-0f1e2d3c4b5a69788 --filter Name=deliver-log-status,Values=FAILED`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := flowlog.Filter{FlowLogIds: ids}
			for _, s := range filters {
				var t flowlog.FilterTerm
				if err := shorthand(s, &t); err != nil {
					return usageErrorf("--filter %q: %v", s, err)
				}
				q.Filters = append(q.Filters, t)
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer r.Stop()
			entries, err := r.DescribeFlowLogs(q)
			if err != nil {
				return awsError("DescribeFlowLogs", err)
			}
			out := struct {
				FlowLogs []flowLogJSON `json:"FlowLogs"`
			}{FlowLogs: []flowLogJSON{}}
			for i := range entries {
				out.FlowLogs = append(out.FlowLogs, flowLogOf(&entries[i], r.Identity()))
			}
			return printAWSJSON(cmd, out)
		},
	}
	f.add(c)
	c.Flags().StringSliceVar(&ids, "flow-log-ids", nil, "flow log ids (comma-separated or repeated)")
	c.Flags().StringArrayVar(&filters, "filter", nil, "Name=NAME,Values=V1,V2 (repeat for more; NAME: resource-id, traffic-type, log-destination-type, flow-log-id, log-group-name, deliver-log-status, tag:KEY, tag-key)")
	return c
}

func newEC2DeleteFlowLogsCmd() *cobra.Command {
	var (
		f   ec2Flags
		ids []string
	)
	c := &cobra.Command{
		Use:   "delete-flow-logs --flow-log-ids ID[,ID...]",
		Short: "Delete flow logs (aws ec2 delete-flow-logs); what they delivered stays",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(ids) == 0 {
				return usageErrorf("--flow-log-ids is required")
			}
			r, err := f.open(cmd)
			if err != nil {
				return err
			}
			defer r.Stop()
			bad, err := r.DeleteFlowLogs(ids)
			if err != nil {
				return awsError("DeleteFlowLogs", err)
			}
			return printAWSJSON(cmd, struct {
				Unsuccessful []unsuccessfulJSON `json:"Unsuccessful"`
			}{unsuccessful(bad)})
		},
	}
	f.add(c)
	c.Flags().StringSliceVar(&ids, "flow-log-ids", nil, "flow log ids (comma-separated or repeated)")
	return c
}

// shorthand reads an awscli structure argument: JSON, or the shorthand
// Key=Value,Key=Value where a value may be a list (V1,V2 after the last
// key, or [..]) or a list of structures [{K=V,K=V},{...}].
func shorthand(s string, v any) error {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		return json.Unmarshal([]byte(s), v)
	}
	obj, err := parseShorthand(s)
	if err != nil {
		return err
	}
	b, err := json.Marshal(conform(obj, reflect.TypeOf(v).Elem()))
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// conform shapes a parsed shorthand value to the target type, as awscli
// does with its model: a single value where a list is wanted becomes a
// list of one.
func conform(x any, t reflect.Type) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		list, ok := x.([]any)
		if !ok {
			list = []any{x}
		}
		for i := range list {
			list[i] = conform(list[i], t.Elem())
		}
		return list
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return x
		}
		for k, v := range m {
			if f, ok := t.FieldByName(k); ok {
				m[k] = conform(v, f.Type)
			}
		}
		return m
	case reflect.String:
		if b, ok := x.(bool); ok {
			return strconv.FormatBool(b)
		}
	}
	return x
}

// parseShorthand turns K=V,K=[..],K={..} into a JSON-able map; true and
// false become booleans.
func parseShorthand(s string) (map[string]any, error) {
	p := &shortParser{s: s}
	m, err := p.object(false)
	if err == nil && p.i != len(p.s) {
		err = fmt.Errorf("unexpected %q at %d", p.s[p.i:], p.i+1)
	}
	return m, err
}

type shortParser struct {
	s string
	i int
}

func (p *shortParser) object(braced bool) (map[string]any, error) {
	m := map[string]any{}
	for p.i < len(p.s) {
		if braced && p.s[p.i] == '}' {
			return m, nil
		}
		eq := strings.IndexByte(p.s[p.i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("want Key=Value at %d", p.i+1)
		}
		key := p.s[p.i : p.i+eq]
		p.i += eq + 1
		var vals []any
		for {
			v, err := p.value(braced)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			// V1,V2: more values of this key until the next Key=.
			if p.i < len(p.s) && p.s[p.i] == ',' && !p.nextIsKey() {
				p.i++
				continue
			}
			break
		}
		if len(vals) == 1 {
			m[key] = vals[0]
		} else {
			m[key] = vals
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		}
	}
	if braced {
		return nil, errors.New("missing }")
	}
	return m, nil
}

// nextIsKey reports whether the text after the comma at p.i is Key=.
func (p *shortParser) nextIsKey() bool {
	rest := p.s[p.i+1:]
	end := strings.IndexAny(rest, ",=[]{}")
	return end > 0 && rest[end] == '='
}

func (p *shortParser) value(braced bool) (any, error) {
	if p.i < len(p.s) && p.s[p.i] == '[' {
		p.i++
		var list []any
		for p.i < len(p.s) && p.s[p.i] != ']' {
			if p.s[p.i] == '{' {
				p.i++
				m, err := p.object(true)
				if err != nil {
					return nil, err
				}
				p.i++ // }
				list = append(list, m)
			} else {
				v, err := p.scalar(true)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
			}
		}
		if p.i == len(p.s) {
			return nil, errors.New("missing ]")
		}
		p.i++
		return list, nil
	}
	return p.scalar(braced)
}

func (p *shortParser) scalar(inner bool) (any, error) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && !(inner && (p.s[p.i] == ']' || p.s[p.i] == '}')) {
		p.i++
	}
	v := p.s[start:p.i]
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return v, nil
}
