package crlscan

import (
	"crypto/x509"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tlsclient/tlsclient/internal/testpki"
)

// benchCA signs the benchmark CRLs (RSA 2048, as most public CAs).
var benchCA = sync.OnceValue(func() *testpki.Cert {
	return testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Bench CA", Key: testpki.RSA2048}))
})

var benchCRLs sync.Map // size -> []byte

func benchCRL(b testing.TB, n int) []byte {
	if v, ok := benchCRLs.Load(n); ok {
		return v.([]byte)
	}
	der, err := benchCA().BigCRL(n)
	if err != nil {
		b.Fatal(err)
	}
	benchCRLs.Store(n, der)
	return der
}

// load is what a relying party does with a downloaded CRL: read the
// header, verify the signature while scanning the entries, keep the index
// only.
func load(der []byte, issuer *x509.Certificate) (*CRL, error) {
	c, err := ParseHeader(der)
	if err != nil {
		return nil, err
	}
	var sigErr error
	var wg sync.WaitGroup
	wg.Go(func() { sigErr = c.CheckSignature(issuer) })
	err = c.ScanEntries()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if sigErr != nil {
		return nil, sigErr
	}
	c.Release()
	return c, nil
}

// loadSequential is load on one goroutine.
func loadSequential(der []byte, issuer *x509.Certificate) (*CRL, error) {
	c, err := Parse(der)
	if err != nil {
		return nil, err
	}
	if err := c.CheckSignature(issuer); err != nil {
		return nil, err
	}
	c.Release()
	return c, nil
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkLoad measures loading a CRL (scan, verify the signature, build
// the index) and reports, beside ns/op:
//
//	x509-ns/op      x509.ParseRevocationList alone on the same bytes: mean
//	                of 3 to 20 back-to-back runs, GC included
//	speedup         x509-ns/op divided by ns/op
//	x509-best-ns/op the fastest of those runs started after a forced GC
//	                (its collection cost excluded)
//	speedup-vs-best x509-best-ns/op divided by ns/op
//	index-B/entry   bytes the index retains per entry (exact)
//	heap-B/entry    live heap per entry after GC, DER dropped (MemStats)
//	x509-heap-B/entry  the same for the parsed x509.RevocationList
func BenchmarkLoad(b *testing.B) {
	benchLoad(b, load)
}

// BenchmarkLoadSequential is BenchmarkLoad with the signature checked
// after the scan, on one goroutine.
func BenchmarkLoadSequential(b *testing.B) {
	benchLoad(b, loadSequential)
}

func benchLoad(b *testing.B, load func([]byte, *x509.Certificate) (*CRL, error)) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			der := benchCRL(b, n)
			issuer := benchCA().Cert
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			var c *CRL
			for b.Loop() {
				var err error
				if c, err = load(der, issuer); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			// x509.ParseRevocationList on the same bytes, two ways: the
			// mean of back-to-back runs, garbage collection included (what
			// a program pays), and the fastest run started on a freshly
			// collected heap (the most favourable to crypto/x509).
			var rl *x509.RevocationList
			runs := max(3, min(20, 1_000_000/n))
			best := math.MaxFloat64
			for range runs {
				runtime.GC()
				start := time.Now()
				var err error
				if rl, err = x509.ParseRevocationList(der); err != nil {
					b.Fatal(err)
				}
				best = min(best, float64(time.Since(start).Nanoseconds()))
			}
			rl = nil
			runtime.GC()
			start := time.Now()
			for range runs {
				var err error
				if rl, err = x509.ParseRevocationList(der); err != nil {
					b.Fatal(err)
				}
			}
			mean := float64(time.Since(start).Nanoseconds()) / float64(runs)
			b.ReportMetric(mean, "x509-ns/op")
			b.ReportMetric(mean/perOp, "speedup")
			b.ReportMetric(best, "x509-best-ns/op")
			b.ReportMetric(best/perOp, "speedup-vs-best")
			b.ReportMetric(float64(c.RetainedBytes())/float64(n), "index-B/entry")

			rl = nil
			c = nil
			base := heapAfterGC()
			c, _ = load(der, issuer)
			b.ReportMetric(float64(heapAfterGC()-base)/float64(n), "heap-B/entry")
			runtime.KeepAlive(c)
			c = nil
			base = heapAfterGC()
			rl, _ = x509.ParseRevocationList(der)
			b.ReportMetric(float64(heapAfterGC()-base)/float64(n), "x509-heap-B/entry")
			runtime.KeepAlive(rl)
		})
	}
}

// BenchmarkParseX509 is crypto/x509's parse alone, for comparison with
// BenchmarkLoad's ns/op.
func BenchmarkParseX509(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			der := benchCRL(b, n)
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x509.ParseRevocationList(der); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanOnly is the scan and index build without the signature.
func BenchmarkScanOnly(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			der := benchCRL(b, n)
			b.SetBytes(int64(len(der)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(der); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSignatureOnly is the signature check alone (hashing the
// TBSCertList dominates).
func BenchmarkSignatureOnly(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			der := benchCRL(b, n)
			c, err := ParseHeader(der)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(der)))
			for b.Loop() {
				if err := c.CheckSignature(benchCA().Cert); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLookup looks up listed and unlisted serials in a
// million-entry CRL.
func BenchmarkLookup(b *testing.B) {
	c, err := load(benchCRL(b, 1_000_000), benchCA().Cert)
	if err != nil {
		b.Fatal(err)
	}
	const k = 1 << 16
	listed := make([]*big.Int, k)
	unlisted := make([]*big.Int, k)
	for i := range k {
		listed[i] = new(big.Int).SetBytes(testpki.BigCRLSerial(i * 241 % 1_000_000))
		unlisted[i] = new(big.Int).SetBytes(testpki.BigCRLSerial(2_000_000 + i))
	}
	b.Run("listed", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok := c.Lookup(listed[i&(k-1)]); !ok {
				b.Fatal("not found")
			}
			i++
		}
	})
	b.Run("unlisted", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, ok := c.Lookup(unlisted[i&(k-1)]); ok {
				b.Fatal("found")
			}
			i++
		}
	})
	b.Run("listed-bytes", func(b *testing.B) {
		raw := make([][]byte, k)
		for i := range k {
			raw[i] = testpki.BigCRLSerial(i * 241 % 1_000_000)
		}
		i := 0
		for b.Loop() {
			if _, ok := c.LookupBytes(raw[i&(k-1)]); !ok {
				b.Fatal("not found")
			}
			i++
		}
	})
}

// TestBigCRL checks the benchmark builder's output against crypto/x509 and
// the index's size bound, on a CRL small enough for every test run.
func TestBigCRL(t *testing.T) {
	t.Parallel()
	ca := testpki.Must(testpki.NewRoot(testpki.CertOptions{CommonName: "Bench CA"}))
	der, err := ca.BigCRL(20_000)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := compareWithX509(t, der)
	if c == nil {
		t.Fatal("rejected")
	}
	if err := c.CheckSignature(ca.Cert); err != nil {
		t.Fatal(err)
	}
	if per := float64(c.RetainedBytes()) / float64(c.Len()); per > 48 {
		t.Errorf("index keeps %.1f bytes per entry, want at most 48", per)
	}
	e, ok := c.LookupBytes(testpki.BigCRLSerial(3))
	if !ok || e.Reason != 1 {
		t.Errorf("entry 3: %v %+v", ok, e)
	}
}
