// Package logsvc is vpcflow's log service: one open data dir seen as
// CloudWatch Logs plus the slice of CloudWatch that metric filters feed. It
// ties the event store (package logstore) to the metric-filter and alarm
// engine (package metricfilter), which are pure logic with no storage, and
// persists what the engine needs to survive a restart.
//
// It exists because every writer must go through the same path: an event
// stored by `vpcflow logs put`, by flow-log delivery or by the
// PutLogEvents API runs the metric filters of its group once (spec
// cloudwatch-logs.md §1.5 step 8, §3.2), and the datapoints and alarm state
// changes it causes are durable before the write is acknowledged.
//
// Layout added to the data dir (see docs/metric-filters.md for why):
//
//	metrics.db   bbolt: filter definitions, alarms (definition, state,
//	             history), the statistics of every metric bucket (10 s) as
//	             the engine summed them (not every datapoint), the
//	             default-value minute markers, and the event-time watermark
package logsvc
