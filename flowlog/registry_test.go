package flowlog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcflow/vpcflow/topology"
)

// The expected values below come from the EC2 API reference (error codes and
// their descriptions, the FlowLog shape, the default LogFormat), not from the
// code under test.

const regTopology = `
AccountId: "111122223333"
Region: eu-west-1
Vpcs:
  - {VpcId: vpc-0f1e2d3c4b5a69788, CidrBlock: 10.1.0.0/16}
Subnets:
  - {SubnetId: subnet-0123abcd4567ef890, VpcId: vpc-0f1e2d3c4b5a69788, CidrBlock: 10.1.2.0/24}
NetworkInterfaces:
  - {NetworkInterfaceId: eni-0a1b2c3d4e5f60718, SubnetId: subnet-0123abcd4567ef890, PrivateIpAddress: 10.1.2.15}
`

const regSeeds = `
FlowLogs:
  - ResourceIds: [vpc-0f1e2d3c4b5a69788]
    ResourceType: VPC
    TrafficType: ALL
    LogDestinationType: s3
    LogDestination: arn:aws:s3:::seed-bucket/flows/
  - ResourceIds: [eni-0a1b2c3d4e5f60718]
    ResourceType: NetworkInterface
    TrafficType: REJECT
    LogGroupName: rejects
    DeliverLogsPermissionArn: arn:aws:iam::111122223333:role/flow-logs
`

const (
	vpcID    = "vpc-0f1e2d3c4b5a69788"
	subnetID = "subnet-0123abcd4567ef890"
	eniID    = "eni-0a1b2c3d4e5f60718"
	// AWS's default format (VPC user guide, "Flow log records").
	awsDefaultFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"
)

var apiID = regexp.MustCompile(`^fl-[0-9a-f]{17}$`)

func regTopo(t *testing.T, extra string) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse("reg.yaml", []byte(regTopology+extra))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock {
	return &clock{t: time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)}
}

