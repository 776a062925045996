// Package kafkasink publishes flow-log records to Kafka, one message per
// record, so that the records of many machines can be gathered and
// consumed as a stream rather than as objects.
//
// A message's key is the record's interface id (so one interface's
// records stay in one partition, in order), its value the record as the
// caller formats it (the text line, or JSON), and the flow log's id rides
// in the "flow-log-id" header; the topic is one for all flow logs, or one
// per flow log (TopicPerFlowLog: PREFIX + the flow log id).
//
// The producer is franz-go's idempotent producer (acks from all in-sync
// replicas, a sequence number per partition), so a batch retried after a
// lost answer or a broker restart is written once and the order per
// partition is kept; batches are compressed with snappy (franz-go's
// default, and of snappy, lz4, zstd and none the least CPU a record with
// the in-process broker). Publish only copies the message into a batch
// (no allocation a message); a goroutine of the producer hands batches to
// the client in order. Retries never give up on their own: a broker that
// is down makes records wait in the buffer, and when the buffer is full
// Publish blocks (back-pressure), which is counted. A record the brokers
// refuse for good (too large, no such topic, not authorised) is counted as
// failed with its error, and Flush returns it: nothing is dropped
// silently.
//
// Parse reads a "kafka://HOST:PORT[,HOST:PORT...]/TOPIC" destination.
package kafkasink
