// Command fsdiff finds the state on an erased-at-boot NixOS root that the
// configuration does not declare. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	// An audit's heap is mostly large chunks without pointers (the sweep's
	// records, classify.List), which a collection does not scan: collecting
	// at a quarter of growth instead of doubling costs little CPU and
	// keeps peak memory near what is live (issue 12: 300,000 changed paths
	// in 76 MiB instead of 92). GOGC set by the user wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