func openReg(t *testing.T, path string, c *clock) *Registry {
	t.Helper()
	opts := RegistryOptions{Account: "111122223333", Region: "eu-west-1"}
	if c != nil {
		opts.Now = c.Now
	}
	r, err := OpenRegistry(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func s3Spec(typ, traffic, dest string, ids ...string) *Spec {
	return &Spec{ResourceIds: ids, ResourceType: typ, TrafficType: traffic, LogDestinationType: "s3", LogDestination: dest}
}

func describe(t *testing.T, r *Registry, f Filter) []Entry {
	t.Helper()
	es, err := r.Describe(f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.FlowLog.ID)
	}
	return out
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestRegistryCreateDescribeDelete(t *testing.T) {
	topo := regTopo(t, "")
	c := newClock()
	r := openReg(t, filepath.Join(t.TempDir(), "flowlogs.json"), c)
	defer r.Close()
	spec := s3Spec("VPC", "ALL", "arn:aws:s3:::demo-bucket/prod/", vpcID)
	spec.TagSpecifications = []topology.TagSpecification{{ResourceType: "vpc-flow-log", Tags: []topology.Tag{{Key: "env", Value: "prod"}}}}
	created, uns, err := r.Create(topo, spec, "")
	if err != nil || len(uns) != 0 || len(created) != 1 {
		t.Fatalf("Create: %v, %v, %d created", err, uns, len(created))
	}
	e := created[0]
	fl := e.FlowLog
	if !apiID.MatchString(fl.ID) {
		t.Errorf("id %q is not fl- and 17 lowercase hex digits", fl.ID)
	}
	want := time.Date(2024, 5, 1, 12, 0, 0, 123000000, time.UTC)
	if !e.CreationTime.Equal(want) || e.DeliverLogsStatus != "SUCCESS" || e.DeliverLogsErrorMessage != "" ||
		e.FlowLogStatus != "ACTIVE" || e.Seeded {
		t.Errorf("entry %+v", e)
	}
	if fl.ResourceID != vpcID || fl.ResourceType != "VPC" || fl.TrafficType != "ALL" || fl.OwnerID != "111122223333" ||
		fl.Region != "eu-west-1" || fl.LogFormat != awsDefaultFormat || fl.MaxAggregationInterval != 600 ||
		fl.Bucket != "demo-bucket" || fl.Prefix != "prod" || !reflect.DeepEqual(fl.Tags, []Tag{{"env", "prod"}}) {
		t.Errorf("flow log %+v", fl)
	}
	if !reflect.DeepEqual(e.Spec.ResourceIds, []string{vpcID}) || e.Spec.LogDestination != "arn:aws:s3:::demo-bucket/prod/" {
		t.Errorf("spec %+v", e.Spec)
	}
	// Two resources in one request: two flow logs, each with its own narrowed request.
	c.Add(time.Second)
	two, uns, err := r.Create(topo, s3Spec("Subnet", "REJECT", "arn:aws:s3:::demo-bucket", subnetID), "")
	if err != nil || len(uns) != 0 || len(two) != 1 {
		t.Fatal(err, uns)
	}
	c.Add(time.Second)
	eni, _, err := r.Create(topo, &Spec{ResourceIds: []string{eniID}, ResourceType: "NetworkInterface", TrafficType: "ACCEPT",
		LogGroupName: "flows", DeliverLogsPermissionArn: "arn:aws:iam::111122223333:role/fl"}, "")
	if err != nil || len(eni) != 1 || eni[0].FlowLog.DestinationType != "cloud-watch-logs" ||
		eni[0].DeliverLogsPermissionArn != "arn:aws:iam::111122223333:role/fl" {
		t.Fatalf("cloud-watch-logs default: %v %+v", err, eni)
	}
	all := describe(t, r, Filter{})
	if got := ids(all); !reflect.DeepEqual(got, []string{fl.ID, two[0].FlowLog.ID, eni[0].FlowLog.ID}) {
		t.Errorf("Describe order %v", got)
	}
	active := r.Active()
	if len(active) != 3 || !slices.IsSortedFunc(active, func(a, b *FlowLog) int { return strings.Compare(a.ID, b.ID) }) {
		t.Errorf("Active %v", active)
	}
	// A caller changing its copy changes nothing inside.
	all[0].Spec.ResourceIds[0] = "vpc-changed"
	if describe(t, r, Filter{FlowLogIds: []string{fl.ID}})[0].Spec.ResourceIds[0] != vpcID {
		t.Error("Describe returned shared memory")
	}
	uns, err = r.Delete([]string{fl.ID, two[0].FlowLog.ID})
	if err != nil || len(uns) != 0 {
		t.Fatal(err, uns)
	}
	if got := ids(describe(t, r, Filter{})); !reflect.DeepEqual(got, []string{eni[0].FlowLog.ID}) {
		t.Errorf("after delete: %v", got)
	}
	if len(r.Active()) != 1 {
		t.Error("Active after delete")
	}
}

func TestRegistryRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "flowlogs.json")
	topo := regTopo(t, "")
	c := newClock()
	r := openReg(t, path, c)
	a, _, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b", vpcID), "")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(1500 * time.Millisecond)
	iv := 60
	b, _, err := r.Create(topo, &Spec{ResourceIds: []string{eniID}, ResourceType: "NetworkInterface", TrafficType: "REJECT",
		LogDestinationType: "cloud-watch-logs", LogDestination: "arn:aws:logs:eu-west-1:111122223333:log-group:rej",
		LogFormat: "${srcaddr} ${dstaddr} ${action}", MaxAggregationInterval: &iv}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetDeliveryStatus(b[0].FlowLog.ID, &DeliveryError{Message: DeliveryAccessError, Err: errors.New("AccessDenied")}); err != nil {
		t.Fatal(err)
	}
	before := describe(t, r, Filter{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Create(topo, s3Spec("VPC", "ACCEPT", "arn:aws:s3:::b", vpcID), ""); !errors.Is(err, ErrRegistryClosed) {
		t.Errorf("Create after Close: %v", err)
	}

	r = openReg(t, path, c)
	defer r.Close()
	after := describe(t, r, Filter{})
	if len(after) != 2 {
		t.Fatalf("%d flow logs after restart", len(after))
	}
	for i := range before {
		if !reflect.DeepEqual(before[i], after[i]) {
			t.Errorf("flow log %d changed across restart:\n%+v\n%+v", i, before[i], after[i])
		}
	}
	if !after[0].CreationTime.Equal(time.Date(2024, 5, 1, 12, 0, 0, 123000000, time.UTC)) ||
		!after[1].CreationTime.Equal(time.Date(2024, 5, 1, 12, 0, 1, 623000000, time.UTC)) {
		t.Errorf("creation times %v %v", after[0].CreationTime, after[1].CreationTime)
	}
	if after[1].DeliverLogsStatus != "FAILED" || after[1].DeliverLogsErrorMessage != "Access error" ||
		after[1].FlowLog.LogGroupName != "rej" || after[1].FlowLog.MaxAggregationInterval != 60 || after[1].FlowLog.OwnerID != "111122223333" {
		t.Errorf("restored %+v / %+v", after[1], after[1].FlowLog)
	}
	if a[0].FlowLog.ID != after[0].FlowLog.ID {
		t.Error("ids changed")
	}
}

func TestRegistryOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flowlogs.json")
	if _, err := OpenRegistry(path, RegistryOptions{Region: "eu-west-1"}); err == nil {
		t.Error("no account accepted")
	}
	r := openReg(t, path, nil)
	if _, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "open elsewhere") {
		t.Errorf("second open: %v", err)
	}
	r.Close()
	_, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), `belongs to account "111122223333", Region "eu-west-1"`) {
		t.Errorf("other Region: %v", err)
	}
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)/2], 0o600)
	_, err = OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
	if err == nil || !strings.HasPrefix(err.Error(), "flowlog: registry "+path+": corrupt file") {
		t.Errorf("truncated file: %v", err)
	}
}

// wantExists checks the request-level error AWS gives for a duplicate, and
// that nothing was created.
func wantExists(t *testing.T, what string, created []*Entry, uns []Unsuccessful, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != "FlowLogAlreadyExists" ||
		e.Msg != "Error. There is an existing Flow Log with the same configuration and log destination." {
		t.Errorf("%s: error %v, want FlowLogAlreadyExists", what, err)
	}
	if created != nil || uns != nil {
		t.Errorf("%s: created %v, unsuccessful %v with the error", what, created, uns)
	}
}

