// Package region is the running flow-log service: one account in one
// region, in one process. It owns what AWS's control plane and delivery
// own for VPC Flow Logs: the identity (account, region), the declared
// network (topology), the flow-log registry, the log service (CloudWatch
// Logs and metrics, the only door into the data dir), the S3 buckets
// (local directories), the running pipeline, and the service's metrics.
//
// It exists so that every client drives the same code: `vpcflow serve`
// runs a Region with sources and an HTTP front, the API translates AWS's
// protocols into calls of its methods (CreateFlowLogs, DescribeFlowLogs,
// DeleteFlowLogs, ...), and the offline CLI opens one without a listener.
//
// Data dir layout (see docs/serve.md):
//
//	LOCK, meta.db, g/, identity.json, metrics.db   the log service
//	flowlogs.json (+ .lock)                        the flow-log registry
//	findings.db                                    findings of the detection (see detect.go)
//	buckets/<bucket>/AWSLogs/...                   S3 flow-log objects, one directory per bucket
package region
