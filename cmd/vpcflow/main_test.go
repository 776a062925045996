package main

import (
	"os"
	"strings"
	"testing"

	"github.com/vpcflow/vpcflow/internal/e2e"
)

func TestMain(m *testing.M) {
	code := m.Run()
	e2e.Cleanup()
	os.Exit(code)
}

// vpcflowBinary is the real binary, built once per test run, so end-to-end
// tests exercise exactly what users run.
func vpcflowBinary(t *testing.T) string { return e2e.Binary(t) }

// runBinary runs the binary with stdin and returns stdout, stderr and the
// exit status.
func runBinary(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	return e2e.Run(t, e2e.Options{Stdin: stdin}, args...)
}

// execOptions are the less common settings of a binary run.
type execOptions = e2e.Options

// execBinary runs the binary and returns stdout, stderr and the exit status.
func execBinary(t *testing.T, o execOptions, args ...string) (string, string, int) {
	t.Helper()
	return e2e.Run(t, o, args...)
}

func TestRootHelp(t *testing.T) {
	out, _, code := runBinary(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "records") {
		t.Errorf("help: code %d\n%s", code, out)
	}
	_, errOut, code := runBinary(t, nil, "no-such-command")
	if code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: code %d, %s", code, errOut)
	}
}