func TestRegistryAlreadyExists(t *testing.T) {
	topo := regTopo(t, "")
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), newClock())
	defer r.Close()
	if _, _, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b/p/", vpcID), ""); err != nil {
		t.Fatal(err)
	}
	v := r.Version()
	for _, dest := range []string{"arn:aws:s3:::b/p/", "arn:aws:s3:::b/p"} {
		created, uns, err := r.Create(topo, s3Spec("VPC", "ALL", dest, vpcID), "")
		wantExists(t, dest, created, uns, err)
	}
	// One duplicate among new resources: the whole request fails and the
	// others are not created either, even under a client token.
	created, uns, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b/p/", "vpc-0000000000000dead", vpcID), "tok-dup")
	wantExists(t, "with a missing resource", created, uns, err)
	created, uns, err = r.Create(topo, s3Spec("Subnet", "ALL", "arn:aws:s3:::b/p/", subnetID), "")
	if err != nil || len(created) != 1 {
		t.Fatalf("subnet: %v", err)
	}
	if got := len(describe(t, r, Filter{})); got != 2 || r.Version() != v+1 {
		t.Errorf("after the refused requests: %d flow logs, version %d (was %d); want 2, %d", got, r.Version(), v, v+1)
	}
	// The refused request was not remembered: the token is free for another.
	if _, _, err := r.Create(topo, s3Spec("VPC", "REJECT", "arn:aws:s3:::b/p/", vpcID), "tok-dup"); err != nil {
		t.Errorf("token of a refused request: %v", err)
	}
	// Another traffic type, prefix or format is another flow log.
	for _, s := range []*Spec{s3Spec("VPC", "ACCEPT", "arn:aws:s3:::b/p/", vpcID), s3Spec("VPC", "ALL", "arn:aws:s3:::b/q/", vpcID)} {
		if created, uns, err := r.Create(topo, s, ""); err != nil || len(created) != 1 || len(uns) != 0 {
			t.Errorf("%+v: %v %v", s, err, uns)
		}
	}
	f := s3Spec("VPC", "ALL", "arn:aws:s3:::b/p/", vpcID)
	f.LogFormat = "${srcaddr} ${dstaddr}"
	if created, _, err := r.Create(topo, f, ""); err != nil || len(created) != 1 {
		t.Errorf("other format: %v", err)
	}
	// A log group named directly or by ARN is the same destination.
	if _, _, err := r.Create(topo, &Spec{ResourceIds: []string{eniID}, ResourceType: "NetworkInterface", TrafficType: "ALL", LogGroupName: "g"}, ""); err != nil {
		t.Fatal(err)
	}
	created, uns, err = r.Create(topo, &Spec{ResourceIds: []string{eniID}, ResourceType: "NetworkInterface", TrafficType: "ALL",
		LogDestination: "arn:aws:logs:eu-west-1:111122223333:log-group:g:*"}, "")
	wantExists(t, "log group by ARN", created, uns, err)
	// The same resource twice in one request is a duplicate too.
	n := len(describe(t, r, Filter{}))
	created, uns, err = r.Create(topo, s3Spec("Subnet", "ALL", "arn:aws:s3:::b", subnetID, subnetID), "")
	wantExists(t, "twice in one request", created, uns, err)
	if got := len(describe(t, r, Filter{})); got != n {
		t.Errorf("twice in one request: %d flow logs, want %d", got, n)
	}
}

func TestRegistryNotFoundAndRequestErrors(t *testing.T) {
	topo := regTopo(t, "")
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), newClock())
	defer r.Close()
	created, uns, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b", "vpc-0000000000000dead", vpcID), "")
	if err != nil || len(created) != 1 || created[0].FlowLog.ResourceID != vpcID {
		t.Fatalf("partial success: %v %v", err, created)
	}
	if !reflect.DeepEqual(uns, []Unsuccessful{{"vpc-0000000000000dead", "InvalidVpcID.NotFound", "The specified VPC does not exist."}}) {
		t.Errorf("unsuccessful %v", uns)
	}
	_, uns, _ = r.Create(topo, s3Spec("Subnet", "ALL", "arn:aws:s3:::b", "subnet-404"), "")
	if !reflect.DeepEqual(uns, []Unsuccessful{{"subnet-404", "InvalidSubnetID.NotFound", "The specified subnet does not exist."}}) {
		t.Errorf("subnet %v", uns)
	}
	// A subnet id under ResourceType NetworkInterface is no interface.
	_, uns, _ = r.Create(topo, s3Spec("NetworkInterface", "ALL", "arn:aws:s3:::b", subnetID), "")
	if !reflect.DeepEqual(uns, []Unsuccessful{{subnetID, "InvalidNetworkInterfaceID.NotFound", "The specified network interface does not exist."}}) {
		t.Errorf("eni %v", uns)
	}
	v := r.Version()
	for _, tc := range []struct {
		spec *Spec
		code string
	}{
		{s3Spec("VPC", "SOME", "arn:aws:s3:::b", vpcID), "InvalidParameterValue"},
		{s3Spec("VPC", "ALL", "arn:aws:s3:::b"), "MissingParameter"},
		{s3Spec("VPC", "ALL", "s3://b", vpcID), "InvalidParameter"},
		{nil, "MissingParameter"},
	} {
		created, uns, err := r.Create(topo, tc.spec, "")
		if created != nil || uns != nil {
			t.Errorf("%+v: created %v, unsuccessful %v", tc.spec, created, uns)
		}
		wantCode(t, err, tc.code)
	}
	if r.Version() != v || len(describe(t, r, Filter{})) != 1 {
		t.Error("a rejected request changed the registry")
	}
}

func TestRegistryClientToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	topo := regTopo(t, "")
	c := newClock()
	r := openReg(t, path, c)
	spec := s3Spec("VPC", "ALL", "arn:aws:s3:::b", vpcID, "vpc-404")
	first, uns, err := r.Create(topo, spec, "token-1")
	if err != nil || len(first) != 1 || len(uns) != 1 {
		t.Fatal(err, uns)
	}
	v := r.Version()
	// A retry returns the same flow log and the same failure, and creates nothing.
	again, uns2, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b", vpcID, "vpc-404"), "token-1")
	if err != nil || len(again) != 1 || again[0].FlowLog.ID != first[0].FlowLog.ID || !reflect.DeepEqual(uns, uns2) {
		t.Fatalf("retry: %v %v %v", err, again, uns2)
	}
	if r.Version() != v || len(describe(t, r, Filter{})) != 1 {
		t.Error("retry changed the registry")
	}
	_, _, err = r.Create(topo, s3Spec("VPC", "REJECT", "arn:aws:s3:::b", vpcID), "token-1")
	wantCode(t, err, "IdempotentParameterMismatch")
	_, _, err = r.Create(topo, spec, strings.Repeat("x", 65))
	wantCode(t, err, "InvalidParameterValue")
	// The token survives a restart, and a deletion of its flow log.
	r.Close()
	r = openReg(t, path, c)
	defer r.Close()
	if _, err := r.Delete([]string{first[0].FlowLog.ID}); err != nil {
		t.Fatal(err)
	}
	c.Add(23 * time.Hour)
	again, _, err = r.Create(topo, spec, "token-1")
	if err != nil || len(again) != 1 || again[0].FlowLog.ID != first[0].FlowLog.ID || len(describe(t, r, Filter{})) != 0 {
		t.Fatalf("retry after restart and delete: %v %v", err, again)
	}
	// After 24 hours the token is forgotten: the same call creates again.
	c.Add(time.Hour)
	later, _, err := r.Create(topo, spec, "token-1")
	if err != nil || len(later) != 1 || later[0].FlowLog.ID == first[0].FlowLog.ID {
		t.Fatalf("after expiry: %v %v", err, later)
	}
}

func TestRegistryDeleteUnknown(t *testing.T) {
	topo := regTopo(t, "")
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), newClock())
	defer r.Close()
	created, _, _ := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b", vpcID), "")
	id := created[0].FlowLog.ID
	v := r.Version()
	uns, err := r.Delete([]string{"fl-00000000000000000"})
	if err != nil || !reflect.DeepEqual(uns, []Unsuccessful{{"fl-00000000000000000", "InvalidFlowLogId.NotFound", "The specified flow log does not exist."}}) {
		t.Errorf("unknown id: %v %v", err, uns)
	}
	if r.Version() != v {
		t.Error("a delete of nothing changed the version")
	}
	uns, err = r.Delete([]string{"nope", id, id})
	if err != nil || len(uns) != 1 || uns[0].ResourceID != "nope" || len(describe(t, r, Filter{})) != 0 {
		t.Errorf("mixed: %v %v", err, uns)
	}
	_, err = r.Delete(nil)
	wantCode(t, err, "MissingParameter")
	_, err = r.Delete(make([]string, 1001))
	wantCode(t, err, "InvalidParameterValue")
}

func TestRegistrySeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	topo := regTopo(t, regSeeds)
	fromTopo, err := FromTopology(topo)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	r := openReg(t, path, c)
	added, err := r.Seed(topo)
	if err != nil || len(added) != 2 {
		t.Fatalf("Seed: %v, %d added", err, len(added))
	}
	var got []string
	for _, e := range added {
		got = append(got, e.FlowLog.ID)
		if !e.Seeded || e.FlowLog.OwnerID != "111122223333" || e.FlowLog.Region != "eu-west-1" {
			t.Errorf("seeded entry %+v", e)
		}
	}
	slices.Sort(got)
	if want := []string{fromTopo[0].ID, fromTopo[1].ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("seeded ids %v, FromTopology %v", got, want)
	}
	if again, err := r.Seed(topo); err != nil || len(again) != 0 {
		t.Errorf("second Seed: %v %v", err, again)
	}
	r.Close()
	c.Add(time.Hour)
	r = openReg(t, path, c)
	if again, err := r.Seed(topo); err != nil || len(again) != 0 {
		t.Errorf("Seed after restart: %v %v", err, again)
	}
	es := describe(t, r, Filter{})
	if len(es) != 2 || !es[0].CreationTime.Equal(time.Date(2024, 5, 1, 12, 0, 0, 123000000, time.UTC)) {
		t.Errorf("after restart %v", es)
	}
	// Deleted, it stays deleted, across restarts.
	var eniFL string
	for _, e := range es {
		if e.FlowLog.ResourceID == eniID {
			eniFL = e.FlowLog.ID
		}
	}
	if uns, err := r.Delete([]string{eniFL}); err != nil || len(uns) != 0 {
		t.Fatal(err, uns)
	}
	if again, _ := r.Seed(topo); len(again) != 0 {
		t.Error("a deleted seeded flow log came back")
	}
	r.Close()
	r = openReg(t, path, c)
	defer r.Close()
	if again, _ := r.Seed(topo); len(again) != 0 || len(describe(t, r, Filter{})) != 1 {
		t.Error("a deleted seeded flow log came back after a restart")
	}
	// A changed definition is a new flow log.
	changed := regTopo(t, strings.Replace(regSeeds, "TrafficType: REJECT", "TrafficType: ACCEPT", 1))
	if again, err := r.Seed(changed); err != nil || len(again) != 1 || again[0].FlowLog.TrafficType != "ACCEPT" {
		t.Errorf("changed definition: %v %v", err, again)
	}
}

