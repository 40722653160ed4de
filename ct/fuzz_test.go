package ct

import (
	"crypto/sha256"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// Seeds live in testdata/{sct,sctlist,tbs,loglist}; they are synthetic
// (made by testpki) and regenerated with CT_WRITE_SEEDS=1 go test -run
// TestWriteSeeds.

func seeds(f *testing.F, dir string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s", dir)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseSCT(f *testing.F) {
	seeds(f, "sct")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSCT(b)
		if err != nil {
			return
		}
		s.LeafIndex()
		s.Time()
	})
}

func FuzzParseSCTList(f *testing.F) {
	seeds(f, "sctlist")
	f.Fuzz(func(t *testing.T, b []byte) {
		scts, err := ParseSCTList(b)
		if err != nil {
			return
		}
		for _, s := range scts {
			if len(s) == 0 {
				t.Fatal("empty SCT returned")
			}
			ParseSCT(s)
		}
	})
}

func FuzzPrecertTBS(f *testing.F) {
	seeds(f, "tbs")
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := precertTBS(b)
		if err != nil {
			return
		}
		if len(out) > len(b) {
			t.Fatalf("rebuilt TBS of %d bytes from %d", len(out), len(b))
		}
	})
}

// FuzzVerify drives a whole check of untrusted SCT bytes and an untrusted
// certificate entry through a verifier with a real list: parse, lookup,
// signed-data construction (both entry types), signature verification.
func FuzzVerify(f *testing.F) {
	w := getWorld(f)
	cert := w.leaf(f, 90*day, w.emb("A1")...)
	for _, s := range w.scts(f, cert, "A1", "A2", "C1") {
		f.Add(s, cert.Cert.Cert.Raw, false)
	}
	f.Add(cert.SCTs[0], cert.Cert.Cert.RawTBSCertificate, true)
	v := New(w.list).(*verifier)
	issuer := sha256.Sum256(w.inter.Cert.RawSubjectPublicKeyInfo)
	f.Fuzz(func(t *testing.T, sct, entry []byte, precert bool) {
		leaf := &x509.Certificate{Raw: entry, RawTBSCertificate: entry}
		h := &handshake{leaf: leaf, list: w.list, now: testpki.Now, nowMillis: uint64(testpki.Now.UnixMilli()), leafHash: sha256.Sum256(entry)}
		src := SourceTLS
		if precert {
			src = SourceEmbedded
			h.issuers = [][32]byte{issuer}
		}
		r := v.check(h, src, 0, sct)
		if r.Status == "" {
			t.Fatal("no status")
		}
	})
}

func FuzzParseLogList(f *testing.F) {
	seeds(f, "loglist")
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLogList(b)
		if err != nil {
			return
		}
		now := time.Unix(1700000000, 0)
		round(now.Sub(l.Timestamp)) // the age the verifier reports, whatever the date
		for _, lg := range l.Logs() {
			if l.Lookup(lg.ID) != lg {
				t.Fatal("lookup")
			}
			lg.StateAt(now)
			lg.OperatorAt(now)
			lg.countsAt(now, now)
			lg.covers(now)
		}
	})
}

// TestWriteSeeds regenerates the fuzz seeds (CT_WRITE_SEEDS=1).
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("CT_WRITE_SEEDS") == "" {
		t.Skip("set CT_WRITE_SEEDS=1 to regenerate testdata seeds")
	}
	w := getWorld(t)
	cert := w.leaf(t, 90*day, w.emb("A1", "A2", "C1")...)
	write := func(dir, name string, b []byte) {
		os.MkdirAll(filepath.Join("testdata", dir), 0o755)
		if err := os.WriteFile(filepath.Join("testdata", dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("sct", "ecdsa.bin", cert.SCTs[0])
	write("sct", "rsa.bin", cert.SCTs[1])
	write("sct", "tiled-leaf-index.bin", cert.SCTs[2])
	list, _ := testpki.SCTList(cert.SCTs...)
	write("sctlist", "three.bin", list)
	one, _ := testpki.SCTList(cert.SCTs[0])
	write("sctlist", "one.bin", one)
	write("tbs", "with-scts.der", cert.Cert.Cert.RawTBSCertificate)
	write("tbs", "precert.der", cert.Precert.RawTBSCertificate)
	small, _ := testpki.CTLogList(testpki.Now, w.logs["A1"], w.logs["C1"], w.logs["E1"], w.logs["M1"])
	write("loglist", "small.json", small)
	write("loglist", "minimal.json", []byte(`{"version":"1","log_list_timestamp":"2026-01-01T00:00:00Z","operators":[]}`))
	// Beyond time.Duration from any time of check: once a fatal stack overflow.
	write("loglist", "far-future.json", []byte(`{"version":"1","log_list_timestamp":"2400-01-01T00:00:00Z","operators":[]}`))
}
