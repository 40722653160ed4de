package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
)

// An optionFlags is a group of connect flags that turns into tlsclient
// options. A group registers its flags on the command's FlagSet; once the
// command line is parsed, options returns what the flags ask for (or an
// error naming the bad flag). Verifier groups (--ocsp, --crl,
// --ct-log-list...) add themselves to optionGroups from their own files:
//
//	func init() { optionGroups = append(optionGroups, func() optionFlags { return new(revocationFlags) }) }
type optionFlags interface {
	register(fs *flag.FlagSet)
	options() ([]tlsclient.Option, error)
	// section places the group in the help and in the verifier order
	// (lower rank first) and titles its flags in the help.
	section() (rank int, title string)
}

// Ranks of the flag groups: connection first, then the verifiers in the
// order they run (cheap and decisive checks first, those that may fetch
// last), then output.
const (
	rankConnection = iota * 10
	rankPin
	rankCT
	rankRevocation
	rankOutput
)

// An outputFlags is a group that writes to the command's output (--log):
// it is given the command's streams before options is called.
type outputFlags interface {
	setOutput(stdout, stderr io.Writer)
}

// optionGroups makes a fresh set of flag groups for each run, so that runs
// (and tests) never share flag values. Options are applied in this order.
var optionGroups = []func() optionFlags{
	func() optionFlags { return new(tlsFlags) },
}

// newOptionFlags instantiates every group and registers its flags on fs.
func newOptionFlags(fs *flag.FlagSet) []optionFlags {
	groups := make([]optionFlags, 0, len(optionGroups))
	for _, mk := range optionGroups {
		groups = append(groups, mk())
	}
	slices.SortStableFunc(groups, func(a, b optionFlags) int {
		ra, _ := a.section()
		rb, _ := b.section()
		return cmp.Compare(ra, rb)
	})
	for _, g := range groups {
		g.register(fs)
	}
	return groups
}

// buildOptions turns parsed flags into options, in group order. Groups
// that write output are given stdout and stderr first.
func buildOptions(groups []optionFlags, stdout, stderr io.Writer) ([]tlsclient.Option, error) {
	var opts []tlsclient.Option
	for _, g := range groups {
		if og, ok := g.(outputFlags); ok {
			og.setOutput(stdout, stderr)
		}
		o, err := g.options()
		if err != nil {
			return nil, err
		}
		opts = append(opts, o...)
	}
	return opts, nil
}

// tlsFlags are the connection flags: trust, name, clock, timeout, ALPN.
type tlsFlags struct {
	caFiles    []string
	serverName string
	at         time.Time
	timeout    time.Duration
	alpn       string
}

func (*tlsFlags) section() (int, string) { return rankConnection, "Connection" }

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.Func("ca", "trust the CA certificates of this PEM `file` instead of the system roots (repeatable)", func(s string) error {
		if s == "" {
			return fmt.Errorf("empty file name")
		}
		f.caFiles = append(f.caFiles, s)
		return nil
	})
	fs.StringVar(&f.serverName, "servername", "", "`name` to send in SNI and to verify the certificate against (default: the host)")
	fs.Func("time", "verify at this fixed `time`, in RFC 3339 (e.g. 2026-01-15T12:00:00Z), instead of now", func(s string) error {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("want RFC 3339, e.g. 2026-01-15T12:00:00Z")
		}
		f.at = t
		return nil
	})
	fs.DurationVar(&f.timeout, "timeout", tlsclient.DefaultTimeout, "bound on the whole `duration` of connect, handshake and checks")
	fs.StringVar(&f.alpn, "alpn", "", "comma-separated ALPN `protocols` to offer, in order (e.g. h2,http/1.1)")
}

func (f *tlsFlags) options() ([]tlsclient.Option, error) {
	var opts []tlsclient.Option
	for _, ca := range f.caFiles {
		opts = append(opts, tlsclient.WithCAFile(ca))
	}
	if f.serverName != "" {
		opts = append(opts, tlsclient.WithServerName(f.serverName))
	}
	if !f.at.IsZero() {
		at := f.at
		opts = append(opts, tlsclient.WithTime(func() time.Time { return at }))
	}
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", f.timeout)
	}
	opts = append(opts, tlsclient.WithTimeout(f.timeout))
	if f.alpn != "" {
		var protos []string
		for _, p := range strings.Split(f.alpn, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				return nil, fmt.Errorf("--alpn %q: empty protocol name", f.alpn)
			}
			protos = append(protos, p)
		}
		opts = append(opts, tlsclient.WithNextProtos(protos...))
	}
	return opts, nil
}
