package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/revocation"
)

// The revocation flags of connect.
func init() {
	optionGroups = append(optionGroups, func() optionFlags { return new(revocationFlags) })
}

// Values of --staple.
const (
	stapleCheck   = "check"   // the built-in check only (the default)
	stapleRequire = "require" // revocation.Stapled(revocation.RequireStatus())
	stapleOff     = "off"     // revocation checks ignore the staple
)

// revocationFlags turn --ocsp, --crl, --revocation and their policies into
// revocation verifiers.
type revocationFlags struct {
	ocsp, crl, combined               bool
	softFail, leafOnly, requireStatus bool
	staple                            string
	crlFiles                          []string
	mods                              map[string]bool // policy flags set to true
}

func (*revocationFlags) section() (int, string) {
	return rankRevocation, "Revocation (OCSP stapling, OCSP, CRLs)"
}

func (f *revocationFlags) register(fs *flag.FlagSet) {
	f.mods = map[string]bool{}
	boolFlag := func(name, usage string, p *bool, policy bool) {
		fs.BoolFunc(name, usage, func(s string) error {
			v, err := parseBool(s)
			*p = v
			if policy && v {
				f.mods[name] = true
			}
			return err
		})
	}
	boolFlag("ocsp", "ask the OCSP responders named in each certificate (AIA) for its status", &f.ocsp, false)
	boolFlag("crl", "check each certificate against the CRLs of its distribution points (and --crl-file)", &f.crl, false)
	boolFlag("revocation", "combined revocation check: for each certificate the staple, then CRLs, then OCSP; the first definitive answer wins", &f.combined, false)
	boolFlag("soft-fail", "when no revocation source answers, warn and continue instead of failing (a definitive \"revoked\" still fails)", &f.softFail, true)
	boolFlag("leaf-only", "check the revocation of the server's certificate only, not of the intermediates", &f.leafOnly, true)
	boolFlag("require-status", "fail when a certificate has no revocation source at all (by default it passes, recorded as not applicable)", &f.requireStatus, true)
	fs.Func("staple", "stapled OCSP `policy`: check (default: a revoked staple or a must-staple certificate without one fails, anything else is recorded), require (fail without a valid, good staple), off (revocation checks ignore the staple)", func(s string) error {
		switch s {
		case stapleCheck, stapleRequire, stapleOff:
			f.staple = s
			return nil
		}
		return fmt.Errorf("want require, check or off")
	})
	fs.Func("crl-file", "check against this CRL `file`, DER or PEM, offline, like curl --crlfile (repeatable; implies --crl unless --revocation)", func(s string) error {
		if s == "" {
			return errors.New("empty file name")
		}
		f.crlFiles = append(f.crlFiles, s)
		return nil
	})
}

// parseBool is strconv.ParseBool with the error message flag prints.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "t", "true":
		return true, nil
	case "0", "f", "false":
		return false, nil
	}
	return false, errors.New("want true or false")
}

func (f *revocationFlags) options() ([]tlsclient.Option, error) {
	if f.combined && (f.ocsp || f.crl) {
		return nil, errors.New("--revocation already consults the staple, CRLs and OCSP: drop --ocsp and --crl, or drop --revocation")
	}
	var ropts []revocation.Option
	if f.softFail {
		ropts = append(ropts, revocation.SoftFail())
	}
	if f.leafOnly {
		ropts = append(ropts, revocation.LeafOnly())
	}
	if f.requireStatus {
		ropts = append(ropts, revocation.RequireStatus())
	}
	var crls [][]byte
	for _, path := range f.crlFiles {
		der, err := readCRLFile(path)
		if err != nil {
			return nil, fmt.Errorf("--crl-file: %w", err)
		}
		crls = append(crls, der)
	}
	withCRLs := func(o []revocation.Option) []revocation.Option {
		o = append([]revocation.Option(nil), o...)
		if len(crls) > 0 {
			o = append(o, revocation.WithCRLs(crls...))
		}
		return o
	}
	var vs []tlsclient.Verifier
	if f.staple == stapleRequire {
		vs = append(vs, revocation.Stapled(append(append([]revocation.Option(nil), ropts...), revocation.RequireStatus())...))
	}
	switch {
	case f.combined:
		o := withCRLs(ropts)
		if f.staple == stapleOff {
			o = append(o, revocation.WithOrder(revocation.SourceCRL, revocation.SourceOCSP))
		}
		vs = append(vs, revocation.New(o...))
	default:
		if f.crl || len(crls) > 0 {
			vs = append(vs, revocation.CRL(withCRLs(ropts)...))
		}
		if f.ocsp {
			vs = append(vs, revocation.OCSP(ropts...))
		}
	}
	if len(vs) == 0 {
		for _, name := range []string{"soft-fail", "leaf-only", "require-status"} {
			if f.mods[name] {
				return nil, fmt.Errorf("--%s applies to revocation checks: add --revocation, --ocsp, --crl, --crl-file or --staple=require", name)
			}
		}
		return nil, nil
	}
	return []tlsclient.Option{tlsclient.WithVerifiers(vs...)}, nil
}

// readCRLFile reads a DER or PEM CRL and checks that it parses, so that a
// wrong file is a usage error rather than a failed verification.
func readCRLFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rest, found := b, false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "X509 CRL" {
			continue
		}
		found = true
		if _, err := x509.ParseRevocationList(block.Bytes); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if !found {
		if strings.HasPrefix(strings.TrimSpace(string(b[:min(len(b), 64)])), "-----BEGIN") {
			return nil, fmt.Errorf("%s: PEM without an X509 CRL block", path)
		}
		if _, err := x509.ParseRevocationList(b); err != nil {
			return nil, fmt.Errorf("%s: not a DER or PEM CRL: %w", path, err)
		}
	}
	return b, nil
}