func TestRegistrySeedConflict(t *testing.T) {
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), newClock())
	defer r.Close()
	topo := regTopo(t, regSeeds)
	api, _, err := r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::seed-bucket/flows", vpcID), "")
	if err != nil || len(api) != 1 {
		t.Fatal(err)
	}
	added, err := r.Seed(topo)
	wantCode(t, err, "FlowLogAlreadyExists")
	if added != nil || len(describe(t, r, Filter{})) != 1 || !strings.Contains(err.Error(), api[0].FlowLog.ID) {
		t.Errorf("conflict: %v, added %v", err, added)
	}
	// FromTopology's errors come through.
	bad := regTopo(t, strings.Replace(regSeeds, "TrafficType: ALL", "TrafficType: SOME", 1))
	_, err = r.Seed(bad)
	wantCode(t, err, "InvalidParameterValue")
}

func TestRegistrySingleInterface(t *testing.T) {
	r, err := OpenRegistry(filepath.Join(t.TempDir(), "f.json"), RegistryOptions{Account: "444455556666", Region: "ap-south-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	created, uns, err := r.Create(nil, s3Spec("NetworkInterface", "ALL", "arn:aws:s3:::b", "eni-anything"), "")
	if err != nil || len(uns) != 0 || len(created) != 1 {
		t.Fatal(err, uns)
	}
	if fl := created[0].FlowLog; fl.OwnerID != "444455556666" || fl.Region != "ap-south-1" || fl.ResourceID != "eni-anything" {
		t.Errorf("%+v", fl)
	}
	// A topology without AccountId and Region falls back to the options too.
	noID, err := topology.Parse("x.yaml", []byte(strings.Replace(strings.Replace(regTopology, `AccountId: "111122223333"`, "", 1), "Region: eu-west-1", "", 1)))
	if err != nil {
		t.Fatal(err)
	}
	created, _, err = r.Create(noID, s3Spec("VPC", "ALL", "arn:aws:s3:::b", vpcID), "")
	if err != nil || created[0].FlowLog.OwnerID != "444455556666" || created[0].FlowLog.Region != "ap-south-1" {
		t.Errorf("%v %+v", err, created)
	}
}

func TestRegistryFilters(t *testing.T) {
	c := newClock()
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), c)
	defer r.Close()
	mk := func(s *Spec, tags ...topology.Tag) string {
		t.Helper()
		if len(tags) > 0 {
			s.TagSpecifications = []topology.TagSpecification{{ResourceType: "vpc-flow-log", Tags: tags}}
		}
		c.Add(time.Second)
		created, uns, err := r.Create(nil, s, "")
		if err != nil || len(uns) != 0 {
			t.Fatal(err, uns)
		}
		return created[0].FlowLog.ID
	}
	a := mk(s3Spec("NetworkInterface", "ACCEPT", "arn:aws:s3:::b1", "eni-a"), topology.Tag{Key: "env", Value: "prod"})
	b := mk(&Spec{ResourceIds: []string{"eni-b"}, ResourceType: "NetworkInterface", TrafficType: "REJECT", LogGroupName: "g1"},
		topology.Tag{Key: "env", Value: "dev"}, topology.Tag{Key: "team", Value: "net"})
	cc := mk(&Spec{ResourceIds: []string{"subnet-c"}, ResourceType: "Subnet", TrafficType: "ALL", LogGroupName: "g2"})
	if err := r.SetDeliveryStatus(b, &DeliveryError{Message: DeliveryRateLimited}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{a, b, cc}},
		{Filter{Filters: []FilterTerm{{"deliver-log-status", []string{"FAILED"}}}}, []string{b}},
		{Filter{Filters: []FilterTerm{{"deliver-log-status", []string{"SUCCESS"}}}}, []string{a, cc}},
		{Filter{Filters: []FilterTerm{{"log-destination-type", []string{"cloud-watch-logs"}}}}, []string{b, cc}},
		{Filter{Filters: []FilterTerm{{"log-destination-type", []string{"s3"}}}}, []string{a}},
		{Filter{Filters: []FilterTerm{{"flow-log-id", []string{cc, a}}}}, []string{a, cc}},
		{Filter{Filters: []FilterTerm{{"log-group-name", []string{"g1"}}}}, []string{b}},
		{Filter{Filters: []FilterTerm{{"resource-id", []string{"eni-a", "subnet-c"}}}}, []string{a, cc}},
		{Filter{Filters: []FilterTerm{{"traffic-type", []string{"REJECT"}}}}, []string{b}},
		{Filter{Filters: []FilterTerm{{"tag:env", []string{"prod"}}}}, []string{a}},
		{Filter{Filters: []FilterTerm{{"tag:env", []string{"prod", "dev"}}}}, []string{a, b}},
		{Filter{Filters: []FilterTerm{{"tag:team", []string{"prod"}}}}, nil},
		{Filter{Filters: []FilterTerm{{"tag-key", []string{"team"}}}}, []string{b}},
		{Filter{Filters: []FilterTerm{{"log-destination-type", []string{"cloud-watch-logs"}}, {"traffic-type", []string{"ALL"}}}}, []string{cc}},
		{Filter{FlowLogIds: []string{cc, "fl-00000000000000000", a}}, []string{a, cc}},
		{Filter{FlowLogIds: []string{a, b}, Filters: []FilterTerm{{"traffic-type", []string{"REJECT", "ALL"}}}}, []string{b}},
	} {
		if got := ids(describe(t, r, tc.f)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.f, got, tc.want)
		}
	}
	for _, bad := range []FilterTerm{{"owner-id", []string{"1"}}, {"tag:", []string{"x"}}, {"traffic-type", nil}} {
		_, err := r.Describe(Filter{Filters: []FilterTerm{bad}})
		wantCode(t, err, "InvalidParameterValue")
	}
}

