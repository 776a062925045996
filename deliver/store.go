package deliver

import (
	"context"
	"io"

	"github.com/vpcflow/vpcflow/flowlog"
)

// ObjectStore takes finished objects by key. S3Dir encodes an object (gzip
// text or Parquet) into a temporary file; where the finished object goes
// is the store's business, so the format and the transport vary apart:
// objsink.Writer (an S3-compatible store, retried, spooled) and objsink.Dir
// are ObjectStores. Put takes the object whole or not at all and may read
// body more than once.
type ObjectStore interface {
	Put(ctx context.Context, key string, body io.ReaderAt, size int64) error
}

// RecordSink receives every record a Router delivers, as its text line in
// the flow log's format (without the LF), besides its destination:
// `--publish` sends them to Kafka. line is reused once Record returns.
type RecordSink interface {
	Record(fl *flowlog.FlowLog, interfaceID string, line []byte) error
}
