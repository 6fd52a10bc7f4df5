// Command concord is the Concord Matrix homeserver.
//
//	concord                      start the server (same as "concord run")
//	concord run [--config FILE]
//	concord generate-config      print a complete, commented configuration
//	concord create-account --username NAME [--password PW] [--admin] [--config FILE]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dispatch(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "concord:", err)
		os.Exit(1)
	}
}

func dispatch(ctx context.Context, args []string) error {
	cmd := "run"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "run":
		return run(ctx, args)
	case "generate-config":
		return generateConfig(args)
	case "create-account":
		return createAccount(ctx, args)
	case "help":
		fmt.Println("usage: concord [run|generate-config|create-account] [flags]")
		return nil
	default:
		return fmt.Errorf("unknown command %q (want run, generate-config or create-account)", cmd)
	}
}