func TestRegistryDeliveryStatus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	r := openReg(t, path, newClock())
	created, _, _ := r.Create(nil, s3Spec("NetworkInterface", "ALL", "arn:aws:s3:::b", "eni-1"), "")
	id := created[0].FlowLog.ID
	status := func(r *Registry) (string, string) {
		e := describe(t, r, Filter{FlowLogIds: []string{id}})[0]
		return e.DeliverLogsStatus, e.DeliverLogsErrorMessage
	}
	v := r.Version()
	ch := r.Changes()
	if err := r.SetDeliveryStatus(id, fmt.Errorf("put object: %w", &DeliveryError{Message: DeliveryRateLimited})); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Error("Changes not signalled")
	}
	if s, m := status(r); s != "FAILED" || m != "Rate limited" || r.Version() != v+1 {
		t.Errorf("%s %q, version %d", s, m, r.Version())
	}
	info, _ := os.Stat(path)
	ch = r.Changes()
	if err := r.SetDeliveryStatus(id, &DeliveryError{Message: DeliveryRateLimited, Err: errors.New("again")}); err != nil {
		t.Fatal(err)
	}
	if info2, _ := os.Stat(path); r.Version() != v+1 || !os.SameFile(info, info2) {
		t.Error("an unchanged status was written")
	}
	select {
	case <-ch:
		t.Error("Changes signalled without a change")
	default:
	}
	r.Close()
	r = openReg(t, path, nil)
	defer r.Close()
	if s, m := status(r); s != "FAILED" || m != "Rate limited" {
		t.Errorf("after restart %s %q", s, m)
	}
	if err := r.SetDeliveryStatus(id, errors.New("disk full")); err != nil {
		t.Fatal(err)
	}
	if s, m := status(r); s != "FAILED" || m != "Unknown error" {
		t.Errorf("plain error: %s %q", s, m)
	}
	if err := r.SetDeliveryStatus(id, nil); err != nil {
		t.Fatal(err)
	}
	if s, m := status(r); s != "SUCCESS" || m != "" {
		t.Errorf("success: %s %q", s, m)
	}
	wantCode(t, r.SetDeliveryStatus("fl-00000000000000000", nil), "InvalidFlowLogId.NotFound")
}

