package applepass

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkPackage compares packaging a pass (a 1.3 KB pass.json with the
// demo's ~400 KB images and two localizations) against the least any
// signed package of those bytes costs: one SHA-256 over pass.json and the
// images and one RSA-2048 signature with the same key. Both report
// passes/s; the target is treue ≥ 0.6× rsa-baseline.
//
//	go test -run '^$' -bench BenchmarkPackage -benchtime 3s ./wallet/applepass/
func BenchmarkPackage(b *testing.B) {
	id, _, _ := devIdentityForTest(b)
	files := demoFilesForTest(b)
	p, err := NewPackager(id, files)
	if err != nil {
		b.Fatal(err)
	}
	size := len(samplePassJSON)
	for _, f := range files {
		size += len(f.Data)
	}
	now := time.Now()

	b.Run("treue", func(b *testing.B) {
		b.SetBytes(int64(size))
		n := 0
		for b.Loop() {
			if _, err := p.Package(samplePassJSON, now); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "passes/s")
	})

	// What GetApplePass and the web service do after reading the card:
	// pass.json from the card state, validated, then packaged.
	in := demoCardPass(b, "de")
	b.Run("treue-from-card", func(b *testing.B) {
		b.SetBytes(int64(size))
		n := 0
		for b.Loop() {
			pass, err := NewCardPass(in)
			if err != nil {
				b.Fatal(err)
			}
			passJSON, err := pass.JSON()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Package(passJSON, now); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "passes/s")
	})

	b.Run("rsa-baseline", func(b *testing.B) {
		key := id.Key.(*rsa.PrivateKey)
		b.SetBytes(int64(size))
		n := 0
		for b.Loop() {
			h := sha256.New()
			h.Write(samplePassJSON)
			for _, f := range files {
				h.Write(f.Data)
			}
			if _, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h.Sum(nil)); err != nil {
				b.Fatal(err)
			}
			n++
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "passes/s")
	})
}
