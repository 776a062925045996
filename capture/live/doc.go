// Package live captures frames from Linux network interfaces through
// AF_PACKET TPACKET_V3 rings (gopacket's afpacket, pure Go, no libpcap).
//
// It exists so that a live interface is one more capture.Source to the
// pipeline, with what files do not have: frames arrive on their own time,
// so reader goroutines copy them out of the kernel's rings into a bounded
// queue and Next never blocks (capture.ErrNotReady when nothing waits, and
// a callback says when something does); frames can be lost in the kernel
// when the ring is full, so the kernel's drop and freeze counters are read
// every second and by the consumer before it closes a window, never hidden.
//
// [Choice] frames are copied out of the ring rather than read in place by
// the consumer: the copy runs on the reader goroutine, in parallel with
// decoding, and lets the ring's block go back to the kernel at once
// (BenchmarkHandoff measures both; docs/live-capture.md has the numbers).
package live
