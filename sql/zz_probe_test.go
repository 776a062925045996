package sql

import (
	dbsql "database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestZZProbe(t *testing.T) {
	db, err := dbsql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.log"), []byte("version action srcport\n2 ACCEPT 5\n2 - -\nx ACCEPT 7\n2 OK 1 2\n"), 0o644)
	q := func(s string) {
		rows, err := db.Query(s)
		if err != nil {
			fmt.Println("ERR", s, err)
			return
		}
		cols, _ := rows.Columns()
		fmt.Println(s, cols)
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			rows.Scan(p...)
			fmt.Printf("  %#v\n", v)
		}
		if rows.Err() != nil {
			fmt.Println("ROWERR", rows.Err())
		}
	}
	q("SELECT version()")
	src := fmt.Sprintf(`read_csv('%s/*.log', delim=' ', header=true, nullstr='-', force_not_null=['action'], columns={'version':'INTEGER','action':'VARCHAR','srcport':'INTEGER'}, store_rejects=true, filename=true, auto_detect=false)`, dir)
	q("SELECT * FROM " + src)
	q("SELECT * FROM reject_errors")
	q("CREATE VIEW v AS SELECT * FROM " + src)
	q("SELECT count(*) FROM v")
	q("SELECT count(*) FROM v")
	q("SELECT * FROM reject_errors")
	q("SELECT * FROM reject_scans")
}
