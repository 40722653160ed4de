package ct

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// at makes an Embed for log name whose SCT is timestamped at Now+d.
func (w *world) at(name string, d time.Duration) testpki.Embed {
	return testpki.Embed{Log: w.logs[name], Options: testpki.SCTOptions{Timestamp: testpki.Now.Add(d)}}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	const short, long = 90 * day, 200 * day
	type tc struct {
		name     string
		policy   Policy
		lifetime time.Duration
		embed    []testpki.Embed
		tls      []string // logs that send an SCT in the TLS extension
		ocsp     []string // logs whose SCTs are in the stapled OCSP response
		wantOK   bool
		wantVia  string      // SatisfiedBy when wantOK
		want     []SCTStatus // per SCT, when set
		check    func(t *testing.T, d *Details)
	}
	chrome, apple := ChromePolicy(), ApplePolicy()
	cases := []tc{
		// Chrome, embedded SCTs.
		{name: "chrome/2 logs 2 operators, 90 days", policy: chrome, lifetime: short, embed: w.emb("A1", "B1"), wantOK: true, wantVia: altEmbedded,
			want: []SCTStatus{StatusValid, StatusValid}},
		{name: "chrome/RSA and ECDSA logs", policy: chrome, lifetime: short, embed: w.emb("A2", "B1"), wantOK: true, wantVia: altEmbedded},
		{name: "chrome/one SCT for 90 days", policy: chrome, lifetime: short, embed: w.emb("A1")},
		{name: "chrome/2 logs of one operator", policy: chrome, lifetime: short, embed: w.emb("A1", "A2"),
			check: func(t *testing.T, d *Details) { wantReq(t, d, altEmbedded, "distinct log operators", 2, 1) }},
		{name: "chrome/exactly 180 days needs 2", policy: chrome, lifetime: 180 * day, embed: w.emb("A1", "B1"), wantOK: true},
		{name: "chrome/180 days and a second needs 3", policy: chrome, lifetime: 180*day + time.Second, embed: w.emb("A1", "B1"),
			check: func(t *testing.T, d *Details) { wantReq(t, d, altEmbedded, "embedded SCTs from distinct logs", 3, 2) }},
		{name: "chrome/3 logs for 200 days", policy: chrome, lifetime: long, embed: w.emb("A1", "B1", "C1"), wantOK: true},
		{name: "chrome/qualified and readonly logs count", policy: chrome, lifetime: short, embed: w.emb("D1", "E1"), wantOK: true},
		{name: "chrome/usable from the future is qualified now", policy: chrome, lifetime: short, embed: w.emb("F1", "A1"), wantOK: true,
			check: func(t *testing.T, d *Details) {
				if d.SCTs[0].LogState != "qualified" {
					t.Errorf("F1 state now = %s, want qualified", d.SCTs[0].LogState)
				}
			}},
		{name: "chrome/retired log, SCT before retirement", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("R1", -60*day), w.at("A1", -time.Hour)}, wantOK: true,
			check: func(t *testing.T, d *Details) {
				if d.SCTs[0].LogState != "retired" {
					t.Errorf("R1 state = %s", d.SCTs[0].LogState)
				}
			}},
		{name: "chrome/retired log, SCT after retirement", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("R1", -time.Hour), w.at("A1", -time.Hour)},
			want:  []SCTStatus{StatusNotCounted, StatusValid},
			check: func(t *testing.T, d *Details) { wantReason(t, d, 0, "retired") }},
		{name: "chrome/only retired logs", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("R1", -60*day), w.at("S1", -60*day)},
			want: []SCTStatus{StatusValid, StatusValid},
			check: func(t *testing.T, d *Details) {
				wantReq(t, d, altEmbedded, "embedded SCTs from a log Qualified, Usable or ReadOnly now", 1, 0)
			}},
		{name: "chrome/pending log", policy: chrome, lifetime: short, embed: w.emb("P1", "A1"), want: []SCTStatus{StatusNotCounted, StatusValid},
			check: func(t *testing.T, d *Details) { wantReason(t, d, 0, "pending") }},
		{name: "chrome/rejected log", policy: chrome, lifetime: short, embed: w.emb("X1", "A1"), want: []SCTStatus{StatusNotCounted, StatusValid}},
		{name: "chrome/test log", policy: chrome, lifetime: short, embed: w.emb("T1", "A1"), want: []SCTStatus{StatusNotCounted, StatusValid},
			check: func(t *testing.T, d *Details) { wantReason(t, d, 0, "test log") }},
		{name: "chrome/operator at SCT time: previous operator A", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("M1", -300*day), w.at("A1", -time.Hour)},
			check: func(t *testing.T, d *Details) {
				if d.SCTs[0].Operator != "A" {
					t.Errorf("M1 operator at its SCT = %q, want A", d.SCTs[0].Operator)
				}
				wantReq(t, d, altEmbedded, "distinct log operators", 2, 1)
			}},
		{name: "chrome/operator at SCT time: current operator M", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("M1", -time.Hour), w.at("A1", -time.Hour)}, wantOK: true},
		{name: "chrome/duplicate SCTs from one log count once", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("A1", -time.Hour), w.at("A1", -2*time.Hour)},
			want:  []SCTStatus{StatusValid, StatusNotCounted},
			check: func(t *testing.T, d *Details) { wantReason(t, d, 1, "duplicate") }},
		{name: "chrome/future SCT", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("A1", time.Minute), w.at("B1", -time.Hour)},
			want: []SCTStatus{StatusFuture, StatusValid}},
		{name: "chrome/SCT at the time of check", policy: chrome, lifetime: short, embed: []testpki.Embed{w.at("A1", 0), w.at("B1", -time.Hour)}, wantOK: true},
		{name: "chrome/bad signature", policy: chrome, lifetime: short,
			embed: []testpki.Embed{{Log: w.logs["A1"], Options: testpki.SCTOptions{CorruptSignature: true}}, {Log: w.logs["B1"]}},
			want:  []SCTStatus{StatusBadSignature, StatusValid}},
		{name: "chrome/timestamp changed after signing", policy: chrome, lifetime: short,
			embed: []testpki.Embed{{Log: w.logs["A2"], Options: testpki.SCTOptions{TamperTimestamp: -time.Second}}, {Log: w.logs["B1"]}},
			want:  []SCTStatus{StatusBadSignature, StatusValid}},
		{name: "chrome/SHA-1 hash algorithm", policy: chrome, lifetime: short,
			embed: []testpki.Embed{{Log: w.logs["A1"], Options: testpki.SCTOptions{HashAlgorithm: 2}}, {Log: w.logs["B1"]}},
			want:  []SCTStatus{StatusUnsupportedAlgorithm, StatusValid}},
		{name: "chrome/RSA signature algorithm with an ECDSA log", policy: chrome, lifetime: short,
			embed: []testpki.Embed{{Log: w.logs["A1"], Options: testpki.SCTOptions{SignatureAlgorithm: 1}}, {Log: w.logs["B1"]}},
			want:  []SCTStatus{StatusUnsupportedAlgorithm, StatusValid}},
		{name: "chrome/SCT version 2", policy: chrome, lifetime: short,
			embed: []testpki.Embed{{Log: w.logs["A1"], Options: testpki.SCTOptions{Version: 1}}, {Log: w.logs["B1"]}},
			want:  []SCTStatus{StatusUnsupportedVersion, StatusValid}},
		{name: "chrome/malformed SCT", policy: chrome, lifetime: short, embed: []testpki.Embed{{Raw: []byte{0, 1, 2}}, {Log: w.logs["B1"]}},
			want: []SCTStatus{StatusMalformed, StatusValid}},
		{name: "chrome/extensions carried through, leaf index", policy: chrome, lifetime: short, embed: w.emb("C1", "G1"), wantOK: true,
			check: func(t *testing.T, d *Details) {
				for _, s := range d.SCTs {
					if s.LeafIndex == nil || len(s.Extensions) != 8 || !s.Tiled {
						t.Errorf("tiled SCT without leaf index: %+v", s)
					}
				}
			}},
		{name: "chrome/one embedded and one TLS do not mix", policy: chrome, lifetime: short, embed: w.emb("A1"), tls: []string{"B1"}},

		// Chrome, SCTs by TLS and OCSP.
		{name: "chrome/TLS 2 operators", policy: chrome, lifetime: long, tls: []string{"A1", "B1"}, wantOK: true, wantVia: altTLSOCSP},
		{name: "chrome/TLS one operator", policy: chrome, lifetime: long, tls: []string{"A1", "A2"},
			check: func(t *testing.T, d *Details) { wantReq(t, d, altTLSOCSP, "distinct log operators", 2, 1) }},
		{name: "chrome/TLS and OCSP together", policy: chrome, lifetime: long, tls: []string{"A1"}, ocsp: []string{"B1"}, wantOK: true, wantVia: altTLSOCSP,
			want: []SCTStatus{StatusValid, StatusValid}},
		{name: "chrome/OCSP only", policy: chrome, lifetime: long, ocsp: []string{"A2", "C1"}, wantOK: true, wantVia: altTLSOCSP},
		{name: "chrome/TLS retired log does not count", policy: chrome, lifetime: long, tls: []string{"R1", "A1"},
			check: func(t *testing.T, d *Details) { wantReq(t, d, altTLSOCSP, "TLS-extension or OCSP SCTs", 2, 1) }},
		{name: "chrome/no SCTs", policy: chrome, lifetime: short},

		// Apple.
		{name: "apple/2 operators, 90 days", policy: apple, lifetime: short, embed: w.emb("A1", "B1"), wantOK: true, wantVia: altEmbedded},
		{name: "apple/one operator capped at 1", policy: apple, lifetime: short, embed: w.emb("A1", "A2"),
			check: func(t *testing.T, d *Details) {
				wantReq(t, d, altEmbedded, "embedded SCTs from distinct logs once or currently approved, at most 1 per operator", 2, 1)
			}},
		{name: "apple/180 days inclusive needs 2", policy: apple, lifetime: 180*day - time.Second, embed: w.emb("A1", "B1"), wantOK: true,
			check: func(t *testing.T, d *Details) { wantLifetime(t, d, "180 days (inclusive)") }},
		{name: "apple/180 days exclusive is 181 inclusive, needs 3", policy: apple, lifetime: 180 * day, embed: w.emb("A1", "B1"),
			check: func(t *testing.T, d *Details) {
				wantLifetime(t, d, "181 days (inclusive)")
				wantReq(t, d, altEmbedded, "embedded SCTs from distinct logs once or currently approved, at most 2 per operator", 3, 2)
			}},
		{name: "apple/200 days, 2 of one operator and 1 other", policy: apple, lifetime: long, embed: w.emb("A1", "A2", "B1"), wantOK: true},
		{name: "apple/200 days, 3 of one operator capped at 2", policy: apple, lifetime: long, embed: []testpki.Embed{w.at("A1", -time.Hour), w.at("A2", -time.Hour), w.at("M1", -300*day)},
			check: func(t *testing.T, d *Details) {
				wantReq(t, d, altEmbedded, "embedded SCTs from distinct logs once or currently approved, at most 2 per operator", 3, 2)
			}},
		{name: "apple/retired once approved counts", policy: apple, lifetime: short, embed: []testpki.Embed{w.at("R1", -60*day), w.at("A1", -time.Hour)}, wantOK: true},
		{name: "apple/no RFC 6962 log", policy: apple, lifetime: short, embed: w.emb("C1", "G1"),
			check: func(t *testing.T, d *Details) { wantReq(t, d, altEmbedded, "embedded SCTs from an RFC 6962 log", 1, 0) }},
		{name: "apple/embedded and TLS mix", policy: apple, lifetime: long, embed: w.emb("A1"), tls: []string{"B1"}, wantOK: true, wantVia: altTLSOCSP},
		{name: "apple/OCSP and embedded mix", policy: apple, lifetime: long, embed: w.emb("C1"), ocsp: []string{"G1"},
			check: func(t *testing.T, d *Details) { wantReq(t, d, altTLSOCSP, "from an RFC 6962 log", 1, 0) }},
		{name: "apple/TLS only, one log of one operator", policy: apple, lifetime: long, tls: []string{"A1", "A2"}, wantOK: true, wantVia: altTLSOCSP},
		{name: "apple/TLS retired is not currently approved", policy: apple, lifetime: long, embed: []testpki.Embed{w.at("A1", -time.Hour)}, tls: []string{"R1"}},
		{name: "apple/test log", policy: apple, lifetime: short, embed: w.emb("T1", "A1"), want: []SCTStatus{StatusNotCounted, StatusValid}},

		// AtLeast.
		{name: "atleast/1 from TLS", policy: AtLeast(1, 1), lifetime: long, tls: []string{"A1"}, wantOK: true, wantVia: altAny},
		{name: "atleast/3 from 2 operators over sources", policy: AtLeast(3, 2), lifetime: long, embed: w.emb("A1", "A2"), tls: []string{"B1"}, wantOK: true},
		{name: "atleast/same log twice is one", policy: AtLeast(2, 1), lifetime: long, embed: w.emb("A1"), tls: []string{"A1"},
			check: func(t *testing.T, d *Details) { wantReq(t, d, altAny, "SCTs from distinct accepted logs", 2, 1) }},
		{name: "atleast/test logs count", policy: AtLeast(2, 2), lifetime: short, embed: w.emb("T1", "A1"), wantOK: true},
		{name: "atleast/pending logs do not", policy: AtLeast(2, 1), lifetime: short, embed: w.emb("P1", "A1")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cert := w.leaf(t, c.lifetime, c.embed...)
			var staple []byte
			if c.ocsp != nil {
				staple = w.ocsp(t, cert, w.scts(t, cert, c.ocsp...)...)
			}
			v := New(w.list, WithPolicy(c.policy))
			err, chk, d := run(t, v, w.state(cert, w.scts(t, cert, c.tls...), staple))
			if d == nil || d.Verdict == nil {
				t.Fatalf("no details: %+v", chk)
			}
			if c.wantOK {
				if err != nil || chk.Outcome != tlsclient.Pass {
					t.Fatalf("want pass, got %s %v\n%s", chk.Outcome, err, dump(d))
				}
				if c.wantVia != "" && d.Verdict.SatisfiedBy != c.wantVia {
					t.Errorf("satisfied by %q, want %q", d.Verdict.SatisfiedBy, c.wantVia)
				}
			} else {
				pe, ok := isPolicyError(err)
				if !ok {
					t.Fatalf("want a *PolicyError wrapping ErrCTPolicy, got %v (%s)\n%s", err, chk.Outcome, dump(d))
				}
				if pe.Required <= pe.Found || !strings.Contains(pe.Error(), "does not meet the "+c.policy.String()) {
					t.Errorf("PolicyError detail: required %d found %d: %v", pe.Required, pe.Found, pe)
				}
				if !d.Enforced {
					t.Error("enforced failure not marked enforced")
				}
			}
			if c.want != nil && !slices.Equal(statuses(d), c.want) {
				t.Errorf("statuses %v, want %v\n%s", statuses(d), c.want, dump(d))
			}
			if c.check != nil {
				c.check(t, d)
			}
			if _, err := json.Marshal(chk); err != nil {
				t.Errorf("check does not encode to JSON: %v", err)
			}
		})
	}
}

