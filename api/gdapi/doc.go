// Package gdapi serves a subset of Amazon GuardDuty's API (REST-JSON,
// SigV4 signing name "guardduty") over the findings of a running
// service's detection: ListDetectors, GetDetector, ListFindings (finding
// criteria, sort criteria, pages), GetFindings, ArchiveFindings and
// UnarchiveFindings.
//
// It exists so that the tools people already use against GuardDuty (awscli,
// the SDKs, scripts that triage findings) work unchanged against vpcflow's
// findings. It holds no state: every request becomes a call of a Backend
// method (region.Region's), which the web console calls as well. What is
// supported and where it differs from AWS is in docs/api-guardduty.md.
package gdapi
