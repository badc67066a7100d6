// Command vigil is Vigil's single binary: the server, the demo and every
// management command. It only parses flags, calls internal packages and
// prints; the work happens in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(os.Stdout, os.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		if code := exitCode(0); errors.As(err, &code) {
			stop()
			os.Exit(int(code))
		}
		fmt.Fprintf(os.Stderr, "vigil: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// exitCode is returned by commands that have already printed what went wrong
// and only need a non-zero exit status (e.g. "flows run" printing a fault).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
