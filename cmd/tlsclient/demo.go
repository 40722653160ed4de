package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// demoTimeout bounds each scenario's dial; everything is on 127.0.0.1.
const demoTimeout = 10 * time.Second

func demoUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: tlsclient demo [flags]

Demo runs tlsclient against servers it starts on 127.0.0.1 with an
in-process PKI, fully offline, judging every certificate and response at the
fixed time `+stamp(testpki.Now)+`. Each scenario (a good server, a
wrong host name, an expired certificate, an unknown CA, a TLS 1.1-only
server, a revoked or stale staple, a must-staple certificate without a
staple...) is dialled and its outcome compared with what tlsclient must do.
It prints a table of scenario, expected outcome, actual outcome and PASS or
FAIL, each row followed by one line: the error, or a summary of the checks
and warnings.

Flags:

`)
	fs := newDemoFlags(new(demoFlags))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Exit codes:

  0  every scenario behaved as expected
  1  at least one scenario did not
  2  usage error, or the demo could not set up its PKI
`)
}

// demoFlags are the demo's flags.
type demoFlags struct {
	verbose bool
	run     string
}

func newDemoFlags(f *demoFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.BoolVar(&f.verbose, "v", false, "also print the full report of each scenario")
	fs.StringVar(&f.run, "run", "", "run only the scenarios whose name matches this `regexp`")
	return fs
}

// demoResult is how one scenario went.
type demoResult struct {
	sc     scenario
	err    error             // the dial's error, or the setup's
	setup  bool              // err is a setup failure
	report *tlsclient.Report // the handshake's report, when there is one
	pass   bool
}

func (r demoResult) actual() string {
	if r.setup {
		return "setup error"
	}
	return outcomeLabel(r.err, r.report)
}

// detail is the one line printed under a row: the error, or what was checked.
func (r demoResult) detail() string {
	if r.err != nil {
		return r.err.Error()
	}
	if r.report == nil {
		return ""
	}
	parts := make([]string, 0, len(r.report.Checks))
	for _, c := range r.report.Checks {
		parts = append(parts, c.Verifier+" "+c.Outcome.String())
	}
	line := fmt.Sprintf("%s; checks: %s", r.report.Version, strings.Join(parts, ", "))
	for _, c := range r.report.Find(tlsclient.Warning) {
		why := c.Error
		if why == "" {
			why = c.Detail
		}
		line += fmt.Sprintf("; %s warning: %s", c.Verifier, why)
	}
	return line
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f demoFlags
	fs := newDemoFlags(&f)
	pos, code, done := parseArgs(fs, args, demoUsage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return usageError(stderr, "demo", "unexpected arguments: %s", strings.Join(pos, " "))
	}
	var filter *regexp.Regexp
	if f.run != "" {
		var err error
		if filter, err = regexp.Compile(f.run); err != nil {
			return usageError(stderr, "demo", "--run: %v", err)
		}
	}
	selected := make([]scenario, 0, len(scenarios))
	for _, sc := range scenarios {
		if filter == nil || filter.MatchString(sc.name) {
			selected = append(selected, sc)
		}
	}
	if len(selected) == 0 {
		return usageError(stderr, "demo", "no scenario matches --run %q", f.run)
	}
	pki, err := newDemoPKI()
	if err != nil {
		fmt.Fprintf(stderr, "tlsclient demo: building the PKI: %v\n", err)
		return exitUsage
	}

	fmt.Fprintf(stdout, "tlsclient demo: %d scenario(s) on 127.0.0.1, verified at %s\n\n", len(selected), stamp(testpki.Now))
	results := make([]demoResult, 0, len(selected))
	for _, sc := range selected {
		results = append(results, runScenario(ctx, pki, sc))
	}
	return printDemo(stdout, results, f.verbose)
}

// runScenario sets sc up, dials, and stops what it started.
func runScenario(ctx context.Context, pki *demoPKI, sc scenario) demoResult {
	env := &demoEnv{demoPKI: pki}
	defer env.close()
	res := demoResult{sc: sc}
	addr, opts, err := safeSetup(sc, env)
	if err != nil {
		res.err, res.setup = err, true
		return res
	}
	opts = append(opts, tlsclient.WithTime(testpki.Clock()), tlsclient.WithTimeout(demoTimeout))
	conn, err := tlsclient.DialContext(ctx, "tcp", addr, opts...)
	res.err = err
	var ve *tlsclient.VerificationError
	switch {
	case err == nil:
		res.report = conn.Report()
		conn.Close()
	case errors.As(err, &ve):
		res.report = ve.Report
	}
	res.pass = sc.want.match(err, res.report)
	return res
}

// safeSetup runs sc.setup, turning a panic (a bug in a scenario) into a
// setup error so that the other scenarios still run.
func safeSetup(sc scenario, env *demoEnv) (addr string, opts []tlsclient.Option, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("setup of %q panicked: %v", sc.name, r)
		}
	}()
	return sc.setup(env)
}

// printDemo writes the table and returns the exit code.
func printDemo(w io.Writer, results []demoResult, verbose bool) int {
	head := [3]string{"SCENARIO", "EXPECTED", "ACTUAL"}
	width := [3]int{len(head[0]), len(head[1]), len(head[2])}
	for _, r := range results {
		width[0] = max(width[0], len(r.sc.name))
		width[1] = max(width[1], len(r.sc.want.label))
		width[2] = max(width[2], len(r.actual()))
	}
	row := func(a, b, c, d string) {
		fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", width[0], a, width[1], b, width[2], c, d)
	}
	row(head[0], head[1], head[2], "RESULT")
	failed := 0
	for _, r := range results {
		verdict := "PASS"
		if !r.pass {
			verdict = "FAIL"
			failed++
		}
		row(r.sc.name, r.sc.want.label, r.actual(), verdict)
		if d := r.detail(); d != "" {
			fmt.Fprintf(w, "    %s\n", d)
		}
		if verbose && r.report != nil {
			var b strings.Builder
			printReport(&b, r.report, r.err != nil)
			for _, line := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
				fmt.Fprintf(w, "      | %s\n", line)
			}
		}
	}
	fmt.Fprintln(w)
	if failed > 0 {
		fmt.Fprintf(w, "%d of %d scenario(s) did not behave as expected\n", failed, len(results))
		return exitFailed
	}
	fmt.Fprintf(w, "all %d scenario(s) behaved as expected\n", len(results))
	return exitOK
}
