// Command concord-load measures a concord server on loopback: it starts the
// binary on a fresh database, then reports
//
//	(a) events/s for sequential sends into one room,
//	(b) events/s for concurrent senders, each in its own room,
//	(c) send-to-sync latency (p50/p95/p99) from a send returning to the
//	    event arriving in another user's /sync,
//	(d) the server's resident memory idle and after the load.
//
// Every loop is bounded in count and time; it only talks to 127.0.0.1.
//
//	concord-load -bin ./bin/concord -backend sqlite
//	concord-load -bin ./bin/concord -backend postgres -postgres postgres://...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

type options struct {
	bin         string
	backend     string
	postgres    string
	sequential  int
	senders     int
	perSender   int
	latencyRuns int
	cpuProfile  string
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/concord", "concord binary to run")
	flag.StringVar(&o.backend, "backend", "sqlite", "sqlite or postgres")
	flag.StringVar(&o.postgres, "postgres", "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"PostgreSQL server to create a scratch database on (postgres backend)")
	flag.IntVar(&o.sequential, "sequential", 2000, "sends into one room, one after another")
	flag.IntVar(&o.senders, "senders", 50, "concurrent senders, each in its own room")
	flag.IntVar(&o.perSender, "per-sender", 100, "sends per concurrent sender")
	flag.IntVar(&o.latencyRuns, "latency-runs", 300, "send-to-sync latency samples")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write the server's CPU profile of the concurrent phase to this file")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "concord-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	srv, err := startServer(ctx, o)
	if err != nil {
		return err
	}
	defer srv.stop()
	time.Sleep(time.Second)
	fresh := srv.rssMiB()
	users, err := registerUsers(ctx, srv, o.senders+2)
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	idle := srv.rssMiB()

	seq, err := sequentialSends(ctx, srv, users[0], o.sequential)
	if err != nil {
		return fmt.Errorf("sequential sends: %w", err)
	}
	profiled := make(chan error, 1)
	if o.cpuProfile != "" {
		go func() { profiled <- srv.cpuProfile(ctx, o.cpuProfile, 2) }()
	} else {
		profiled <- nil
	}
	conc, err := concurrentSends(ctx, srv, users[2:], o.perSender)
	if perr := <-profiled; perr != nil {
		fmt.Fprintln(os.Stderr, "concord-load: profile:", perr)
	}
	if err != nil {
		return fmt.Errorf("concurrent sends: %w", err)
	}
	lat, err := syncLatency(ctx, srv, users[0], users[1], o.latencyRuns)
	if err != nil {
		return fmt.Errorf("sync latency: %w", err)
	}
	loaded := srv.rssMiB()
	fmt.Printf("backend %s\n", o.backend)
	fmt.Printf("  (a) sequential sends, one room:   %8.0f events/s  (%d events)\n", seq, o.sequential)
	fmt.Printf("  (b) %d concurrent senders:        %8.0f events/s  (%d events)\n", o.senders, conc, o.senders*o.perSender)
	fmt.Printf("  (c) send-to-sync latency:         p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  (%d samples)\n",
		lat.p50, lat.p95, lat.p99, o.latencyRuns)
	fmt.Printf("  (d) RSS:                          idle %.1f MiB (fresh), %.1f MiB (%d users and rooms set up), after load %.1f MiB\n",
		fresh, idle, len(users), loaded)
	return nil
}
