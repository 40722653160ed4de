package ct

import (
	"bufio"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
)

// The real-world corpus is read in place, never copied (see
// ../../shared/corpus/README.md); tests skip when it is absent.
const corpus = "../../shared/corpus"

func corpusFile(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpus, rel))
	if os.IsNotExist(err) {
		t.Skipf("corpus file %s absent", rel)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pemCert(t *testing.T, rel string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(corpusFile(t, rel))
	if b == nil {
		t.Fatalf("%s: no PEM", rel)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func derCert(t *testing.T, rel string) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(corpusFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The real list (Google's all_logs_list.json 53.34 of 2025-05-05), plus
// Let's Encrypt's Sycamore2026h1 (a static-ct-api log added after it) from
// its public key, so that 2026 certificates logged there can be checked.
func realList(t *testing.T, withSycamore bool) *LogList {
	t.Helper()
	data := corpusFile(t, "ct-real/loglists/all_logs_list.v53.34-2025-05-05.json")
	if withSycamore {
		block, _ := pem.Decode(corpusFile(t, "ct-real/logkeys/letsencrypt-sycamore2026h1.pem"))
		if block == nil {
			t.Fatal("Sycamore key: no PEM")
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		id := sha256b64(block.Bytes)
		for _, op := range m["operators"].([]any) {
			op := op.(map[string]any)
			if op["name"] != "Let's Encrypt" {
				continue
			}
			op["tiled_logs"] = append(op["tiled_logs"].([]any), map[string]any{
				"description": "Let's Encrypt 'Sycamore2026h1'", "log_id": id, "key": base64.StdEncoding.EncodeToString(block.Bytes),
				"submission_url": "https://log.sycamore.ct.letsencrypt.org/2026h1/", "monitoring_url": "https://mon.sycamore.ct.letsencrypt.org/2026h1/",
				"mmd": 60, "state": map[string]any{"usable": map[string]any{"timestamp": "2025-05-01T00:00:00Z"}},
			})
		}
		var err error
		if data, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
	}
	l, err := ParseLogList(data)
	if err != nil {
		t.Fatalf("the real log list does not parse: %v", err)
	}
	return l
}

func sha256b64(b []byte) string {
	id := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(id[:])
}

func TestRealLogList(t *testing.T) {
	t.Parallel()
	l := realList(t, false)
	if l.Version != "53.34" || l.Timestamp.Format(time.RFC3339) != "2025-05-05T12:54:12Z" {
		t.Errorf("version %s timestamp %s", l.Version, l.Timestamp)
	}
	var logs, tiled, keyErrs int
	states := map[LogState]int{}
	for _, lg := range l.Logs() {
		logs++
		if lg.Tiled {
			tiled++
		}
		if lg.KeyErr != nil {
			keyErrs++
		}
		states[lg.State]++
	}
	// 181 logs, 6 of them tiled; every key RFC 6962-compliant.
	if logs != 181 || tiled != 6 || keyErrs != 0 || states[StateUsable] != 33 || states[StateRetired] != 3 || states[StateReadOnly] != 1 {
		t.Errorf("%d logs, %d tiled, %d bad keys, states %v", logs, tiled, keyErrs, states)
	}
	// Judged at its own time, the list is fresh; in 2026 it is stale.
	fresh := l.Timestamp.Add(time.Hour)
	if fresh.Sub(l.Timestamp) > DefaultMaxListAge {
		t.Error("fresh list stale")
	}
}

// TestRealChains verifies the embedded SCTs of 12 real 2026 chains against
// the real 2025-05 list. What the data supports: every SCT from a log in the
// list has a valid signature (precert entry, issuer key hash of the real
// issuer); SCTs from logs created after the list are unknown (here, only
// Let's Encrypt's Sycamore2026h1, whose key the corpus holds separately:
// with it added, those verify too). Policies are then judged at each leaf's
// notBefore plus a day, with the list's age limit lifted: logs that were
// still pending in May 2025 do not count, so the verdict is logged, not
// asserted; every SCT not counted is from a log pending in May 2025.
func TestRealChains(t *testing.T) {
	t.Parallel()
	bare, full := realList(t, false), realList(t, true)
	matches, _ := filepath.Glob(filepath.Join(corpus, "ct-real/rustls-verifybench/cert-*.0.der"))
	if len(matches) == 0 {
		t.Skip("rustls-verifybench chains absent")
	}
	if len(matches) != 12 {
		t.Errorf("%d chains, want 12", len(matches))
	}
	sort.Strings(matches)
	total, valid, unknown := 0, 0, 0
	for _, m := range matches {
		site := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "cert-"), ".0.der")
		t.Run(site, func(t *testing.T) {
			dir := "ct-real/rustls-verifybench/cert-" + site
			leaf, issuer := derCert(t, dir+".0.der"), derCert(t, dir+".1.der")
			at := leaf.NotBefore.Add(24 * time.Hour)
			st := func() *tlsclient.State {
				return &tlsclient.State{Now: at, ConnectionState: tlsConnState([][]*x509.Certificate{{leaf, issuer}}, nil, nil)}
			}
			_, _, d := run(t, New(bare, WithMaxListAge(0), ReportOnly()), st())
			_, chk, dfull := run(t, New(full, WithMaxListAge(0), ReportOnly()), st())
			if len(d.SCTs) < 2 {
				t.Fatalf("%d embedded SCTs, want at least 2", len(d.SCTs))
			}
			for i, s := range d.SCTs {
				total++
				switch s.Status {
				case StatusNotCounted:
					// In the May 2025 list, the 2026 shards of some
					// operators were still pending.
					if s.LogState != "pending" {
						t.Errorf("SCT %d from %q not counted: %s", i, s.Log, s.Reason)
					}
					valid++
				case StatusValid:
					valid++
				case StatusUnknownLog:
					unknown++
					f := dfull.SCTs[i]
					if f.Log != "Let's Encrypt 'Sycamore2026h1'" || (f.Status != StatusValid && f.Status != StatusNotCounted) {
						t.Errorf("SCT %d from a log absent from the 2025 list: %+v", i, f)
					}
				default:
					t.Errorf("SCT %d from %q: %s (%s)", i, s.Log, s.Status, s.Reason)
				}
			}
			t.Logf("%s: %s", site, chk.Detail)
		})
	}
	t.Logf("%d SCTs: %d verified with the 2025-05 list, %d from logs it lacks", total, valid, unknown)
}

// Google's CT test PKI (google/certificate-transparency test/testdata):
// embedded SCTs issued directly by the CA, by a precertificate signing CA
// (whose key must not be hashed: the issuer key hash is the final issuer's),
// through an intermediate, and both; an invalid one; and the .proof files,
// TLS-encoded SCTs for the X.509 entries.
func TestGoogleTestPKI(t *testing.T) {
	t.Parallel()
	dir := "ct-real/google-ct-cpp/"
	key := corpusFile(t, dir+"ct-server-key-public.pem")
	block, _ := pem.Decode(key)
	list := mustList(t, `{"version":"1","log_list_timestamp":"2012-06-01T00:00:00Z","operators":[{"name":"Google test","email":[],"logs":[{
		"description":"google-ct-cpp test log","log_id":"`+sha256b64(block.Bytes)+`","key":"`+base64.StdEncoding.EncodeToString(block.Bytes)+`",
		"url":"https://test.invalid/","mmd":86400,"state":{"usable":{"timestamp":"2012-01-01T00:00:00Z"}}}]}]}`)
	ca, inter := pemCert(t, dir+"ca-cert.pem"), pemCert(t, dir+"intermediate-cert.pem")
	v := New(list, WithPolicy(AtLeast(1, 1)), WithMaxListAge(0))
	// The certificates are valid 2012-2022 and their SCTs date from 2013.
	at := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		file   string
		issuer *x509.Certificate
		want   SCTStatus
	}{
		{"test-embedded-cert.pem", ca, StatusValid},
		{"test-embedded-with-preca-cert.pem", ca, StatusValid},
		{"test-embedded-with-intermediate-cert.pem", inter, StatusValid},
		{"test-embedded-with-intermediate-preca-cert.pem", inter, StatusValid},
		{"test-invalid-embedded-cert.pem", ca, StatusBadSignature},
	} {
		t.Run(c.file, func(t *testing.T) {
			leaf := pemCert(t, dir+c.file)
			st := &tlsclient.State{Now: at, ConnectionState: tlsConnState([][]*x509.Certificate{{leaf, c.issuer}}, nil, nil)}
			err, _, d := run(t, v, st)
			if len(d.SCTs) != 1 || d.SCTs[0].Status != c.want || (err == nil) != (c.want == StatusValid) {
				t.Errorf("%v %s", err, dump(d))
			}
		})
	}
	// The .proof of test-cert.pem is an SCT over its X.509 entry, as the
	// TLS extension would carry it.
	for _, c := range []struct{ cert, proof string }{
		{"test-cert.pem", "test-cert.proof"},
		{"test-intermediate-cert.pem", "test-intermediate-cert.proof"},
	} {
		leaf := pemCert(t, dir+c.cert)
		issuer := ca
		if strings.Contains(c.cert, "intermediate") {
			issuer = inter
		}
		st := &tlsclient.State{Now: at,
			ConnectionState: tlsConnState([][]*x509.Certificate{{leaf, issuer}}, [][]byte{corpusFile(t, dir+c.proof)}, nil)}
		if err, _, d := run(t, v, st); err != nil {
			t.Errorf("%s: %v %s", c.proof, err, dump(d))
		}
	}
}

func mustList(t *testing.T, js string) *LogList {
	t.Helper()
	l, err := ParseLogList([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSCTVectors runs the rustls/sct.rs vectors (X.509 entries over the four
// bytes "cert") through the same checks as a connection's SCTs, and maps our
// statuses to their error classes. Deliberate differences: P-384 log keys
// are refused (RFC 6962 2.1.4 allows only P-256 and RSA), so the P-384
// cases report unsupported_log_key; SHA-384 (the RSA 3072 and 4096
// vectors) is refused, RFC 6962 logs signing with SHA-256, so those report
// unsupported_algorithm, as does the wrong hash and signature algorithm
// pair where sct.rs says InvalidSignature.
func TestSCTVectors(t *testing.T) {
	t.Parallel()
	dir := "sct-vectors/rustls-sct/"
	f, err := os.Open(filepath.Join(corpus, dir, "cases.tsv"))
	if os.IsNotExist(err) {
		t.Skip("sct vectors absent")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 7 {
			continue
		}
		name, sctFile, keyFile, nowMS, expected := fields[0], fields[1], fields[2], fields[5], fields[6]
		t.Run(name, func(t *testing.T) {
			block, _ := pem.Decode(corpusFile(t, dir+"testdata/"+keyFile))
			if block == nil {
				t.Fatal("key: no PEM")
			}
			list := mustList(t, `{"log_list_timestamp":"2020-01-01T00:00:00Z","operators":[{"name":"x","logs":[{"description":"vector log",
				"log_id":"`+sha256b64(block.Bytes)+`","key":"`+base64.StdEncoding.EncodeToString(block.Bytes)+`","url":"https://x.invalid/","mmd":86400,
				"state":{"usable":{"timestamp":"1970-01-01T00:00:00Z"}}}]}]}`)
			raw := corpusFile(t, dir+"testdata/"+sctFile)
			entry := []byte("cert")
			if strings.HasPrefix(name, "test_google") {
				entry = corpusFile(t, dir+"testdata/google-cert.bin")
			}
			ms, _ := strconv.ParseInt(nowMS, 10, 64)
			got := vectorStatus(t, list, raw, entry, time.UnixMilli(ms))
			p384 := strings.HasPrefix(name, "ecdsa_p384")
			want := map[string]SCTStatus{
				"Ok": StatusValid, "InvalidSignature": StatusBadSignature, "MalformedSct": StatusMalformed,
				"UnknownLog": StatusUnknownLog, "UnsupportedSctVersion": StatusUnsupportedVersion, "TimestampInFuture": StatusFuture,
			}[strings.Fields(expected)[0]]
			switch {
			case p384:
				want = StatusUnsupportedLogKey
			case name == "ecdsa_p256_badsigalg" || strings.HasPrefix(name, "rsa3072") || strings.HasPrefix(name, "rsa4096"):
				// sct.rs also takes SHA-384, which these RSA
				// vectors use; RFC 6962 logs sign with SHA-256.
				want = StatusUnsupportedAlgorithm
			case name == "ecdsa_p256_short":
				want = StatusValid // the prefixes are checked below
			}
			if got != want {
				t.Errorf("%s: got %s, want %s (sct.rs: %s)", name, got, want, expected)
			}
			if name == "ecdsa_p256_short" {
				// The full SCT is valid; every strict prefix is malformed.
				for i := range len(raw) {
					if got := vectorStatus(t, list, raw[:i], entry, time.UnixMilli(ms)); got != StatusMalformed {
						t.Fatalf("prefix %d: %s", i, got)
					}
				}
			}
		})
		n++
	}
	if n != 24 {
		t.Errorf("%d vectors, want 24", n)
	}
}

// vectorStatus checks one SCT over an arbitrary X.509 entry the way check
// does for a connection's TLS SCTs.
func vectorStatus(t *testing.T, list *LogList, raw, entry []byte, now time.Time) SCTStatus {
	t.Helper()
	v := New(list, WithPolicy(AtLeast(1, 1))).(*verifier)
	h := &handshake{leaf: &x509.Certificate{Raw: entry}, list: list, now: now, nowMillis: uint64(now.UnixMilli())}
	h.leafHash = sha256.Sum256(entry)
	return v.check(h, SourceTLS, 0, raw).Status
}
