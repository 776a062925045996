// Package insights runs CloudWatch Logs Insights (CWLI) queries over log
// events, so that flow logs kept in the embedded log store can be explored the
// way AWS users already explore them.
//
// It exists on its own, away from storage, because the same engine serves the
// CLI (`vpcflow logs query`) and the StartQuery/GetQueryResults API: both hand
// it a Source of events and get back rows and statistics. Parse turns a query
// into a Query (with positioned errors); Query.Run executes it.
//
// Values read from event messages alias the message bytes while an event is
// processed and are copied only when kept (group keys, output rows), which is
// what lets `stats ... by` run without allocating per event.
package insights
