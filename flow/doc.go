// Package flow aggregates packet observations into flow-log flows: one entry
// per capture point (an ENI at one aggregation interval) per unidirectional
// flow key per capture window, with packets and bytes summed, first and last
// packet times, and TCP flags OR-ed, exactly as AWS aggregates.
//
// It exists so the hot path of vpcflow — millions of packets per second — has
// one owner with a measured budget: no allocation per packet, memory bounded
// by what the tables really allocate (new flows beyond the budget are
// dropped and their packets counted, and the window is marked for a SKIPDATA
// record), and work spread across cores by sharding capture points over
// goroutines.
//
// Windows close on event time (packet timestamps), aligned to multiples of
// the interval in Unix time, so replaying a capture gives the same flows as
// observing it live. What the flows become — records, formats, traffic-type
// filters, NODATA — is decided downstream by package flowlog.
package flow
