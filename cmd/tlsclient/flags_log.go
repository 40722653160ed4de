package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tlsclient/tlsclient"
)

// The logging flag of connect: the library's events on standard error.
func init() {
	optionGroups = append(optionGroups, func() optionFlags { return new(logFlags) })
}

// logFlags turn --log into tlsclient.WithLogger.
type logFlags struct {
	level  *slog.Level
	stderr io.Writer
}

func (*logFlags) section() (int, string) { return rankOutput, "Output" }

func (f *logFlags) register(fs *flag.FlagSet) {
	fs.Func("log", "log what the checks do (fetches, cache lookups, decisions) on standard error, at this `level`: debug (everything), info (warnings too), warn (failures only)", func(s string) error {
		var l slog.Level
		switch strings.ToLower(s) {
		case "debug":
			l = slog.LevelDebug
		case "info":
			l = slog.LevelInfo
		case "warn":
			l = slog.LevelWarn
		default:
			return fmt.Errorf("want debug, info or warn")
		}
		f.level = &l
		return nil
	})
}

// setOutput implements outputFlags.
func (f *logFlags) setOutput(_, stderr io.Writer) { f.stderr = stderr }

func (f *logFlags) options() ([]tlsclient.Option, error) {
	if f.level == nil {
		return nil, nil
	}
	w := f.stderr
	if w == nil {
		w = io.Discard
	}
	l := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: f.level}))
	return []tlsclient.Option{tlsclient.WithLogger(l)}, nil
}