// TestRegistryConcurrent runs writers, readers and a watcher at once (run
// with -race). Each worker makes three changes per round: create, a status
// change, delete; a repeated status is no change.
func TestRegistryConcurrent(t *testing.T) {
	const workers, rounds = 6, 5
	r := openReg(t, filepath.Join(t.TempDir(), "f.json"), nil)
	defer r.Close()
	done := make(chan struct{})
	watched := make(chan int)
	ready := make(chan struct{})
	go func() {
		n := 0
		for {
			ch := r.Changes()
			if n == 0 {
				select {
				case <-ready:
				default:
					close(ready)
				}
			}
			for _, fl := range r.Active() {
				_ = fl.ResourceID
			}
			select {
			case <-ch:
				n++
			case <-done:
				select {
				case <-ch:
					n++
				default:
				}
				watched <- n
				return
			}
		}
	}()
	<-ready
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				res := fmt.Sprintf("eni-w%d-%d", w, i)
				created, uns, err := r.Create(nil, s3Spec("NetworkInterface", "ALL", "arn:aws:s3:::b", res), "")
				if err != nil || len(uns) != 0 {
					errs <- fmt.Errorf("create: %v %v", err, uns)
					return
				}
				id := created[0].FlowLog.ID
				for range 2 {
					if err := r.SetDeliveryStatus(id, &DeliveryError{Message: DeliveryAccessError}); err != nil {
						errs <- err
						return
					}
				}
				if es, err := r.Describe(Filter{Filters: []FilterTerm{{"resource-id", []string{res}}}}); err != nil || len(es) != 1 || es[0].DeliverLogsStatus != "FAILED" {
					errs <- fmt.Errorf("describe %s: %v %v", res, err, es)
					return
				}
				if uns, err := r.Delete([]string{id}); err != nil || len(uns) != 0 {
					errs <- fmt.Errorf("delete: %v %v", err, uns)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	n := <-watched
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if want := uint64(1 + 3*workers*rounds); r.Version() != want {
		t.Errorf("version %d, want %d", r.Version(), want)
	}
	if n == 0 || len(r.Active()) != 0 {
		t.Errorf("watcher saw %d changes; %d active", n, len(r.Active()))
	}
}

const (
	crashEnv     = "FLOWLOG_REGISTRY_CRASH"
	crashBaseEnv = "FLOWLOG_REGISTRY_CRASH_BASE"
)

// TestRegistryCrashChild is the writer TestRegistryCrash kills; it only runs
// in that child process. Before each change it prints "begin ...", after
// the method returned "ack ...".
func TestRegistryCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("the child process of TestRegistryCrash")
	}
	base, _ := strconv.Atoi(os.Getenv(crashBaseEnv))
	r, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fail := func(err error) {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mine []string
	for i := base; ; i++ {
		res := fmt.Sprintf("eni-%017x", i)
		fmt.Println("begin create", res)
		created, uns, err := r.Create(nil, s3Spec("NetworkInterface", "ALL", "arn:aws:s3:::crash", res), "")
		if err != nil || len(uns) != 0 {
			fail(fmt.Errorf("create %v %v", err, uns))
		}
		id := created[0].FlowLog.ID
		fmt.Println("ack create", id, res)
		mine = append(mine, id)
		if i%2 == 1 {
			fmt.Println("begin status", id)
			if err := r.SetDeliveryStatus(id, &DeliveryError{Message: DeliveryAccessError}); err != nil {
				fail(err)
			}
			fmt.Println("ack status", id)
		}
		if i%3 == 2 {
			old := mine[0]
			mine = mine[1:]
			fmt.Println("begin delete", old)
			if _, err := r.Delete([]string{old}); err != nil {
				fail(err)
			}
			fmt.Println("ack delete", old)
		}
	}
}

// TestRegistryCrash SIGKILLs a writer 20 times at varying points (no Close)
// and reopens the file each time: every acknowledged change is there, and
// at most the one change in flight besides.
func TestRegistryCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "flowlogs.json")
	type model struct {
		resource string
		failed   bool
	}
	known := map[string]model{} // durable state as last observed, plus acknowledged changes
	deleted := map[string]bool{}
	for round := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRegistryCrashChild$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, crashBaseEnv+"="+strconv.Itoa(round*1000))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// SIGKILL after a number of acknowledgements, while the child goes
		// on writing; then read what it printed up to its death, so the
		// last "begin" without its "ack" is the one change in flight.
		killAfter := 1 + (round*7)%11
		var pending []string
		acks := 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) >= 3 && f[0] == "begin":
				pending = f[1:]
			case len(f) == 4 && f[0] == "ack" && f[1] == "create":
				known[f[2]] = model{resource: f[3]}
				pending, acks = nil, acks+1
			case len(f) == 3 && f[0] == "ack" && f[1] == "status":
				m := known[f[2]]
				m.failed = true
				known[f[2]] = m
				pending, acks = nil, acks+1
			case len(f) == 3 && f[0] == "ack" && f[1] == "delete":
				delete(known, f[2])
				deleted[f[2]] = true
				pending, acks = nil, acks+1
			case len(f) > 0 && f[0] == "error":
				cmd.Process.Kill()
				t.Fatalf("round %d: child: %s", round, sc.Text())
			}
			if acks == killAfter {
				cmd.Process.Kill()
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if acks < killAfter {
			t.Fatalf("round %d: child stopped after %d acknowledgements", round, acks)
		}

		r, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		got := map[string]Entry{}
		es, _ := r.Describe(Filter{})
		for _, e := range es {
			got[e.FlowLog.ID] = e
		}
		inFlight := func(op, arg string) bool {
			return len(pending) == 2 && pending[0] == op && pending[1] == arg
		}
		for id, m := range known {
			e, ok := got[id]
			switch {
			case !ok && !inFlight("delete", id):
				t.Fatalf("round %d: acknowledged flow log %s (%s) lost", round, id, m.resource)
			case ok && e.FlowLog.ResourceID != m.resource:
				t.Fatalf("round %d: %s monitors %s, want %s", round, id, e.FlowLog.ResourceID, m.resource)
			case ok && m.failed && e.DeliverLogsStatus != "FAILED":
				t.Fatalf("round %d: acknowledged status of %s lost", round, id)
			case ok && !m.failed && e.DeliverLogsStatus == "FAILED" && !inFlight("status", id):
				t.Fatalf("round %d: %s FAILED without a status change", round, id)
			}
		}
		for id := range deleted {
			if _, ok := got[id]; ok {
				t.Fatalf("round %d: acknowledged deletion of %s undone", round, id)
			}
		}
		for id, e := range got {
			if _, ok := known[id]; !ok && !inFlight("create", e.FlowLog.ResourceID) {
				t.Fatalf("round %d: flow log %s (%s) that nobody created", round, id, e.FlowLog.ResourceID)
			}
		}
		if left, _ := filepath.Glob(path + ".tmp-*"); len(left) != 0 {
			t.Fatalf("round %d: temporary files left after reopen: %v", round, left)
		}
		// What the file holds now is durable: it is the model of the next round.
		known = map[string]model{}
		for id, e := range got {
			known[id] = model{resource: e.FlowLog.ResourceID, failed: e.DeliverLogsStatus == "FAILED"}
		}
		r.Close()
	}
}

