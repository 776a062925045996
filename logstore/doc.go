// Package logstore is vpcflow's embedded CloudWatch-Logs-like store: log
// groups, log streams and their events, with the naming rules, limits and
// retention of CloudWatch Logs (docs/aws-behaviour.md, "Log groups, streams
// and events"). It exists so that flow logs can be delivered, searched and
// queried on one machine without AWS.
//
// Layout of a data dir (see docs/logstore.md for why):
//
//	LOCK              flock'd by the owning process; holds its PID, a
//	                  description of it and its API endpoint, if any, so
//	                  another opener's error says who to ask or stop
//	meta.db           bbolt: groups and streams (names, ids, settings)
//	g/<gid>/<day>.db  bbolt: the events of one group for one UTC day
//
// Each event is written once per group slice, keyed by (timestamp, seq), so a
// group scan is one sequential cursor walk; a per-stream index bucket serves
// GetLogEvents. Retention deletes whole day files; expired events inside a
// partially expired day are hidden from every read at once ([Choice]).
package logstore
