// Package logsapi answers the CloudWatch Logs API (JSON 1.1, target prefix
// Logs_20140328) over a log service (package logsvc), so that awscli, the
// SDKs and tools such as Terraform read and write vpcflow's log groups
// unchanged, with only --endpoint-url pointing at `vpcflow serve`.
//
// The HTTP front reads the body, checks the SigV4 signature and calls
// Handler.Serve with the action (the part of X-Amz-Target after
// "Logs_20140328."); this package decodes the JSON request, checks its shape
// as the service model describes it, calls the logsvc.Service operation and
// writes the JSON answer or error. docs/api-logs.md lists the actions, the
// errors and what is left out.
//
// # Protocol
//
// As the CloudWatch Logs API reference describes it
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/Welcome.html,
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/CommonErrors.html):
//
//   - Requests: POST /, X-Amz-Target: Logs_20140328.<Action>, a JSON object
//     with lowerCamelCase members; an empty body is {}; unknown members and
//     null values are ignored (null is an absent member).
//   - Answers: HTTP 200, Content-Type application/x-amz-json-1.1, a JSON
//     object ({} when the action returns nothing). Timestamps are epoch
//     milliseconds as JSON numbers, except StartQuery's startTime and
//     endTime, which are epoch seconds.
//   - Errors: {"__type":"<Code>","message":"<text>"} with the code also in
//     the X-Amzn-ErrorType header; HTTP 400, except
//     ServiceUnavailableException (500).
//   - Shape violations (a missing required member, a length, range, enum or
//     pattern constraint) are InvalidParameterException with AWS's
//     validation text: "1 validation error detected: Value 'x' at 'member'
//     failed to satisfy constraint: Member must ...", and "Value null at"
//     for a missing member; several are counted and joined with "; ".
//
// The handler keeps no state of its own: log groups, their tags, events,
// metric filters and queries are the service's, so a restart of `vpcflow
// serve` keeps everything but the results of Insights queries.
package logsapi
