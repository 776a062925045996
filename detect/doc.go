// Package detect finds GuardDuty-style threats in flow-log records: port
// scans and sweeps, probes of unprotected ports, SSH and RDP brute force,
// unusual traffic volume, unusual ports and storms of rejected traffic.
//
// It exists so that the records vpcflow produces (or reads from AWS) can be
// judged the way GuardDuty judges VPC Flow Logs, with findings in GuardDuty's
// shape, by one engine that serves both a batch run over delivered files and
// a running service over a record stream. Everything is decided on event
// time (the records' start), never on the clock: records are grouped into
// tumbling windows (10 minutes by default), a window is judged once the
// latest record time has moved past its end by the allowed lateness, and the
// judgement depends only on which records fell into the window, not on the
// order they came in. A batch run and a stream that delivers the same
// records within the lateness therefore give the same findings.
//
// The hot path (Engine.Observe) does one hash-table update per record: the
// record joins the aggregate of its interface, protocol and address pair in
// its window. Everything else, which side of a pair is the interface's own
// address, which pairs are scans, what the baselines say, is worked out when
// the window closes, from the aggregates. State is bounded everywhere
// (interfaces, pairs per window, ports per pair, learned ports, findings);
// what a bound turns away is counted in Stats, never silently lost.
//
// Evidence (the records behind a finding) is not kept on the hot path: a
// Collector takes the findings and a second look at the records (the batch
// command reads its sources again; the service holds the records of the
// windows not judged yet and, as each window is judged, collects for the
// findings it reported, Engine.OnJudged and CollectorFor) and keeps, per
// finding, the records that satisfy the finding's own contribution test,
// capped and counted.
//
// The detectors, their thresholds and their blind spots are described in
// docs/detections.md.
package detect
