package revocation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tlsclient/tlsclient"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// oOfflineSource is a scripted offlineSource: asked offline about a
// certificate whose name is in network, it needs the network; otherwise it
// answers good at once. Online it takes delay.
type oOfflineSource struct {
	network map[string]bool
	delay   time.Duration

	mu    sync.Mutex
	calls []string // "name/offline" or "name/online"
}

func (*oOfflineSource) answersOffline() {}

func (s *oOfflineSource) check(ctx context.Context, r *request) answer {
	name := r.cert.Subject.CommonName
	mode := "online"
	if r.offline {
		mode = "offline"
	}
	s.mu.Lock()
	s.calls = append(s.calls, name+"/"+mode)
	s.mu.Unlock()
	if s.network[name] {
		if r.offline {
			return answer{kind: needsNetwork}
		}
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return answer{kind: noAnswer, detail: "canceled", err: ctx.Err()}
		}
	}
	return answer{kind: good, detail: "good from " + mode}
}

func (s *oOfflineSource) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// oOfflineChain is a leaf under two intermediates, named leaf, inter-2,
// inter-1 and root.
func oOfflineChain(t *testing.T) *tlsclient.State {
	root := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "root"}))
	i1 := testpki.Must(root.NewIntermediate(testpki.CertOptions{CommonName: "inter-1"}))
	i2 := testpki.Must(i1.NewIntermediate(testpki.CertOptions{CommonName: "inter-2"}))
	leaf := testpki.Must(i2.Issue(testpki.CertOptions{CommonName: "leaf"}))
	return oState(oCertsOf([]*testpki.Cert{leaf, i2, i1, root}), nil)
}

func oOfflineChecker(t *testing.T, srcs []source, opts ...Option) *checker {
	t.Helper()
	o, err := applyOptions(opts)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]Source, len(srcs))
	for i := range srcs {
		names[i] = Source(fmt.Sprint("s", i))
	}
	return &checker{name: "test", opts: o, sources: srcs, srcName: names}
}

func oSubjects(st *tlsclient.State) string {
	var out []string
	for _, c := range st.Checks() {
		out = append(out, strings.TrimPrefix(c.Subject, "CN=")+"/"+c.Source+"="+c.Outcome.String())
	}
	return strings.Join(out, " ")
}

// TestEngineOfflineFirst: the engine checks the certificates from memory
// first, one after the other, and only those that need the network later
// (in parallel when there are several); a deferred certificate's checks are
// recorded once.
func TestEngineOfflineFirst(t *testing.T) {
	t.Parallel()
	t.Run("all from memory", func(t *testing.T) {
		t.Parallel()
		src := &oOfflineSource{}
		st := oOfflineChain(t)
		if err := oOfflineChecker(t, []source{src}).Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(src.log(), " "); got != "leaf/offline inter-2/offline inter-1/offline" {
			t.Errorf("calls: %s", got)
		}
		if got := oSubjects(st); got != "leaf/s0=pass inter-2/s0=pass inter-1/s0=pass" {
			t.Errorf("checks in chain order: %s", got)
		}
	})
	t.Run("one needs the network", func(t *testing.T) {
		t.Parallel()
		// The first source is undecided about every certificate, so each
		// records a check before the second answers; for inter-2 the
		// second needs the network.
		undecided := &engSource{answer: func(*request) answer {
			return answer{kind: notApplicable, detail: "nothing here"}
		}}
		src := &oOfflineSource{network: map[string]bool{"inter-2": true}}
		st := oOfflineChain(t)
		c := oOfflineChecker(t, []source{&oOfflineWrap{undecided}, src})
		if err := c.Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(src.log(), " "); got != "leaf/offline inter-2/offline inter-1/offline inter-2/online" {
			t.Errorf("calls: %s", got)
		}
		want := "leaf/s0=skip leaf/s1=pass inter-1/s0=skip inter-1/s1=pass inter-2/s0=skip inter-2/s1=pass"
		if got := oSubjects(st); got != want {
			t.Errorf("checks:\n got %s\nwant %s", got, want)
		}
		for _, ch := range st.Checks() {
			if ch.Subject == "CN=inter-2" && ch.Source == "s1" && ch.Detail != "good from online" {
				t.Errorf("inter-2: %+v", ch)
			}
		}
	})
	t.Run("a source that cannot answer offline", func(t *testing.T) {
		t.Parallel()
		// An engSource is not an offlineSource: reaching it defers the
		// certificate, unless an earlier source decided.
		first := &oOfflineSource{network: map[string]bool{"inter-2": true, "inter-1": true}}
		plain := engConst(answer{kind: good, detail: "good"})
		st := oOfflineChain(t)
		if err := oOfflineChecker(t, []source{first, plain}).Verify(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		if got := len(plain.asked()); got != 0 {
			t.Errorf("the second source was asked %d times; the first decides", got)
		}
		if got := strings.Join(first.log(), " "); !strings.HasPrefix(got, "leaf/offline inter-2/offline inter-1/offline ") {
			t.Errorf("calls: %s", got)
		}
	})
	t.Run("several need the network: in parallel", func(t *testing.T) {
		t.Parallel()
		st := oOfflineChain(t)
		synctest.Test(t, func(t *testing.T) {
			src := &oOfflineSource{network: map[string]bool{"leaf": true, "inter-2": true, "inter-1": true}, delay: time.Second}
			start := time.Now()
			if err := oOfflineChecker(t, []source{src}).Verify(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != time.Second {
				t.Errorf("took %v, want one delay", d)
			}
		})
	})
	t.Run("revoked from memory", func(t *testing.T) {
		t.Parallel()
		p := oNewPKI(t, oOptions{})
		p.setStatus(p.inter, testpki.StatusRevoked)
		v := New(WithOrder(SourceStaple, SourceOCSP))
		if err := v.Verify(context.Background(), p.state(nil)); err == nil {
			t.Fatal("want revoked")
		}
		// The second time both answers come from the cache, offline.
		st := p.state(nil)
		err := v.Verify(context.Background(), st)
		var re *RevokedError
		if !errors.As(err, &re) || re.Subject != "CN=oInter" {
			t.Fatalf("want the intermediate revoked, got %v", err)
		}
		if hits, _ := p.resp.Hits(); hits != 2 {
			t.Errorf("%d requests", hits)
		}
	})
}

// oOfflineWrap makes any source an offlineSource (for sources that never
// block).
type oOfflineWrap struct{ source }

func (oOfflineWrap) answersOffline() {}
