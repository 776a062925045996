// Package examples holds the example networks and capture of the
// repository's docs. It exists so that `vpcflow demo` can carry the
// scenarios' network (scenarios.yaml) in the binary and run without a
// checkout.
package examples

import _ "embed"

// Scenarios is scenarios.yaml: the VPC the named scenarios run over, with
// its S3 flow log (bucket scenario-flow-bucket, 60 s windows).
//
//go:embed scenarios.yaml
var Scenarios []byte
