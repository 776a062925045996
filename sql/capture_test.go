package sql

import (
	"os"
	"testing"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

// tempDirs are removed after the tests (benchmark data sets).
var tempDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.Cleanup() // the binary with DuckDB is ~75 MB
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// runVpcflow runs the binary and fails the test on a non-zero exit.
func runVpcflow(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := e2e.Run(t, e2e.Options{}, args...)
	if code != 0 {
		t.Fatalf("vpcflow %v: exit %d\n%s", args, code, errOut)
	}
	return out
}
