package googlepass_test

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/walletobjects/v1"

	"github.com/treue/treue/wallet/googlepass"
)

// saveLinkTestAccount returns the account the save link tests sign with.
func saveLinkTestAccount() googlepass.Account {
	return googlepass.Account{
		Email:    "wallet@treue-test.iam.gserviceaccount.com",
		KeyID:    "0123456789abcdef0123456789abcdef01234567",
		Key:      accountTestKeys()[0],
		IssuerID: accountTestIssuer,
	}
}

// saveLinkTestOrigins are the origins the save link tests' signers name.
var saveLinkTestOrigins = []string{"https://treue.example", "http://localhost:8080"}

// saveLinkTestObject returns a typical member's loyalty object, built by
// hand as NewLoyaltyObject would: id, class, state, account, points and a
// QR code.
func saveLinkTestObject(memberID string) *walletobjects.LoyaltyObject {
	return &walletobjects.LoyaltyObject{
		Id:          accountTestIssuer + ".demo-" + memberID,
		ClassId:     accountTestIssuer + ".demo",
		State:       "ACTIVE",
		AccountId:   memberID,
		AccountName: "Ada Lovelace",
		LoyaltyPoints: &walletobjects.LoyaltyPoints{
			Label:   "Points",
			Balance: &walletobjects.LoyaltyPointsBalance{Int: 1250},
		},
		Barcode: &walletobjects.Barcode{
			Type:          "QR_CODE",
			Value:         "treue:demo:" + memberID,
			AlternateText: memberID,
		},
	}
}

