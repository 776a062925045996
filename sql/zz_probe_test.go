package sql

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestZZProbe(t *testing.T) {
	for i := 0; i < 1; i++ {
	dir := t.TempDir()
	writeObject(t, dir, "a.log.gz", gz(t, header+"2 1 eni-good 10.0.0.1 10.0.0.2 1 2 6 3 100 1710000000 1710000010 ACCEPT OK\n"))
	b, _ := os.ReadFile("/tmp/p6hang.gz")
	writeObject(t, dir, "b.log.gz", b)
	fmt.Println("open")
	tb, err := Open(context.Background(), dir, Options{})
	fmt.Println("opened", err, tb.Problems)
	for _, q := range []string{"SELECT count(*) FROM flowlogs", "SELECT count(*) FROM (SELECT * FROM flowlogs)"} {
		r, err := tb.Query(context.Background(), q)
		fmt.Println(i, q, r, err)
	}
	tb.Close()
	}
}
