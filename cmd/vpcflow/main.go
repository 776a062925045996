// Command vpcflow turns packets from any network into AWS-compatible VPC flow logs
// and gives the tools to search and analyse them.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the CLI with args and returns the process exit status, so
// tests can drive the whole command tree in-process.
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "vpcflow:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "vpcflow:", err)
	if isUsageError(err) {
		return 2
	}
	return 1
}
