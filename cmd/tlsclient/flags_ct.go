package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/ct"
)

// The Certificate Transparency flags of connect.
func init() {
	optionGroups = append(optionGroups, func() optionFlags { return new(ctFlags) })
}

// ctFlags turn --ct-log-list and friends into a ct verifier.
type ctFlags struct {
	list       string
	sig        string
	key        string
	policy     string
	reportOnly bool
	maxAge     time.Duration
	set        map[string]bool // which ct flags were given
}

func (*ctFlags) section() (int, string) { return rankCT, "Certificate Transparency" }

func (f *ctFlags) register(fs *flag.FlagSet) {
	f.set = map[string]bool{}
	mark := func(name string) { f.set[name] = true }
	fs.Func("ct-log-list", "check Certificate Transparency against this v3 JSON log `file` (log_list.json format); tlsclient ships none: choose one you may use", func(s string) error {
		if s == "" {
			return errors.New("empty file name")
		}
		f.list = s
		mark("ct-log-list")
		return nil
	})
	fs.Func("ct-log-list-sig", "verify the log list with this detached signature `file` (needs --ct-log-list-key)", func(s string) error {
		f.sig = s
		mark("ct-log-list-sig")
		return nil
	})
	fs.Func("ct-log-list-key", "PEM public key `file` of the log list's signer (RSA or ECDSA)", func(s string) error {
		f.key = s
		mark("ct-log-list-key")
		return nil
	})
	fs.Func("ct-policy", "CT `policy`: chrome (default), apple, N (SCTs from N distinct logs) or N/M (N logs of M operators)", func(s string) error {
		if _, err := parseCTPolicy(s); err != nil {
			return err
		}
		f.policy = s
		mark("ct-policy")
		return nil
	})
	fs.BoolFunc("ct-report-only", "record the CT verdict without failing the connection", func(s string) error {
		v, err := strconv.ParseBool(s)
		f.reportOnly = v
		mark("ct-report-only")
		return err
	})
	fs.Func("ct-max-list-age", "stop enforcing CT when the log list is older than this `duration` (default 1680h, 70 days; 0: never)", func(s string) error {
		d, err := time.ParseDuration(s)
		f.maxAge = d
		mark("ct-max-list-age")
		return err
	})
}

func (f *ctFlags) options() ([]tlsclient.Option, error) {
	if f.list == "" {
		for _, name := range []string{"ct-policy", "ct-log-list-sig", "ct-log-list-key", "ct-report-only", "ct-max-list-age"} {
			if f.set[name] {
				return nil, fmt.Errorf("--%s needs --ct-log-list", name)
			}
		}
		return nil, nil
	}
	var (
		list *ct.LogList
		err  error
	)
	switch {
	case f.sig != "" && f.key != "":
		var pub crypto.PublicKey
		if pub, err = loadPublicKey(f.key); err != nil {
			return nil, fmt.Errorf("--ct-log-list-key: %w", err)
		}
		list, err = ct.LoadSignedLogList(f.list, f.sig, pub)
	case f.sig != "" || f.key != "":
		return nil, errors.New("--ct-log-list-sig and --ct-log-list-key go together")
	default:
		list, err = ct.LoadLogList(f.list)
	}
	if err != nil {
		return nil, fmt.Errorf("--ct-log-list: %w", err)
	}
	var opts []ct.Option
	if f.policy != "" {
		p, _ := parseCTPolicy(f.policy)
		opts = append(opts, ct.WithPolicy(p))
	}
	if f.reportOnly {
		opts = append(opts, ct.ReportOnly())
	}
	if f.set["ct-max-list-age"] {
		opts = append(opts, ct.WithMaxListAge(f.maxAge))
	}
	return []tlsclient.Option{tlsclient.WithVerifiers(ct.New(list, opts...))}, nil
}

// parseCTPolicy reads chrome, apple, N or N/M.
func parseCTPolicy(s string) (ct.Policy, error) {
	switch strings.ToLower(s) {
	case "chrome":
		return ct.ChromePolicy(), nil
	case "apple":
		return ct.ApplePolicy(), nil
	}
	n, m, hasM := strings.Cut(s, "/")
	logs, err := strconv.Atoi(n)
	if err != nil || logs < 1 {
		return ct.Policy{}, fmt.Errorf("want chrome, apple, N or N/M (N logs of M operators), got %q", s)
	}
	ops := 1
	if hasM {
		if ops, err = strconv.Atoi(m); err != nil || ops < 1 || ops > logs {
			return ct.Policy{}, fmt.Errorf("%q: M must be between 1 and N", s)
		}
	}
	return ct.AtLeast(logs, ops), nil
}

func loadPublicKey(path string) (crypto.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	if block.Type == "CERTIFICATE" {
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		return c.PublicKey, nil
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}
