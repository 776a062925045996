// Package logsvc is vpcflow's log service: one open data dir seen as
// CloudWatch Logs plus the slice of CloudWatch that metric filters feed. It
// ties the event store (package logstore) to the metric-filter and alarm
// engine (package metricfilter), which are pure logic with no storage, and
// persists what the engine needs to survive a restart.
//
// It is the only door into a data dir, for reads as for writes: the CLI
// (`vpcflow logs ...`, `vpcflow bench insights`) and the HTTP API call the
// same operations, with AWS's parameters, answers and errors, so both
// behave alike and the CLI only parses flags and prints.
//
// Every writer goes through the same path: an event stored by `vpcflow
// logs put`, by flow-log delivery or by the PutLogEvents API runs the
// metric filters of its group once, and the datapoints and alarm state
// changes it causes are durable before the write is acknowledged.
// Flow-log delivery (IngestOnce) may hand a window over again; what its
// flow log delivered before is neither stored nor counted again, and it
// says how far every flow log is (Complete), so alarms do not judge a
// period before its records are in.
//
// A data dir answers for one account and region (Identity): every ARN and
// the account in error messages come from it. The first open records it;
// later opens use it, and an open asking for another one fails rather than
// change the ARNs clients hold. There are no built-in defaults: a program
// configures them (Options.DefaultIdentity).
//
// Alarm state changes run the alarms' actions (actions.go): an SNS topic is
// recorded as published in the alarm's history, and a webhook on this
// machine (a vpcflow extension) receives the notification from a
// background worker, so an ingestion never waits on a receiver; its
// outcome joins the history when the POST ends.
//
// Insights queries run asynchronously (StartQuery, GetQueryResults,
// StopQuery, DescribeQueries), a few at a time; their results stay in
// memory for an hour after they end, at most 100 of them.
//
// Layout added to the data dir (see docs/metric-filters.md for why):
//
//	identity.json  the account and region, written once (temporary file,
//	               fsync, rename)
//	metrics.db     bbolt: filter definitions, alarms (definition, state,
//	               history), the statistics of every metric bucket (10 s) as
//	               the engine summed them (not every datapoint), the
//	               default-value minute markers, and the event-time watermark
package logsvc
