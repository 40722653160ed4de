package main

import (
	"errors"
	"flag"

	"github.com/tlsclient/tlsclient"
)

// The public key pinning flags of connect.
func init() {
	optionGroups = append(optionGroups, func() optionFlags { return new(pinFlags) })
}

// pinFlags turn --pin into a tlsclient.PinVerifier.
type pinFlags struct {
	pins []tlsclient.Pin
	leaf bool
}

func (*pinFlags) section() (int, string) { return rankPin, "Public key pinning" }

func (f *pinFlags) register(fs *flag.FlagSet) {
	fs.Func("pin", "accept the server only if a certificate of its verified chain has this public key `pin`, sha256/BASE64 (the SHA-256 of its SubjectPublicKeyInfo, as curl --pinnedpubkey; connect prints each certificate's pin); repeatable: any one may match", func(s string) error {
		p, err := tlsclient.ParsePin(s)
		if err != nil {
			return err
		}
		f.pins = append(f.pins, p)
		return nil
	})
	fs.BoolFunc("pin-leaf", "match --pin against the server's certificate only, as curl does (default: any certificate of the verified chain)", func(s string) error {
		v, err := parseBool(s)
		f.leaf = v
		return err
	})
}

func (f *pinFlags) options() ([]tlsclient.Option, error) {
	if len(f.pins) == 0 {
		if f.leaf {
			return nil, errors.New("--pin-leaf needs --pin")
		}
		return nil, nil
	}
	scope := tlsclient.PinChain
	if f.leaf {
		scope = tlsclient.PinLeaf
	}
	return []tlsclient.Option{tlsclient.WithVerifiers(tlsclient.PinVerifier(scope, f.pins...))}, nil
}