func dump(d *Details) string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

func wantReq(t *testing.T, d *Details, alt, rulePrefix string, required, found int) {
	t.Helper()
	for _, a := range d.Verdict.Alternatives {
		if a.Name != alt {
			continue
		}
		for _, r := range a.Requirements {
			if strings.HasPrefix(r.Rule, rulePrefix) {
				if r.Required != required || r.Found != found {
					t.Errorf("%s %q: required %d found %d, want %d and %d", alt, r.Rule, r.Required, r.Found, required, found)
				}
				return
			}
		}
	}
	t.Errorf("no rule %q in alternative %s:\n%s", rulePrefix, alt, dump(d))
}

func wantReason(t *testing.T, d *Details, i int, substr string) {
	t.Helper()
	if i >= len(d.SCTs) || !strings.Contains(d.SCTs[i].Reason, substr) {
		t.Errorf("SCT %d reason does not mention %q:\n%s", i, substr, dump(d))
	}
}

func wantLifetime(t *testing.T, d *Details, want string) {
	t.Helper()
	if d.Verdict.Lifetime != want {
		t.Errorf("lifetime %q, want %q", d.Verdict.Lifetime, want)
	}
}

func TestBestSelection(t *testing.T) {
	t.Parallel()
	tiledNow := &Log{Description: "x", Tiled: true}
	rfcRetired := &Log{Description: "y"}
	otherRetired := &Log{Description: "z", Tiled: true}
	cands := []candidate{
		{log: tiledNow, source: SourceEmbedded, operator: "O", acceptedNow: true},
		{log: rfcRetired, source: SourceEmbedded, operator: "O"},
		{log: otherRetired, source: SourceEmbedded, operator: "P"},
	}
	now := func(c candidate) bool { return c.acceptedNow }
	rfc := func(c candidate) bool { return !c.log.Tiled }
	// With one per operator, the only approved log and the only RFC 6962
	// log exclude each other.
	if got := bestSelection(cands, 1, now, rfc); got != 0 {
		t.Errorf("cap 1: %d, want 0", got)
	}
	if got := bestSelection(cands, 2, now, rfc); got != 3 {
		t.Errorf("cap 2: %d, want 3", got)
	}
	if got := capped(cands, 1); got != 2 {
		t.Errorf("capped: %d", got)
	}
	// Through the Apple policy: each rule holds alone, not together.
	leaf := getWorld(t).leaf(t, 90*day).Cert.Cert
	v := applePolicy{}.evaluate(leaf, cands)
	if v.Compliant {
		t.Fatalf("compliant: %+v", v)
	}
	last := v.Alternatives[0].Requirements[len(v.Alternatives[0].Requirements)-1]
	if !strings.HasPrefix(last.Rule, "one selection") || last.Met {
		t.Errorf("joint rule missing: %+v", v.Alternatives[0])
	}
}

func TestAppleLifetime(t *testing.T) {
	t.Parallel()
	w := getWorld(t)
	for _, c := range []struct {
		d    time.Duration
		days int
	}{
		{day - time.Second, 1}, {day, 2}, {180*day - time.Second, 180}, {180 * day, 181}, {398*day - time.Second, 398},
	} {
		leaf := w.leaf(t, c.d).Cert.Cert
		if got := appleLifetimeDays(leaf); got != c.days {
			t.Errorf("lifetime %s: %d days, want %d", c.d, got, c.days)
		}
	}
}
