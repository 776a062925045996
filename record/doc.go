// Package record is the flow-log record: every field of AWS VPC Flow Logs
// record versions 2 to 8 (and the transit-gateway fields), the default and
// custom formats, and the text and NDJSON encodings.
//
// Everything else in vpcflow produces or consumes these records, so this
// package holds the one definition of what a field is called, which version
// introduced it, how its value is written and how it is read back. It does no
// I/O beyond the line reader and never panics on input.
//
// Absent values (written "-" by AWS) are represented without extra flags:
// an empty string, an invalid netip.Addr, an enum's zero value, or Absent (-1)
// for integers, which are never negative in flow logs.
package record
