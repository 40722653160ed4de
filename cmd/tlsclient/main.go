// Command tlsclient connects to TLS servers with the tlsclient library and
// shows what was verified, like openssl s_client or certigo connect, and
// runs an offline demonstration of the checks.
//
// Usage:
//
//	tlsclient connect [flags] host[:port]
//	tlsclient demo [flags]
//	tlsclient help [command]
//
// Run "tlsclient help connect" or "tlsclient help demo" for the flags, the
// JSON schema and the exit codes. Install it with
//
//	go install github.com/tlsclient/tlsclient/cmd/tlsclient@latest
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit codes, shared by every command.
const (
	exitOK     = 0 // success
	exitFailed = 1 // verification failed (connect), or a scenario did not match (demo)
	exitUsage  = 2 // usage, configuration or network error
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := runContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name) and returns the
// exit code. It is main without the process: tests call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// A command is one subcommand of tlsclient.
type command struct {
	name    string
	summary string
	// run executes the command with its arguments (after the command name).
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	// usage writes the command's complete help.
	usage func(w io.Writer)
}

// commands returns the subcommands, in the order help lists them.
func commands() []command {
	return []command{
		{name: "connect", summary: "dial a server, verify it and print the report", run: runConnect, usage: connectUsage},
		{name: "demo", summary: "run the offline demonstration scenarios", run: runDemo, usage: demoUsage},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		mainUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			c, ok := findCommand(args[1])
			if !ok {
				fmt.Fprintf(stderr, "tlsclient: unknown command %q\n\n", args[1])
				mainUsage(stderr)
				return exitUsage
			}
			c.usage(stdout)
			return exitOK
		}
		mainUsage(stdout)
		return exitOK
	}
	c, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "tlsclient: unknown command %q\n\n", args[0])
		mainUsage(stderr)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, `tlsclient connects to TLS servers and shows what was verified: the
certificate chain and host name (checked by crypto/tls), then the OCSP
staple and any other configured checks, inside the handshake.

Usage:

  tlsclient <command> [flags] [arguments]

Commands:

`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `  help     show the help of a command: tlsclient help connect

Exit codes: 0 success; 1 verification failed (connect) or a scenario did
not behave as expected (demo); 2 usage, configuration or network error.
`)
}
