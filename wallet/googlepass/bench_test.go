package googlepass_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/api/walletobjects/v1"
)

// BenchmarkSaveLink compares Signer.SaveLink on a typical member's object
// (points, QR code; a ~1.1 KB JWT) with golang-jwt v5 signing the same
// claims and header with the same RSA-2048 key, the cost of a save link
// made the common way. Both report links/s; the target is treue ≥ 0.9×
// golang-jwt. RSA signing dominates both.
//
//	go test -run '^$' -bench SaveLink -benchtime 2s -count 3 ./wallet/googlepass/
func BenchmarkSaveLink(b *testing.B) {
	acct := saveLinkTestAccount()
	obj := saveLinkTestObject("M-1001")
	now := time.Unix(1_760_000_000, 0)

	b.Run("treue", func(b *testing.B) {
		s := newSaveLinkTestSigner(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SaveLink(obj, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
	})

	b.Run("golang-jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			claims := jwt.MapClaims{
				"iss":     acct.Email,
				"aud":     "google",
				"typ":     "savetowallet",
				"origins": saveLinkTestOrigins,
				"iat":     now.Unix(),
				"payload": map[string][]*walletobjects.LoyaltyObject{"loyaltyObjects": {obj}},
			}
			token := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
			token.Header["kid"] = acct.KeyID
			if _, err := token.SignedString(acct.Key); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "links/s")
	})
}
