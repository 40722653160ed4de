package bench

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/crlscan"
	"github.com/tlsclient/tlsclient/internal/testpki"
)

// BenchmarkCRLLoad: loading CRLs of 10k, 100k and 1M entries against
// x509.ParseRevocationList (see the package documentation).
//
//	go test ./bench -run '^$' -bench CRLLoad -benchtime 5x
func BenchmarkCRLLoad(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { crlLoad(benchRun(b), n) })
	}
}

// crlCA signs the CRLs, with RSA 2048 as most public CAs.
var crlCA = sync.OnceValue(func() *testpki.Cert {
	return testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Bench CRL CA", Key: testpki.RSA2048}))
})

var crls sync.Map // entries -> DER

// bigCRL returns a CRL of n entries (testpki.BigCRL), built once.
func bigCRL(tb testing.TB, n int) []byte {
	if v, ok := crls.Load(n); ok {
		return v.([]byte)
	}
	der, err := crlCA().BigCRL(n)
	if err != nil {
		tb.Fatal(err)
	}
	crls.Store(n, der)
	return der
}

// loadCRL is what package revocation does with a downloaded CRL (see
// crlStore.build): the header, then the signature check and the entry scan
// at once, then the DER released; only the index is kept.
func loadCRL(der []byte, issuer *x509.Certificate) (*crlscan.CRL, error) {
	c, err := crlscan.ParseHeader(der)
	if err != nil {
		return nil, err
	}
	var sigErr error
	var wg sync.WaitGroup
	wg.Go(func() { sigErr = c.CheckSignature(issuer) })
	err = c.ScanEntries()
	wg.Wait()
	c.Release()
	if err != nil {
		return nil, err
	}
	return c, sigErr
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// crlLoad loads the n-entry CRL r.n times with loadCRL and with
// x509.ParseRevocationList, alternately, each after a garbage collection
// (so that neither pays for the other's garbage), and times the signature
// check crypto/x509 would add; then measures what the index retains and
// how long a lookup takes.
func crlLoad(r *run, n int) {
	ca := crlCA()
	der := bigCRL(r, n)
	var tl, tx, ts []time.Duration
	var c *crlscan.CRL
	r.resetTimer()
	for i := range r.n {
		for k := range 2 {
			r.stopTimer()
			runtime.GC()
			r.startTimer()
			start := time.Now()
			if (i+k)%2 == 0 {
				var err error
				if c, err = loadCRL(der, ca.Cert); err != nil {
					r.Fatal(err)
				}
				tl = append(tl, time.Since(start))
				continue
			}
			rl, err := x509.ParseRevocationList(der)
			if err != nil {
				r.Fatal(err)
			}
			tx = append(tx, time.Since(start))
			start = time.Now()
			if err := rl.CheckSignatureFrom(ca.Cert); err != nil {
				r.Fatal(err)
			}
			ts = append(ts, time.Since(start))
		}
	}
	r.stopTimer()
	ml, mx, ms := median(tl), median(tx), median(ts)
	r.metric(float64(ml.Nanoseconds()), "load-ns")
	r.metric(float64(mx.Nanoseconds()), "x509-ns")
	r.metric(float64(mx)/float64(ml), "speedup")
	r.metric(float64(mx+ms)/float64(ml), "speedup-verified")
	r.metric(float64(c.RetainedBytes())/float64(n), "B/entry")

	// What the parsed x509.RevocationList keeps, for comparison.
	c = nil
	base := liveHeap()
	rl, _ := x509.ParseRevocationList(der)
	r.metric(float64(liveHeap()-base)/float64(n), "x509-B/entry")
	runtime.KeepAlive(rl)
	rl = nil

	c, err := loadCRL(der, ca.Cert)
	if err != nil {
		r.Fatal(err)
	}
	lookups := 1 << 16
	if r.b == nil {
		lookups = 1 << 8
	}
	l := lookupTime(r, c, n, lookups)
	r.metric(float64(l.Nanoseconds()), "lookup-ns")
	if n > 10_000 {
		small, err := loadCRL(bigCRL(r, 10_000), ca.Cert)
		if err != nil {
			r.Fatal(err)
		}
		// Alternate, so that drift affects both alike.
		var big, ref []time.Duration
		for range 5 {
			big = append(big, lookupTime(r, c, n, lookups))
			ref = append(ref, lookupTime(r, small, 10_000, lookups))
		}
		r.metric(float64(median(big))/float64(median(ref)), "lookup-vs-10k")
	}
}

// lookupTime returns the mean time of a lookup by *big.Int in c (n
// entries), half of them listed serials and half unlisted, in a scattered
// order.
func lookupTime(r *run, c *crlscan.CRL, n, k int) time.Duration {
	serials := make([]*big.Int, k)
	for i := range k {
		j := (i * 7919) % n // scattered
		if i%2 == 1 {
			j = n + i // not listed
		}
		serials[i] = new(big.Int).SetBytes(testpki.BigCRLSerial(j))
	}
	found := 0
	start := time.Now()
	for _, s := range serials {
		if _, ok := c.Lookup(s); ok {
			found++
		}
	}
	d := time.Since(start) / time.Duration(k)
	if found != k/2 {
		r.Fatalf("%d of %d listed serials found", found, k/2)
	}
	return d
}