// FuzzRegistryFile: any bytes in the registry file give a registry or an
// error naming the file, never a panic; a file that loads is written back
// unchanged by the next write.
func FuzzRegistryFile(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "seed.json")
	r, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
	if err != nil {
		f.Fatal(err)
	}
	topo, err := topology.Parse("reg.yaml", []byte(regTopology+regSeeds))
	if err != nil {
		f.Fatal(err)
	}
	seeded, _ := r.Seed(topo)
	r.Delete([]string{seeded[0].FlowLog.ID})
	iv := 60
	created, _, _ := r.Create(topo, &Spec{ResourceIds: []string{vpcID, "vpc-404"}, ResourceType: "VPC", TrafficType: "ACCEPT",
		LogDestinationType: "s3", LogDestination: "arn:aws:s3:::b/x/", LogFormat: "${srcaddr} ${dstaddr}", MaxAggregationInterval: &iv,
		DestinationOptions: &topology.DestinationOptions{FileFormat: "parquet"},
		TagSpecifications:  []topology.TagSpecification{{ResourceType: "vpc-flow-log", Tags: []topology.Tag{{Key: "k", Value: "v"}}}}}, "tok")
	r.SetDeliveryStatus(created[0].FlowLog.ID, &DeliveryError{Message: DeliveryAccessError})
	r.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:len(good)-3])
	f.Add([]byte(strings.Replace(string(good), `"SUCCESS"`, `"MAYBE"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"ResourceType": "VPC"`, `"ResourceType": "Vpc"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"Version": 1`, `"Version": 2`, 1)))
	f.Add([]byte(`{"Format":"vpcflow flow-log registry","Version":1,"Account":"111122223333","Region":"eu-west-1","FlowLogs":[]}`))
	f.Add([]byte("{}"))
	f.Add([]byte("null"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "flowlogs.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := OpenRegistry(path, RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "flowlog: registry "+path+": ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		defer r.Close()
		es, err := r.Describe(Filter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.FlowLog == nil || e.FlowLog.Format == nil {
				t.Fatalf("entry without a flow log: %+v", e)
			}
		}
		st := r.cur.Load().st
		once := encodeRegistry(st, "111122223333", "eu-west-1")
		back, err := decodeRegistry(once, "111122223333", "eu-west-1")
		if err != nil {
			t.Fatalf("a loaded registry does not reload: %v", err)
		}
		if twice := encodeRegistry(back, "111122223333", "eu-west-1"); string(once) != string(twice) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}

// TestRegistryQuota: a resource holds at most MaxPerResource flow logs
// (AWS's default quota is 50); the next CreateFlowLogs for it fails with
// FlowLogsLimitExceeded and creates nothing, other resources are free.
func TestRegistryQuota(t *testing.T) {
	topo := regTopo(t, "")
	r, err := OpenRegistry(filepath.Join(t.TempDir(), "f.json"), RegistryOptions{Account: "111122223333", Region: "eu-west-1", MaxPerResource: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < 3; i++ {
		if _, _, err := r.Create(topo, s3Spec("VPC", "ALL", fmt.Sprintf("arn:aws:s3:::b%d", i), vpcID), ""); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = r.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b9", vpcID), "")
	wantCode(t, err, "FlowLogsLimitExceeded")
	if n := len(describe(t, r, Filter{})); n != 3 {
		t.Errorf("%d flow logs after the refused request, want 3", n)
	}
	if _, _, err := r.Create(topo, s3Spec("Subnet", "ALL", "arn:aws:s3:::b9", subnetID), ""); err != nil {
		t.Errorf("another resource: %v", err)
	}
	def, err := OpenRegistry(filepath.Join(t.TempDir(), "g.json"), RegistryOptions{Account: "111122223333", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer def.Close()
	for i := 0; i < 50; i++ {
		if _, _, err := def.Create(topo, s3Spec("VPC", "ALL", fmt.Sprintf("arn:aws:s3:::b%d", i), vpcID), ""); err != nil {
			t.Fatalf("flow log %d of the default 50: %v", i+1, err)
		}
	}
	_, _, err = def.Create(topo, s3Spec("VPC", "ALL", "arn:aws:s3:::b50", vpcID), "")
	wantCode(t, err, "FlowLogsLimitExceeded")
}
