package region

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/vpcflow/vpcflow/deliver"
	"github.com/vpcflow/vpcflow/flowlog"
	"github.com/vpcflow/vpcflow/iam"
	"github.com/vpcflow/vpcflow/internal/clock"
	"github.com/vpcflow/vpcflow/internal/reporter"
	"github.com/vpcflow/vpcflow/logsvc"
	"github.com/vpcflow/vpcflow/netstate"
	"github.com/vpcflow/vpcflow/pipeline"
	"github.com/vpcflow/vpcflow/topology"
)

// Dependencies are what a Region uses but does not own.
type Dependencies struct {
	// Clock paces paced sources and closes their windows (default: the
	// wall clock).
	Clock clock.Clock
	// Reporter receives the service's log lines and metrics (default: a
	// silent one).
	Reporter *reporter.Reporter
	// NetworkInputs, when set, is called in New with the service's network
	// (nil in single-interface mode) once it is known; the sources it
	// returns join the configured ones (vpcflow serve --lab captures the
	// lab built from that network).
	NetworkInputs func(*topology.Topology) ([]pipeline.Input, error)
	// NetworkChanged, when set, is called with the new network after each
	// change (EC2 API actions, SIGHUP), in the order of the changes, once
	// the pipeline judges packets by it (vpcflow serve --lab applies its
	// rules to the lab). Its error is logged; the change stands (failing
	// the API call would have clients retry a change already made).
	NetworkChanged func(*topology.Topology, int) error
	// Firehose maps the delivery streams of kinesis-data-firehose flow
	// logs to their sinks (vpcflow serve --firehose); Records receives
	// every delivered record besides (--publish). See deliver.Router.
	Firehose func(stream string) *deliver.FirehoseTarget
	Records  deliver.RecordSink
}

// Identity is the account and region a Region answers for.
type Identity = logsvc.Identity

// Region is the running service of one account and region.
type Region struct {
	cfg   Configuration
	deps  Dependencies
	log   *slog.Logger
	id    Identity
	topo  *topology.Topology
	logs  *logsvc.Service
	reg   *flowlog.Registry
	route *deliver.Router
	guard *guard
	det   *detection
	iam   *iam.Store
	net   *netstate.Store
	pipe  *pipeline.Pipeline
	m     *metrics
	start time.Time

	mu          sync.Mutex // serialises changes, so the pipeline sees them in order
	stopped     bool
	topoVersion int
}

// BucketsDir is the directory of the S3 buckets under the data dir.
const BucketsDir = "buckets"

