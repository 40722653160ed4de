package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseArgs parses args with fs and returns the positional arguments. Flags
// may come before or after positional arguments ("connect example.com
// --json" works); "--" ends the flags. When parsing stops, code is the exit
// code to return and done is true: --help prints usage to stdout and exits
// 0; a bad flag prints the error and a hint to stderr and exits 2.
func parseArgs(fs *flag.FlagSet, args []string, usage func(io.Writer), stdout, stderr io.Writer) (positional []string, code int, done bool) {
	var msg bytes.Buffer
	fs.SetOutput(&msg)
	fs.Usage = func() {} // help is printed below, to the right stream
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return nil, exitOK, true
		}
		if err != nil {
			io.Copy(stderr, &msg)
			fmt.Fprintf(stderr, "Run 'tlsclient help %s' for usage.\n", fs.Name())
			return nil, exitUsage, true
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), 0, false
		}
		if len(rest) == 0 {
			return positional, 0, false
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a usage problem found after parsing and returns the
// usage exit code.
func usageError(stderr io.Writer, cmd, format string, a ...any) int {
	fmt.Fprintf(stderr, "tlsclient %s: %s\nRun 'tlsclient help %s' for usage.\n", cmd, fmt.Sprintf(format, a...), cmd)
	return exitUsage
}
