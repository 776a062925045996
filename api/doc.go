// Package api is the HTTP front of `vpcflow serve`: one listener for the
// service's health and Prometheus metrics today, and the AWS protocols
// (EC2 and IAM Query, CloudWatch Logs JSON, S3 REST, SigV4) as they land.
//
// It exists so protocol translation has one home that holds no state: every
// request becomes a call of a region.Region method, so the API, the CLI and
// the web console drive the same service code.
package api
