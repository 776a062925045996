// Package objsink writes finished objects by key to where they are kept:
// a local directory (a bucket stood for by a folder, as `vpcflow pcap
// --out DIR` writes) or an S3-compatible object store (AWS S3, `vpcflow
// serve`'s S3 API, MinIO and the like).
//
// It exists so that flow-log objects produced on one machine can be
// gathered off it without losing any: a Writer tries its sink, retries
// with backoff, and when the store stays unreachable keeps the object in
// a spool directory, from which it is replayed at the next start and
// periodically until the store takes it. Every object is counted on the
// way (Stats and Prometheus counters): put, retried, spooled, replayed,
// and the few that could not even be spooled, whose error the caller
// gets.
//
// Objects are put whole and atomically: the local sink writes a
// temporary file and renames it; the S3 sink uses one PutObject for small
// objects and a multipart upload (completed only when every part is in)
// for large ones, each request carrying its Content-MD5, so a store never
// shows part of an object.
//
// Parse reads a destination: "s3://BUCKET[/PREFIX]" or a directory.
// docs/scale-out.md shows how the pieces fit.
package objsink
