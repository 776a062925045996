package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	vsql "github.com/vpcflow/vpcflow/sql"
)

// maxSQLRows caps the rows a SQL answer carries; the page says when more
// were there.
const maxSQLRows = 1000

// sqlTimeout bounds one SQL query.
const sqlTimeout = 2 * time.Minute

// sqlAtOnce bounds the SQL queries running at once.
const sqlAtOnce = 2

// sql runs a query over the objects of a bucket (or of a prefix in it),
// the table vpcflow sql opens, and returns the first rows.
func (c *Console) sql(ctx context.Context, body json.RawMessage) (any, error) {
	var in struct {
		Bucket string `json:"bucket"`
		Prefix string `json:"prefix"`
		Query  string `json:"query"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	dir := c.bucketDirs().Dir(in.Bucket)
	if dir == "" {
		return nil, badRequest("bucket %q: not a bucket name", in.Bucket)
	}
	if p := strings.Trim(in.Prefix, "/"); p != "" {
		clean := path.Clean(p)
		if clean != p || strings.HasPrefix(clean, "..") {
			return nil, badRequest("prefix %q: want a key prefix such as AWSLogs/123456789012", in.Prefix)
		}
		dir = path.Join(dir, clean)
	}
	if strings.TrimSpace(in.Query) == "" {
		return nil, badRequest("query: write a SQL statement over vpc_flow_logs")
	}
	ctx, cancel := context.WithTimeout(ctx, sqlTimeout)
	defer cancel()
	// Each query opens its own DuckDB over the objects: a few at a time,
	// the others wait their turn (or their timeout).
	select {
	case c.sqlSlots <- struct{}{}:
		defer func() { <-c.sqlSlots }()
	case <-ctx.Done():
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "Busy", Message: "other SQL queries are running: try again"}
	}
	tb, err := vsql.Open(ctx, dir, vsql.Options{})
	if err != nil {
		return nil, badRequest("%v", err)
	}
	defer tb.Close()
	// The statement is the user's: it may read the bucket's objects and
	// nothing else of the machine (no other file, no COPY TO, no ATTACH,
	// no extension), and may not undo that.
	for _, q := range []string{
		"SET allowed_directories = ['" + strings.ReplaceAll(dir, "'", "''") + "']",
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := tb.DB().ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("sql: confining the query: %w", err)
		}
	}
	problems := []string{}
	for i, p := range tb.Problems {
		if i == 20 {
			problems = append(problems, fmt.Sprintf("... and %d more", len(tb.Problems)-i))
			break
		}
		problems = append(problems, p.Error())
	}
	rows, err := tb.DB().QueryContext(ctx, in.Query)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := [][]*string{}
	truncated := false
	for rows.Next() {
		if len(out) == maxSQLRows {
			truncated = true
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, badRequest("%v", err)
		}
		row := make([]*string, len(cols))
		for i, v := range vals {
			row[i] = sqlText(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, badRequest("%v", err)
	}
	return map[string]any{"columns": cols, "rows": out, "truncated": truncated, "objects": len(tb.Files),
		"problems": problems, "skippedObjects": tb.SkippedFiles, "skippedLines": tb.SkippedLines}, nil
}

// sqlText renders a value as vpcflow sql prints it; NULL is nil.
func sqlText(v any) *string {
	var s string
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		s = x
	case int32:
		s = strconv.FormatInt(int64(x), 10)
	case int64:
		s = strconv.FormatInt(x, 10)
	case *big.Int:
		s = x.String()
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case time.Time:
		s = x.UTC().Format("2006-01-02 15:04:05.000")
	case []byte:
		s = string(x)
	default:
		s = fmt.Sprint(v)
	}
	return &s
}
