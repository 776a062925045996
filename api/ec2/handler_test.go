package ec2_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/vpcflow/vpcflow/api/ec2"
	"github.com/vpcflow/vpcflow/api/query"
	"github.com/vpcflow/vpcflow/flowlog"
)

func TestProtocolErrors(t *testing.T) {
	g := newRig(t, topoFile, nil)
	for _, tc := range []struct {
		form      string
		status    int
		code, msg string
	}{
		{form("Action", "RunInstances", "Version", "2016-11-15"), 400, "InvalidAction", "The action RunInstances is not valid for this web service."},
		{form("Action", "describeFlowLogs", "Version", "2016-11-15"), 400, "InvalidAction", "The action describeFlowLogs is not valid for this web service."},
		// An EC2 action the emulator does not answer (docs/netstate.md: VPCs
		// cannot be deleted) is unknown to it.
		{form("Action", "DeleteVpc", "Version", "2016-11-15", "VpcId", vpcID), 400, "InvalidAction", "The action DeleteVpc is not valid for this web service."},
		{form("Action", "DescribeFlowLogs", "Version", "2015-10-01"), 400, "NoSuchVersion", "The requested version (2015-10-01) of service AmazonEC2 does not exist"},
		{form("Action", "DescribeFlowLogs"), 400, "MissingParameter", "The request must contain the parameter Version"},
		{form("Version", "2016-11-15"), 400, "MissingAction", "The request is missing an action or a required parameter."},
		{"Action=DescribeFlowLogs&Version=2016-11-15&Action=DeleteFlowLogs", 400, "MalformedQueryString", "The parameter Action is given more than once"},
		{"Action=DescribeFlowLogs&Version=2016-11-15&FlowLogId.99999999999=fl-1", 400, "InvalidParameterValue",
			"The list index 99999999999 in parameter FlowLogId.99999999999 is invalid: indexes run from 1 to 100000, without leading zeros"},
		{"Action=DescribeFlowLogs&Version=2016-11-15&NextToken=%G1", 400, "MalformedQueryString", "The value of parameter NextToken is not validly percent-encoded"},
		{"Action=DescribeFlowLogs&Version=2016-11-15&DryRun=maybe", 400, "InvalidParameterValue", "Value ( maybe ) for parameter DryRun is invalid. Expecting a boolean: true or false."},
		{form("Action", "DescribeFlowLogs", "Version", "2016-11-15", "Filter.1.Value.1", "x"), 400, "MissingParameter", "The request must contain the parameter Filter.1.Name"},
		{form("Action", "DescribeFlowLogs", "Version", "2016-11-15", "Filter.1.Name", "traffic-type"), 400, "InvalidParameterValue", "The filter 'traffic-type' needs at least one value"},
	} {
		st, body := g.raw(t, tc.form)
		wantErrorDoc(t, st, body, tc.status, tc.code, tc.msg)
	}
	// The SDK reads the error document: code, message, status, request id.
	_, err := g.c.DescribeFlowLogs(ctx, &ec2sdk.DescribeFlowLogsInput{FlowLogIds: make([]string, 1001)})
	wantAPIError(t, err, 400, "InvalidParameterValue", "The parameter FlowLogId has 1001 values; the maximum is 1000")
}

func TestGET(t *testing.T) {
	g := newRig(t, topoFile, nil)
	resp, err := http.Get(g.srv.URL + "/?Action=DescribeVpcs&Version=2016-11-15&VpcId.1=" + vpcID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml;charset=UTF-8" {
		t.Fatalf("GET: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

// broken fails every write, as a full disk would.
type broken struct{ ec2.Backend }

func (broken) DeleteFlowLogs([]string) ([]flowlog.Unsuccessful, error) {
	return nil, errors.New("write flowlogs.json: no space left on device")
}

func TestInternalError(t *testing.T) {
	g := newRig(t, topoFile, func(b ec2.Backend) ec2.Backend { return broken{b} })
	st, body := g.raw(t, form("Action", "DeleteFlowLogs", "Version", "2016-11-15", "FlowLogId.1", "fl-00000000000000000"))
	wantErrorDoc(t, st, body, 500, "InternalError", "An internal error has occurred: write flowlogs.json: no space left on device")
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	ec2.WriteError(w, 403, "AuthFailure", "AWS was not able to validate the provided access credentials & <ok>", "r-1")
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was not able to validate the provided access credentials &amp; &lt;ok&gt;</Message></Error></Errors><RequestID>r-1</RequestID></Response>`
	if w.Code != 403 || w.Body.String() != want || w.Header().Get("Content-Type") != "text/xml;charset=UTF-8" {
		t.Errorf("%d %s\n%s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}

// TestServeNil: a front that failed to decode and called Serve anyway gets
// a clean error, not a panic.
func TestServeNil(t *testing.T) {
	w := httptest.NewRecorder()
	ec2.New(nil).Serve(w, nil, "r-2")
	if w.Code != 400 {
		t.Errorf("%d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	ec2.New(nil).Serve(w, &query.Request{Action: "Nope", Version: "2016-11-15"}, "r-3")
	if w.Code != 400 {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}
