package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// vpcflowBinary builds the real binary once per test run, so end-to-end
// tests exercise exactly what users run.
func vpcflowBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpcflow-e2e")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "vpcflow")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = &buildError{out: string(out), err: err}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// runBinary runs the binary with stdin and returns stdout, stderr and the
// exit status.
func runBinary(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	return execBinary(t, execOptions{stdin: stdin}, args...)
}

// execOptions are the less common settings of a binary run.
type execOptions struct {
	dir   string   // working directory ("" = the package directory)
	env   []string // added to the environment
	stdin []byte
}

// execBinary runs the binary and returns stdout, stderr and the exit status.
func execBinary(t *testing.T, o execOptions, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(vpcflowBinary(t), args...)
	cmd.Dir = o.dir
	if len(o.env) > 0 {
		cmd.Env = append(os.Environ(), o.env...)
	}
	cmd.Stdin = bytes.NewReader(o.stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
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