// New opens the data dir (log service, flow-log registry, buckets), seeds
// the registry with the topology's FlowLogs and builds the pipeline. It
// reads no packet before Start.
func New(cfg Configuration, deps Dependencies) (*Region, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	if deps.Reporter == nil {
		deps.Reporter = reporter.New(nil)
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	r := &Region{cfg: cfg, deps: deps, log: deps.Reporter.Logger}
	file, err := readTopologyFile(cfg.TopologyFile)
	if err != nil {
		return nil, err
	}
	want := Identity{Account: cfg.Account, Region: cfg.Region}
	if want.IsZero() && file != nil {
		want = Identity{Account: file.topo.AccountID, Region: file.topo.Region}
	}
	logs, err := logsvc.Open(cfg.DataDir, logsvc.Options{
		Identity: want, DefaultIdentity: Identity{Account: cfg.DefaultAccount, Region: cfg.DefaultRegion},
		Owner: cfg.Owner, Endpoint: cfg.Endpoint,
	})
	if err != nil {
		return nil, err
	}
	r.logs, r.id = logs, logs.Identity()
	if err := r.open(file); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// open does the part of New that runs with the data dir locked.
func (r *Region) open(file *topologyFile) error {
	cfg := &r.cfg
	if err := r.openNetwork(file); err != nil {
		return err
	}
	var err error
	r.reg, err = flowlog.OpenRegistry(filepath.Join(cfg.DataDir, "flowlogs.json"), flowlog.RegistryOptions{
		Account: r.id.Account, Region: r.id.Region, Now: r.deps.Clock.Now,
	})
	if err != nil {
		return err
	}
	if r.topo != nil {
		added, err := r.reg.Seed(r.topo)
		if err != nil {
			return err
		}
		for _, e := range added {
			r.log.Info("flow log created from the topology", "id", e.FlowLog.ID, "resource", e.FlowLog.ResourceID)
		}
	}
	if r.iam, err = iam.Open(filepath.Join(cfg.DataDir, "iam.json"), iam.Options{Account: r.id.Account, Now: r.deps.Clock.Now}); err != nil {
		return err
	}
	if err := r.removeTempObjects(); err != nil {
		return err
	}
	inputs := cfg.inputs()
	if r.deps.NetworkInputs != nil {
		in, err := r.deps.NetworkInputs(r.topo)
		if err != nil {
			return err
		}
		inputs = append(inputs, in...)
	}
	if cfg.SimRate > 0 {
		in, err := r.simInput()
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
	}
	// On the clock, objects are finished at every window so records are
	// readable seconds after it closes; a replay on packet time writes one
	// object per slot, exactly as `vpcflow pcap`. As on AWS, records go
	// only into buckets that exist (made with CreateBucket, aws s3 mb).
	r.route = &deliver.Router{BucketRoot: r.BucketDir, Logs: r.logs, EveryWindow: pipeline.OnClock(inputs), ExistingBuckets: true,
		Firehose: r.deps.Firehose, Records: r.deps.Records}
	r.guard = newGuard(r, r.route)
	if r.det, err = newDetection(r, r.guard); err != nil {
		return err
	}
	r.m = newMetrics(r)
	iface := cfg.Interface
	if iface != nil {
		e := *iface
		if e.AccountID == "" {
			e.AccountID = r.id.Account
		}
		if e.Region == "" {
			e.Region = r.id.Region
		}
		iface = &e
	}
	r.pipe, err = pipeline.New(pipeline.Config{
		Topology: r.topo, Interface: iface, LocalPrefixes: cfg.LocalPrefixes,
		FlowLogs: r.deliverable(), Inputs: inputs, Flow: cfg.Flow, Policy: cfg.Policy, LiveGrace: cfg.LiveGrace,
	}, pipeline.Dependencies{
		Clock:       r.deps.Clock,
		Destination: func(*flowlog.FlowLog) flowlog.Destination { return r.det },
		Delivered: func(d pipeline.Delivery) {
			r.evaluateAlarms(d)
			r.det.delivered(d)
			r.m.delivered(d) // last: tests wait on the count
		},
		DeliveryError: r.deliveryFailed,
	})
	if err != nil {
		return err
	}
	if err := r.deps.Reporter.Registerer().Register(r.det); err != nil {
		return err
	}
	return r.deps.Reporter.Registerer().Register(r.m)
}

// removeTempObjects deletes the temporary files of objects a killed
// process was writing: they were never renamed into place, so no reader
// saw them, and the records in them are lost with the process.
func (r *Region) removeTempObjects() error {
	removed, err := deliver.NewS3Dir(filepath.Join(r.cfg.DataDir, BucketsDir)).RemoveStale()
	for _, path := range removed {
		r.log.Warn("removed an unfinished object of an earlier run", "path", path)
	}
	return err
}

// deliverable returns the registry's flow logs this service can deliver;
// the others are marked FAILED.
func (r *Region) deliverable() []*flowlog.FlowLog {
	if entries, err := r.reg.Describe(flowlog.Filter{}); err == nil {
		r.guard.setRoles(entries)
		// A flow log left FAILED by an earlier run recovers, as any
		// other, at its first window delivered in full.
		for _, e := range entries {
			if e.DeliverLogsStatus == flowlog.DeliveryFailed {
				r.guard.markFailed(e.FlowLog.ID)
			}
		}
	}
	var out []*flowlog.FlowLog
	for _, fl := range r.reg.Active() {
		if err := r.route.Check(fl); err != nil {
			r.deliveryFailed(fl, err)
			continue
		}
		out = append(out, fl)
	}
	return out
}

// deliveryFailed marks a flow log FAILED, as AWS does when it cannot
// deliver; runs on the pipeline's delivery goroutine.
func (r *Region) deliveryFailed(fl *flowlog.FlowLog, err error) {
	r.m.deliveryErrors.WithLabelValues(fl.ID).Inc()
	r.guard.markFailed(fl.ID)
	r.log.Error("delivery failed", "flow_log", fl.ID, "err", err)
	// A *flowlog.DeliveryError says which of AWS's messages applies; any
	// other error is recorded as "Unknown error".
	if serr := r.reg.SetDeliveryStatus(fl.ID, err); serr != nil {
		r.log.Error("recording the delivery status", "flow_log", fl.ID, "err", serr)
	}
}

// Start starts the pipeline. Cancelling ctx stops the sources as Stop does.
func (r *Region) Start(ctx context.Context) error {
	r.start = time.Now()
	if err := r.pipe.Start(ctx); err != nil {
		return err
	}
	r.det.watchEnd(r.pipe)
	return nil
}

// Stop stops the sources, closes and delivers the open windows, and closes
// the data dir. It gives up waiting for the pipeline after StopTimeout.
func (r *Region) Stop() error {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return nil
	}
	r.stopped = true
	r.mu.Unlock()
	var errs []error
	if r.pipe != nil {
		done := make(chan error, 1)
		go func() {
			_, err := r.pipe.Stop()
			done <- err
		}()
		select {
		case err := <-done:
			errs = append(errs, err)
		case <-time.After(r.cfg.StopTimeout):
			errs = append(errs, fmt.Errorf("region: the pipeline did not stop within %v; open windows may be lost", r.cfg.StopTimeout))
		}
	}
	errs = append(errs, r.close())
	return errors.Join(errs...)
}

func (r *Region) close() error {
	var errs []error
	if r.m != nil {
		r.deps.Reporter.Registerer().Unregister(r.m)
	}
	if r.det != nil {
		r.deps.Reporter.Registerer().Unregister(r.det)
		errs = append(errs, r.det.close())
	}
	if r.reg != nil {
		errs = append(errs, r.reg.Close())
	}
	if r.net != nil {
		errs = append(errs, r.net.Close())
	}
	if r.iam != nil {
		errs = append(errs, r.iam.Close())
	}
	if r.logs != nil {
		errs = append(errs, r.logs.Close())
	}
	return errors.Join(errs...)
}

// Identity is the account and region the service answers for.
func (r *Region) Identity() Identity { return r.id }

// Logs is the log service (CloudWatch Logs, metric filters, alarms).
func (r *Region) Logs() *logsvc.Service { return r.logs }

// Pipeline is the running pipeline.
func (r *Region) Pipeline() *pipeline.Pipeline { return r.pipe }

// BucketDir is the local directory standing for an S3 bucket.
func (r *Region) BucketDir(bucket string) string {
	return filepath.Join(r.cfg.DataDir, BucketsDir, bucket)
}

// CreateFlowLogs is EC2's CreateFlowLogs: the flow logs are stored and
// start at the next capture window of their interval.
func (r *Region) CreateFlowLogs(spec *flowlog.Spec, clientToken string) ([]*flowlog.Entry, []flowlog.Unsuccessful, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkRole(spec); err != nil {
		return nil, nil, err
	}
	created, bad, err := r.reg.Create(r.topo, spec, clientToken)
	if err != nil {
		return nil, nil, err
	}
	r.pipe.SetFlowLogs(r.deliverable())
	return created, bad, nil
}

// DescribeFlowLogs is EC2's DescribeFlowLogs.
func (r *Region) DescribeFlowLogs(f flowlog.Filter) ([]flowlog.Entry, error) {
	return r.reg.Describe(f)
}

// DeleteFlowLogs is EC2's DeleteFlowLogs: the flow logs get no new records;
// what they delivered stays.
func (r *Region) DeleteFlowLogs(ids []string) ([]flowlog.Unsuccessful, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	bad, err := r.reg.Delete(ids)
	if err != nil {
		return nil, err
	}
	r.pipe.SetFlowLogs(r.deliverable())
	return bad, nil
}
