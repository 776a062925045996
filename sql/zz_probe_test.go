package sql

import (
	"context"
	"fmt"
	"testing"
)

func TestZZProbe(t *testing.T) {
	tb, err := Open(context.Background(), "/tmp/p6fl", Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(tb.Files, tb.Rows, tb.Problems)
	for _, q := range []string{"DESCRIBE flowlogs", "SELECT count(*), sum(bytes), min(region), min(day) FROM flowlogs", "SELECT from_unixtime(1700000000)", "SELECT to_timestamp(1700000000)", "SELECT * FROM flowlogs LIMIT 2"} {
		r, err := tb.Query(context.Background(), q)
		if err != nil {
			fmt.Println("ERR", err)
			continue
		}
		fmt.Println(r.Columns, r.Types)
		for _, row := range r.Rows {
			fmt.Printf("  %#v\n", row)
		}
	}
}
