package objsink_test

import (
	"bytes"
	"testing"

	"github.com/vpcflow/vpcflow/sql"
)

// Flow-log objects uploaded through the S3 sink into `vpcflow serve` are
// the table DuckDB reads (package sql): every record a row, nothing left
// out.
func TestDuckDBReadsUploads(t *testing.T) {
	credentialsFromEnv(t)
	s := startServer(t)
	lines := benchLines()[:20000]
	w := newWriter(t, newS3Sink(t, s, "", nil), t.TempDir())
	for _, o := range benchObjects(nil, lines) {
		if err := w.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data))); err != nil {
			t.Fatal(err)
		}
	}
	tab, err := sql.Open(ctx, s.r.BucketDir(bucket), sql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if tab.Rows != int64(len(lines)) || len(tab.Problems) != 0 {
		t.Errorf("DuckDB read %d rows (problems %v), want %d", tab.Rows, tab.Problems, len(lines))
	}
	var accepted int64
	if err := tab.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+tab.View()+" WHERE action = 'ACCEPT' AND interface_id = 'eni-0a000000000000000'").Scan(&accepted); err != nil {
		t.Fatal(err)
	}
	// benchLines gives interface i%64 to record i: 20000/64 rounded up.
	if accepted != 313 {
		t.Errorf("records of eni-0a000000000000000: %d, want 313", accepted)
	}
}