// newSaveLinkTestSigner returns a Signer for saveLinkTestAccount and
// saveLinkTestOrigins.
func newSaveLinkTestSigner(t testing.TB) *googlepass.Signer {
	t.Helper()
	s, err := googlepass.NewSigner(saveLinkTestAccount(), saveLinkTestOrigins)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// saveLinkJWT returns the JWT of link, failing t unless link starts with
// googlepass.SaveURLPrefix.
func saveLinkJWT(t testing.TB, link string) string {
	t.Helper()
	token, ok := strings.CutPrefix(link, googlepass.SaveURLPrefix)
	if !ok {
		t.Fatalf("link %.60q… does not start with %q", link, googlepass.SaveURLPrefix)
	}
	return token
}

// verifySaveLinkJWT verifies token with golang-jwt as Google would: RS256
// only, audience google, issuer the account's email, iat not after now.
func verifySaveLinkJWT(token string, pub *rsa.PublicKey, email string, now time.Time) (*jwt.Token, error) {
	return jwt.Parse(token, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithAudience("google"),
		jwt.WithIssuer(email),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
}

// decodeJWTPart returns the JSON of the JWT's part i (0 header, 1 claims).
func decodeJWTPart(t testing.TB, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT has %d parts, want 3", len(parts))
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("JWT part %d: %v", i, err)
	}
	return data
}

func TestSaveLinkVerifies(t *testing.T) {
	t.Parallel()
	acct := saveLinkTestAccount()
	s := newSaveLinkTestSigner(t)
	obj := saveLinkTestObject("M-1001")
	now := time.Now()

	link, err := s.SaveLink(obj, now)
	if err != nil {
		t.Fatal(err)
	}
	token := saveLinkJWT(t, link)
	if len(token) > googlepass.MaxJWTLength {
		t.Errorf("JWT is %d bytes, over MaxJWTLength", len(token))
	}
	t.Logf("typical object: JWT of %d bytes, link of %d", len(token), len(link))
	parsed, err := verifySaveLinkJWT(token, &acct.Key.PublicKey, acct.Email, now)
	if err != nil {
		t.Fatalf("golang-jwt does not verify the save link: %v", err)
	}
	wantHeader := map[string]any{"alg": "RS256", "typ": "JWT", "kid": acct.KeyID}
	if diff := cmp.Diff(wantHeader, parsed.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}

	claims := parsed.Claims.(jwt.MapClaims)
	if iat, _ := claims.GetIssuedAt(); iat == nil || iat.Unix() != now.Unix() || iat.After(time.Now()) {
		t.Errorf("iat = %v, want %d (now) and not in the future", iat, now.Unix())
	}
	wantClaims := map[string]any{
		"iss":     acct.Email,
		"aud":     "google",
		"typ":     "savetowallet",
		"iat":     float64(now.Unix()),
		"origins": []any{"https://treue.example", "http://localhost:8080"},
	}
	gotClaims := maps.Clone(map[string]any(claims))
	payload := gotClaims["payload"]
	delete(gotClaims, "payload")
	if diff := cmp.Diff(wantClaims, gotClaims); diff != "" {
		t.Errorf("claims besides payload (-want +got):\n%s", diff)
	}

	// The payload holds this member's object and nothing else.
	wantObj, err := obj.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var wantObjAny any
	if err := json.Unmarshal(wantObj, &wantObjAny); err != nil {
		t.Fatal(err)
	}
	wantPayload := map[string]any{"loyaltyObjects": []any{wantObjAny}}
	if diff := cmp.Diff(wantPayload, payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	// Decoded strictly, the same: one object with the member's id.
	var strict struct {
		Payload struct {
			LoyaltyObjects []walletobjects.LoyaltyObject `json:"loyaltyObjects"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(decodeJWTPart(t, token, 1), &strict); err != nil {
		t.Fatal(err)
	}
	if objs := strict.Payload.LoyaltyObjects; len(objs) != 1 || objs[0].Id != obj.Id || objs[0].AccountId != "M-1001" {
		t.Errorf("payload objects = %+v, want only %s", objs, obj.Id)
	}
}

func TestSaveLinkOnlyThatMember(t *testing.T) {
	t.Parallel()
	s := newSaveLinkTestSigner(t)
	now := time.Unix(1_760_000_000, 0)
	a, err := s.SaveLink(saveLinkTestObject("M-1001"), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.SaveLink(saveLinkTestObject("M-2002"), now)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ link, own, other string }{{a, "M-1001", "M-2002"}, {b, "M-2002", "M-1001"}} {
		claims := decodeJWTPart(t, saveLinkJWT(t, tc.link), 1)
		if !bytes.Contains(claims, []byte(tc.own)) || bytes.Contains(claims, []byte(tc.other)) {
			t.Errorf("claims %s: want member %s only", claims, tc.own)
		}
	}
	// PKCS #1 v1.5 is deterministic: the same object and time, the same link.
	again, err := s.SaveLink(saveLinkTestObject("M-1001"), now)
	if err != nil || again != a {
		t.Errorf("signing again gave another link (err %v)", err)
	}
}

func TestSaveLinkWrongKeyFails(t *testing.T) {
	t.Parallel()
	acct := saveLinkTestAccount()
	now := time.Now()
	link, err := newSaveLinkTestSigner(t).SaveLink(saveLinkTestObject("M-1001"), now)
	if err != nil {
		t.Fatal(err)
	}
	token := saveLinkJWT(t, link)

	other := accountTestKeys()[1]
	if _, err := verifySaveLinkJWT(token, &other.PublicKey, acct.Email, now); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("verifying with another key: err = %v, want %v", err, jwt.ErrTokenSignatureInvalid)
	}
	// Another member's object in place of this one's breaks the signature.
	parts := strings.Split(token, ".")
	claims := bytes.ReplaceAll(decodeJWTPart(t, token, 1), []byte("M-1001"), []byte("M-6666"))
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
	if _, err := verifySaveLinkJWT(forged, &acct.Key.PublicKey, acct.Email, now); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
		t.Errorf("verifying a forged payload: err = %v, want %v", err, jwt.ErrTokenSignatureInvalid)
	}
	// Wrong issuer, wrong audience expectations fail too.
	if _, err := verifySaveLinkJWT(token, &acct.Key.PublicKey, "someone@else.iam.gserviceaccount.com", now); err == nil {
		t.Error("verified with another issuer")
	}
	// A clock before iat: the JWT is not yet valid.
	if _, err := verifySaveLinkJWT(token, &acct.Key.PublicKey, acct.Email, now.Add(-time.Minute)); !errors.Is(err, jwt.ErrTokenUsedBeforeIssued) {
		t.Errorf("verifying a minute before iat: err = %v, want %v", err, jwt.ErrTokenUsedBeforeIssued)
	}
}

func TestSaveLinkAlgorithm(t *testing.T) {
	t.Parallel()
	acct := saveLinkTestAccount()
	for _, kid := range []string{acct.KeyID, ""} {
		acct.KeyID = kid
		s, err := googlepass.NewSigner(acct, nil)
		if err != nil {
			t.Fatal(err)
		}
		link, err := s.SaveLink(saveLinkTestObject("M-1001"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		token := saveLinkJWT(t, link)
		var header map[string]any
		if err := json.Unmarshal(decodeJWTPart(t, token, 0), &header); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"alg": "RS256", "typ": "JWT"}
		if kid != "" {
			want["kid"] = kid
		}
		if diff := cmp.Diff(want, header); diff != "" {
			t.Errorf("header with kid %q (-want +got):\n%s", kid, diff)
		}
		// Neither "none" nor an HMAC reading of the token is accepted.
		for _, method := range []string{"none", "HS256"} {
			_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(acct.Email), nil },
				jwt.WithValidMethods([]string{method}))
			if err == nil {
				t.Errorf("the token verifies as %s", method)
			}
		}
		if sig := strings.Split(token, ".")[2]; len(sig) != base64.RawURLEncoding.EncodedLen(256) {
			t.Errorf("signature is %d characters, want an RSA-2048 signature's %d", len(sig), base64.RawURLEncoding.EncodedLen(256))
		}
		// No claims beyond Google's: no exp, nbf or jti.
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(decodeJWTPart(t, token, 1), &claims); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(claims))
		for k := range claims {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"aud", "iat", "iss", "origins", "payload", "typ"}; !slices.Equal(keys, want) {
			t.Errorf("claims %v, want %v", keys, want)
		}
		if string(claims["origins"]) != "[]" {
			t.Errorf("origins with none configured = %s, want []", claims["origins"])
		}
	}
}

func TestNewSignerOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		origins []string
		want    []string // nil: an error
	}{
		{nil, []string{}},
		{[]string{}, []string{}},
		{[]string{"https://treue.example"}, []string{"https://treue.example"}},
		{[]string{"https://treue.example:8443", "https://app.treue.example"}, []string{"https://treue.example:8443", "https://app.treue.example"}},
		{[]string{"HTTPS://Treue.Example"}, []string{"https://treue.example"}},
		{[]string{"http://localhost"}, []string{"http://localhost"}},
		{[]string{"http://localhost:8080"}, []string{"http://localhost:8080"}},
		{[]string{"http://127.0.0.1:3000"}, []string{"http://127.0.0.1:3000"}},
		{[]string{"http://[::1]:3000"}, []string{"http://[::1]:3000"}},
		{[]string{"https://xn--trne-0ra.example"}, []string{"https://xn--trne-0ra.example"}},
		{[]string{"http://treue.example"}, nil},
		{[]string{"http://localhost.treue.example"}, nil},
		{[]string{"https://treue.example/"}, nil},
		{[]string{"https://treue.example/wallet"}, nil},
		{[]string{"https://treue.example?x=1"}, nil},
		{[]string{"https://treue.example?"}, nil},
		{[]string{"https://treue.example#top"}, nil},
		{[]string{"https://user@treue.example"}, nil},
		{[]string{"https://treue.example:"}, nil},
		{[]string{"https://treue.example:0"}, nil},
		{[]string{"https://treue.example:08443"}, nil},
		{[]string{"https://treue.example:65536"}, nil},
		{[]string{"https://"}, nil},
		{[]string{"https:treue.example"}, nil},
		{[]string{"treue.example"}, nil},
		{[]string{"//treue.example"}, nil},
		{[]string{"ftp://treue.example"}, nil},
		{[]string{"javascript://treue.example"}, nil},
		{[]string{""}, nil},
		{[]string{"https://treue.example", "https://TREUE.example"}, nil},
		{[]string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example",
			"https://f.example", "https://g.example", "https://h.example", "https://i.example", "https://j.example"},
			[]string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example",
				"https://f.example", "https://g.example", "https://h.example", "https://i.example", "https://j.example"}},
		{[]string{"https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example",
			"https://f.example", "https://g.example", "https://h.example", "https://i.example", "https://j.example",
			"https://k.example"}, nil},
	}
	for _, tt := range tests {
		s, err := googlepass.NewSigner(saveLinkTestAccount(), tt.origins)
		if tt.want == nil {
			if err == nil {
				t.Errorf("NewSigner(origins %q) = nil error, want an error", tt.origins)
			}
			continue
		}
		if err != nil {
			t.Errorf("NewSigner(origins %q) = %v", tt.origins, err)
			continue
		}
		link, err := s.SaveLink(saveLinkTestObject("M-1"), time.Now())
		if err != nil {
			t.Errorf("origins %q: SaveLink = %v", tt.origins, err)
			continue
		}
		var claims struct{ Origins []string }
		if err := json.Unmarshal(decodeJWTPart(t, saveLinkJWT(t, link), 1), &claims); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(claims.Origins, tt.want) {
			t.Errorf("NewSigner(origins %q): claim origins %q, want %q", tt.origins, claims.Origins, tt.want)
		}
	}
}

func TestNewSignerAccountErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*googlepass.Account){
		"no key":         func(a *googlepass.Account) { a.Key = nil },
		"no email":       func(a *googlepass.Account) { a.Email = "" },
		"bad email":      func(a *googlepass.Account) { a.Email = "wallet at treue" },
		"no issuer":      func(a *googlepass.Account) { a.IssuerID = "" },
		"issuer letters": func(a *googlepass.Account) { a.IssuerID = "issuer" },
		"key id with \"": func(a *googlepass.Account) { a.KeyID = `a"b` },
		"broken key": func(a *googlepass.Account) {
			k := *a.Key
			k.E = 4 // even: not a valid RSA key
			a.Key = &k
		},
	}
	for name, edit := range tests {
		acct := saveLinkTestAccount()
		edit(&acct)
		if _, err := googlepass.NewSigner(acct, nil); err == nil {
			t.Errorf("%s: NewSigner = nil error", name)
		} else if strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: error %q names key material", name, err)
		}
	}
}

func TestSaveLinkObjectErrors(t *testing.T) {
	t.Parallel()
	s := newSaveLinkTestSigner(t)
	now := time.Now()
	otherIssuer := saveLinkTestObject("M-1")
	otherIssuer.Id = "3388000000000099999.demo-M-1"
	noSuffix := saveLinkTestObject("M-1")
	noSuffix.Id = accountTestIssuer + "."
	noID := saveLinkTestObject("M-1")
	noID.Id = ""
	prefixOnly := saveLinkTestObject("M-1")
	prefixOnly.Id = accountTestIssuer + "1.demo-M-1" // issuer id as a prefix of another
	otherClass := saveLinkTestObject("M-1")
	otherClass.ClassId = "3388000000000099999.demo"
	noClass := saveLinkTestObject("M-1")
	noClass.ClassId = ""

	tests := []struct {
		name string
		obj  *walletobjects.LoyaltyObject
		now  time.Time
	}{
		{"nil object", nil, now},
		{"other issuer's object", otherIssuer, now},
		{"id is only the issuer", noSuffix, now},
		{"no id", noID, now},
		{"id of a longer issuer", prefixOnly, now},
		{"other issuer's class", otherClass, now},
		{"no class", noClass, now},
		{"zero time", saveLinkTestObject("M-1"), time.Time{}},
	}
	for _, tt := range tests {
		if link, err := s.SaveLink(tt.obj, tt.now); err == nil {
			t.Errorf("%s: SaveLink = %.60q…, nil; want an error", tt.name, link)
		}
	}
}

func TestSaveLinkTooLong(t *testing.T) {
	t.Parallel()
	s := newSaveLinkTestSigner(t)
	obj := saveLinkTestObject("M-1001")
	obj.TextModulesData = []*walletobjects.TextModuleData{{
		Id:     "rules",
		Header: "Programme rules",
		Body:   strings.Repeat("Earn one point for every euro spent. ", 40),
	}}
	link, err := s.SaveLink(obj, time.Now())
	if !errors.Is(err, googlepass.ErrLinkTooLong) {
		t.Fatalf("SaveLink(oversized object) = %.60q…, %v; want ErrLinkTooLong", link, err)
	}

	// Just under and just over the limit, by growing one field.
	var under, over bool
	for n := 0; n < 1500 && !over; n += 7 {
		obj.TextModulesData[0].Body = strings.Repeat("x", n)
		link, err := s.SaveLink(obj, time.Now())
		switch {
		case err == nil:
			under = true
			if l := len(saveLinkJWT(t, link)); l > googlepass.MaxJWTLength {
				t.Fatalf("body of %d: JWT of %d bytes accepted", n, l)
			}
		case errors.Is(err, googlepass.ErrLinkTooLong):
			over = true
		default:
			t.Fatal(err)
		}
	}
	if !under || !over {
		t.Errorf("never crossed the limit: under %v, over %v", under, over)
	}
}

func TestSaveLinkConcurrent(t *testing.T) {
	t.Parallel()
	acct := saveLinkTestAccount()
	s := newSaveLinkTestSigner(t)
	now := time.Now()
	var wg sync.WaitGroup
	for _, id := range []string{"M-1", "M-2", "M-3", "M-4", "M-5", "M-6"} {
		wg.Go(func() {
			link, err := s.SaveLink(saveLinkTestObject(id), now)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := verifySaveLinkJWT(strings.TrimPrefix(link, googlepass.SaveURLPrefix), &acct.Key.PublicKey, acct.Email, now); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		})
	}
	wg.Wait()
}
