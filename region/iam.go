package region

import (
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/iam"
	"github.com/vpcflow/vpcflow/record"
)

// flowLogsPrincipal is the service that assumes a flow log's role to
// deliver to CloudWatch Logs.
const flowLogsPrincipal = "vpc-flow-logs.amazonaws.com"

// IAM is the account's roles, for the IAM API.
func (r *Region) IAM() *iam.Store { return r.iam }

// checkRole applies AWS's checks of DeliverLogsPermissionArn at
// CreateFlowLogs: a CloudWatch Logs flow log needs a role, and a role the
// flow-logs service cannot assume is refused then and there. Whether the
// role may write to the log group is only found out at delivery (see
// guard), as on AWS.
func (r *Region) checkRole(spec *flowlog.Spec) error {
	dest := spec.LogDestinationType
	if dest != "" && dest != flowlog.DestCloudWatch {
		return nil
	}
	arn := spec.DeliverLogsPermissionArn
	if arn == "" {
		return &flowlog.Error{Where: "DeliverLogsPermissionArn", Code: "InvalidParameter",
			Msg: "DeliverLogsPermissionArn is required for a flow log that delivers to CloudWatch Logs"}
	}
	// The VPC guide's trust policy limits the role to this account's flow
	// logs with aws:SourceAccount and aws:SourceArn conditions; the flow
	// log's id is not known yet, so any id of this account stands for it.
	ctx := iam.Context{
		"aws:SourceAccount": r.id.Account,
		"aws:SourceArn":     fmt.Sprintf("arn:aws:ec2:%s:%s:vpc-flow-log/fl-00000000000000000", r.id.Region, r.id.Account),
	}
	if !r.iam.CanAssumeWith(arn, flowLogsPrincipal, ctx) {
		return &flowlog.Error{Where: "DeliverLogsPermissionArn", Code: "InvalidParameter",
			Msg: fmt.Sprintf("Unable to assume given IAM role: '%s'", arn)}
	}
	return nil
}

// guard is the destination of every flow log in the service: it delivers
// through the router and holds back the records a destination refuses
// with AWS's "Access error": those of a CloudWatch Logs flow log whose
// role may not write them, and those of an S3 flow log whose bucket does
// not exist (the router says so). Once a flow log's record is refused,
// the rest of its window is refused too, every record counted as
// undeliverable, and its Flush reports the refusal, so the flow log is
// marked FAILED; nothing is delivered until the role's policy is fixed or
// the bucket is created. A failed flow log is marked SUCCESS again at its
// first window delivered in full. It runs on the pipeline's delivery
// goroutine; roles is replaced by the flow-log changes.
type guard struct {
	r    *Region
	next flowlog.Destination

	mu            sync.Mutex
	roles         map[string]string // flow log id → DeliverLogsPermissionArn
	failed        map[string]bool   // flow log ids marked FAILED
	undeliverable map[string]uint64 // flow log id → records refused, since the start

	allowed map[string]bool  // flow log id + stream → may write, for the current window
	wrote   map[string]bool  // flow logs with a record delivered in the current window
	refused map[string]error // flow log id → why its records of the current window are refused
	held    map[string]int   // flow log id → records refused in the current window
}

func newGuard(r *Region, next flowlog.Destination) *guard {
	return &guard{r: r, next: next, roles: map[string]string{}, failed: map[string]bool{}, undeliverable: map[string]uint64{},
		allowed: map[string]bool{}, wrote: map[string]bool{}, refused: map[string]error{}, held: map[string]int{}}
}

// setRoles takes the roles of the registry's flow logs.
func (g *guard) setRoles(entries []flowlog.Entry) {
	roles := map[string]string{}
	for _, e := range entries {
		if e.Spec.DeliverLogsPermissionArn != "" && e.FlowLog.DestinationType == flowlog.DestCloudWatch {
			roles[e.FlowLog.ID] = e.Spec.DeliverLogsPermissionArn
		}
	}
	g.mu.Lock()
	g.roles = roles
	g.mu.Unlock()
}

func (g *guard) role(fl *flowlog.FlowLog) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.roles[fl.ID]
}

// may reports whether fl's role allows writing to stream.
func (g *guard) may(fl *flowlog.FlowLog, role, stream string) bool {
	k := fl.ID + "\x00" + stream
	ok, seen := g.allowed[k]
	if !seen {
		arn := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", g.r.id.Region, g.r.id.Account, fl.LogGroupName, stream)
		ok = g.r.iam.Allowed(role, "logs:CreateLogStream", arn) && g.r.iam.Allowed(role, "logs:PutLogEvents", arn)
		g.allowed[k] = ok
	}
	return ok
}

func (g *guard) Write(fl *flowlog.FlowLog, rec *record.Record) error {
	if g.refused[fl.ID] != nil {
		g.hold(fl)
		return nil
	}
	var err error
	if role := g.role(fl); role != "" && !g.may(fl, role, rec.InterfaceID+"-all") {
		err = &flowlog.DeliveryError{Message: flowlog.DeliveryAccessError,
			Err: fmt.Errorf("role %s may not logs:CreateLogStream and logs:PutLogEvents on log group %s", role, fl.LogGroupName)}
	} else {
		err = g.next.Write(fl, rec)
	}
	var de *flowlog.DeliveryError
	if errors.As(err, &de) && de.Message == flowlog.DeliveryAccessError {
		g.refused[fl.ID] = err
		g.hold(fl)
		return nil
	}
	if err == nil {
		g.wrote[fl.ID] = true
	}
	return err
}

// hold counts a refused record.
func (g *guard) hold(fl *flowlog.FlowLog) {
	g.held[fl.ID]++
	g.mu.Lock()
	g.undeliverable[fl.ID]++
	g.mu.Unlock()
}

// Undeliverable returns the records refused so far, by flow log id.
func (g *guard) Undeliverable() map[string]uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.undeliverable)
}

func (g *guard) Flush(fl *flowlog.FlowLog, before int64) error {
	err := g.next.Flush(fl, before)
	for k := range g.allowed {
		delete(g.allowed, k) // a policy fixed now counts from the next window
	}
	wrote := g.wrote[fl.ID]
	delete(g.wrote, fl.ID)
	if refused := g.refused[fl.ID]; refused != nil {
		n := g.held[fl.ID]
		delete(g.refused, fl.ID)
		delete(g.held, fl.ID)
		return errors.Join(fmt.Errorf("%d record(s) of the window not delivered: %w", n, refused), err)
	}
	g.mu.Lock()
	// Recovered: a window with records went through (an idle window
	// proves nothing about the role or the bucket).
	recovered := err == nil && wrote && g.failed[fl.ID]
	if recovered {
		delete(g.failed, fl.ID)
	}
	g.mu.Unlock()
	if recovered {
		if serr := g.r.reg.SetDeliveryStatus(fl.ID, nil); serr != nil {
			g.r.log.Error("recording the delivery status", "flow_log", fl.ID, "err", serr)
		} else {
			g.r.log.Info("delivery recovered", "flow_log", fl.ID)
		}
	}
	return err
}

func (g *guard) Close() error { return g.next.Close() }

// Complete passes on how far a flow log's records are delivered
// (flowlog.Completer), so alarms wait for the windows still open.
func (g *guard) Complete(before map[*flowlog.FlowLog]int64) error {
	if c, ok := g.next.(flowlog.Completer); ok {
		return c.Complete(before)
	}
	return nil
}

// markFailed remembers that a flow log is FAILED, so its next full
// delivery marks it SUCCESS again.
func (g *guard) markFailed(id string) {
	g.mu.Lock()
	g.failed[id] = true
	g.mu.Unlock()
}
