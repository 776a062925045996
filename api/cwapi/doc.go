// Package cwapi answers the CloudWatch API (metrics and alarms, API version
// 2010-08-01, signing name "monitoring") over a log service (package
// logsvc), whose metric filters write the metrics and which keeps and
// evaluates the alarms. It exists so `aws cloudwatch ...`, the SDKs and
// tools built on them read vpcflow's metrics and drive its alarms
// unchanged, with only the endpoint pointing at `vpcflow serve`.
//
// # Protocols
//
// CloudWatch speaks three protocols, and clients of different ages use
// different ones, so all three are served by the same actions:
//
//   - Query (awscli 2.9 and older SDKs): POST / with a form,
//     Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=x;
//     answers are XML documents in the namespace
//     http://monitoring.amazonaws.com/doc/2010-08-01/, times written
//     2026-12-07T17:00:00.000Z; errors are
//     <ErrorResponse><Error><Type>Sender</Type><Code>..</Code><Message>..</Message></Error><RequestId>..</RequestId></ErrorResponse>
//     (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/making-api-requests.html).
//   - Smithy RPC v2 CBOR (aws-sdk-go-v2's cloudwatch client since 2025,
//     current botocore): POST /service/GraniteServiceVersion20100801/operation/<Action>
//     with Smithy-Protocol: rpc-v2-cbor and a CBOR map of the members;
//     answers are CBOR maps, times tag 1 over epoch seconds; errors are
//     {"__type": "com.amazonaws.cloudwatch#<Shape>", "message": ...} with
//     the Query code in X-Amzn-Query-Error ("ResourceNotFound;Sender"),
//     since the service is marked awsQueryCompatible
//     (https://smithy.io/2.0/additional-specs/protocols/smithy-rpc-v2.html,
//     https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait).
//   - AWS JSON 1.0 (botocore of 2025 on, so boto3 and newer awscli): POST /
//     with X-Amz-Target: GraniteServiceVersion20100801.<Action> and a JSON
//     object; times are epoch seconds; errors as for CBOR, in JSON
//     (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
//
// A request is decoded into an input (input.go) whichever protocol carried
// it, an action reads its members from there, and its answer is one Go
// struct written as XML, CBOR or JSON (encode.go, json.go). Member names in error
// messages are the Query protocol's ("MetricDataQueries.member.2.Id"), as
// CloudWatch writes them.
//
// The HTTP front reads the body, checks the SigV4 signature and calls
// Handler.Serve (Query), Handler.ServeCBOR or Handler.ServeJSON. The
// handler keeps no state; docs/api-cloudwatch.md lists the actions, members, errors and what is
// left out. CBOR is decoded with smithy-go's encoding/cbor, the decoder of
// the SDKs themselves (bounded nesting, no allocation from declared
// lengths); its API is marked internal to the SDKs, so an upgrade of
// smithy-go may need this package adjusted.
package cwapi
