package bff_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/treue/treue/assets"
	"github.com/treue/treue/bff"
	"github.com/treue/treue/gamification"
	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
	"github.com/treue/treue/realtime/memory"
	"github.com/treue/treue/store/sqlite"
	"github.com/treue/treue/wallet/applepass"
	"github.com/treue/treue/wallet/googlepass"
)

// matrixPrincipal is a caller of the authorization matrix.
type matrixPrincipal int

// The principals, in the order each procedure's cells run: every intruder
// tries the owner's data before its rightful caller touches it.
const (
	asNobody matrixPrincipal = iota
	asTillB
	asOperatorB
	asOther
	asTillA
	asOperatorA
	asOwner
)

var matrixPrincipals = []matrixPrincipal{asNobody, asTillB, asOperatorB, asOther, asTillA, asOperatorA, asOwner}

func (p matrixPrincipal) String() string {
	return [...]string{"nobody", "till-B", "operator-B", "other-customer", "till-A", "operator-A", "owner"}[p]
}

// cellExpectation is what the audience table says a cell must answer.
type cellExpectation int

const (
	// expectOK: the rightful caller of valid requests; code OK.
	expectOK cellExpectation = iota
	// expectAllowed: a caller of the procedure's audience acting on its
	// own data; any code but unauthenticated and permission_denied.
	expectAllowed
	// expectIsolated: program B's till or operator naming program A's
	// objects; not_found or permission_denied.
	expectIsolated
	// expectOwnProgram: program B's operator on a procedure that names
	// nothing of program A; it acts on program B, and nothing of A may show
	// or move.
	expectOwnProgram
	// expectRefused: a caller outside the procedure's audience;
	// unauthenticated or permission_denied.
	expectRefused
)

// expectFor returns what the audience table says who must get from a
// procedure of audience ("customer", "till", "operator" or "").
func expectFor(audience string, who matrixPrincipal, rc rpcCase) cellExpectation {
	switch {
	case audience == "customer" && who == asOwner:
		return expectOK
	case audience == "customer" && who == asOther:
		return expectAllowed
	case audience == "till" && who == asTillA, audience == "operator" && who == asOperatorA:
		return expectOK
	case audience == "till" && who == asTillB, audience == "operator" && who == asOperatorB && rc.namesTarget:
		return expectIsolated
	case audience == "operator" && who == asOperatorB:
		return expectOwnProgram
	}
	return expectRefused
}

// The owner's challenge, and the challenge AdminService.EndChallenge ends.
const (
	ownerChallenge = "three-visits"
	challengeToEnd = "matrix-end-me"
)

// matrixMember is a customer of program A.
type matrixMember struct {
	uid, card, memberID string
	customer            loyalty.Customer
	// secrets are values only this member's answers may hold.
	secrets []string
}

// matrix is the state of TestAuthorizationMatrix.
type matrix struct {
	e   *env
	opA loyalty.Operator
	// owner's data is what every cell aims at; other is another
	// customer of program A. deletesSelf and erasedByOperator are thrown
	// away by PrivacyService.DeleteMyAccount and AdminService.EraseMember.
	owner, other, deletesSelf, erasedByOperator *matrixMember

	ownerName, ownerEmail                  string
	ownerPushToken, referralCode           string
	ownerVoucher, ownerPurchaseID          string
	ownerHoldToCapture, ownerHoldToRelease string
	ownerPageToken, ownerHomeVersion       string

	seq     int
	results []cellResult
}

type cellResult struct {
	rpc  string
	who  matrixPrincipal
	want cellExpectation
	code string
}

// TestAuthorizationMatrix calls every procedure of every service the
// server describes as each of seven principals, with requests aimed at one
// customer's data (the owner's), and checks each answer against the
// audience table: who may call, and that nobody else reaches or sees the
// owner's data (BOLA) or calls what is not theirs to call (BFLA).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	m := newMatrix(t)
	procedures := m.procedures(t)
	var covered []string
	for _, p := range procedures {
		_, built := rpcCases[p]
		switch {
		case !bff.HasAudience(p):
			t.Errorf("%s has no entry in the audience table (bff/audience.go)", p)
		case !built:
			t.Errorf("%s has no request in rpcCases (bff/authz_requests_test.go): classify and cover it", p)
		default:
			covered = append(covered, p)
		}
	}
	for p := range rpcCases {
		if !slices.Contains(procedures, p) {
			t.Errorf("rpcCases has %s, which no service of serviceNames has", p)
		}
	}
	// The procedures that erase their subject run last.
	slices.SortStableFunc(covered, func(a, b string) int {
		switch la, lb := rpcCases[a].last, rpcCases[b].last; {
		case la && !lb:
			return 1
		case lb && !la:
			return -1
		}
		return 0
	})
	for _, p := range covered {
		rc := rpcCases[p]
		audience := bff.AudienceName(p)
		t.Run(shortName(p), func(t *testing.T) {
			for _, who := range matrixPrincipals {
				t.Run(who.String(), func(t *testing.T) { m.cell(t, p, rc, audience, who) })
			}
		})
	}

	var allowedCells, refusedCells, ownProgramCells int
	var table []string
	for i, r := range m.results {
		if r.want == expectOK || r.want == expectAllowed {
			allowedCells++
		} else {
			refusedCells++
		}
		if r.want == expectOwnProgram {
			ownProgramCells++
		}
		if i == 0 || m.results[i-1].rpc != r.rpc {
			table = append(table, fmt.Sprintf("%-38s", r.rpc))
		}
		table[len(table)-1] += fmt.Sprintf(" %s=%s", r.who, r.code)
	}
	t.Logf("outcomes (first try of each cell):\n%s", strings.Join(table, "\n"))
	t.Logf("%d refused cells are program B's operator acting on program B (nothing of program A named, seen or changed)", ownProgramCells)
	t.Logf("RPCs covered: %d of %d; cells: %d; allowed: %d; refused: %d",
		len(covered), len(procedures), len(m.results), allowedCells, refusedCells)
}

// procedures returns every procedure of every service the server lists in
// its reflection service (bff's serviceNames), read from the generated
// descriptors.
func (m *matrix) procedures(t *testing.T) []string {
	t.Helper()
	stream := grpcreflect.NewClient(m.e.client, m.e.server.URL).NewStream(context.Background())
	services, err := stream.ListServices()
	if err != nil {
		t.Fatalf("listing the served services: %v", err)
	}
	if _, err := stream.Close(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range services {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		if err != nil {
			t.Fatalf("service %s: %v", name, err)
		}
		s, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			t.Fatalf("%s is a %T, not a service", name, d)
		}
		for i := 0; i < s.Methods().Len(); i++ {
			out = append(out, "/"+string(s.FullName())+"/"+string(s.Methods().Get(i).Name()))
		}
	}
	// A service of treue.v1 missing from serviceNames would escape the
	// matrix (and reflection and health).
	protoregistry.GlobalFiles.RangeFilesByPackage("treue.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			if name := fd.Services().Get(i).FullName(); !slices.Contains(services, name) {
				t.Errorf("service %s is not in serviceNames: the server does not describe it", name)
			}
		}
		return true
	})
	if len(out) < 30 {
		t.Fatalf("found only %d procedures: %v", len(out), out)
	}
	return out
}

// shortName returns "Service.Method" of "/treue.v1.Service/Method".
func shortName(procedure string) string {
	svc, method, _ := strings.Cut(strings.TrimPrefix(procedure, "/"), "/")
	return svc[strings.LastIndex(svc, ".")+1:] + "." + method
}

// cell calls procedure as who and checks the answer.
func (m *matrix) cell(t *testing.T, procedure string, rc rpcCase, audience string, who matrixPrincipal) {
	s := m.owner
	if rc.subject != nil {
		s = rc.subject(m)
	}
	want := expectFor(audience, who, rc)
	r := cellResult{rpc: shortName(procedure), who: who, want: want}
	defer func() { m.results = append(m.results, r) }()

	// Only the rightful caller may change the subject's data (and program
	// A's rules and catalog).
	var before string
	if want != expectOK {
		before = m.snapshot(t, s)
	}
	for i, creds := range m.credentials(who, s) {
		res, err := rc.call(t, m, procedure, who, s, []connect.ClientOption{headers(creds...)})
		code := codeName(err)
		if i == 0 {
			r.code = code
		}
		switch {
		case who != asNobody:
			t.Logf("answer: %s", code)
		case len(creds) > 2:
			t.Logf("Authorization %q: %s", creds[len(creds)-1], code)
		default:
			t.Logf("no Authorization header: %s", code)
		}
		m.judge(t, rc, want, who, s, res, err)
		if err == nil && rc.after != nil {
			rc.after(t, m, who, s)
		}
	}
	if want != expectOK {
		if diff := cmp.Diff(before, m.snapshot(t, s)); diff != "" {
			t.Errorf("%s changed the data of %s (-before +after):\n%s", who, s.uid, diff)
		}
	}
}

// judge checks one answer against what the cell expects.
func (m *matrix) judge(t *testing.T, rc rpcCase, want cellExpectation, who matrixPrincipal, s *matrixMember, res proto.Message, err error) {
	t.Helper()
	code := connect.CodeOf(err)
	authCode := err != nil && (code == connect.CodeUnauthenticated || code == connect.CodePermissionDenied)
	if err != nil && (code == connect.CodeInternal || code == connect.CodeUnknown) {
		// The typical answer of a handler that found no principal of its
		// kind: a procedure classified for the wrong audience.
		t.Errorf("%s got %v: no cell may fail internally", who, err)
		return
	}
	switch want {
	case expectOK:
		if err != nil {
			t.Errorf("%s must succeed, got %v", who, err)
		}
	case expectAllowed:
		if authCode {
			t.Errorf("%s is in the audience and acts on its own data, got %v", who, err)
		}
	case expectIsolated:
		if err == nil || (code != connect.CodeNotFound && code != connect.CodePermissionDenied) {
			t.Errorf("%s reached program A's object: got %s (%v), want not_found or permission_denied", who, codeName(err), err)
		}
	case expectOwnProgram:
		if err != nil && code == connect.CodeUnauthenticated {
			t.Errorf("%s holds a valid key of the audience, got %v", who, err)
		}
	case expectRefused:
		if !authCode {
			t.Errorf("%s is not in the audience: got %s (%v), want unauthenticated or permission_denied", who, codeName(err), err)
		}
	}
	if err != nil {
		return
	}
	if who == asOwner && rc.showsCard && !strings.Contains(revealed(res), s.card) {
		t.Errorf("the owner's answer does not show the owner's card number where the leak check looks: the check of others' answers is blind:\n%s", protojson.Format(res))
	}
	// The members an answer names are the caller's own.
	if who == asOwner || who == asOther {
		self := s
		if who == asOther {
			self = m.other
		}
		checkNamedMember(t, res.ProtoReflect(), self)
	}
	// Nothing of the owner's (or of the subject's) reaches anyone else.
	if who == asOther || who == asTillB || who == asOperatorB || want == expectRefused {
		text := revealed(res)
		for _, secret := range append(m.secrets(t, m.owner), m.secrets(t, s)...) {
			if strings.Contains(text, secret) {
				t.Errorf("%s's answer holds %q, another member's:\n%s", who, secret, protojson.Format(res))
			}
		}
	}
}

// credentials returns the request headers of who: for nobody, no
// Authorization header and malformed ones. Every caller names program A.
func (m *matrix) credentials(who matrixPrincipal, s *matrixMember) [][]string {
	bearer := func(token string) []string {
		return []string{bff.ProgramHeader, programA, "Authorization", "Bearer " + token}
	}
	switch who {
	case asOwner:
		return [][]string{bearer("dev:" + s.uid)}
	case asOther:
		return [][]string{bearer("dev:" + m.other.uid)}
	case asTillA:
		return [][]string{bearer(tillKeyA)}
	case asTillB:
		return [][]string{bearer(tillKeyB)}
	case asOperatorA:
		return [][]string{bearer(operatorKeyA)}
	case asOperatorB:
		return [][]string{bearer(operatorKeyB)}
	}
	malformed := []string{
		"Bearer ",
		"Bearer",
		"Basic " + base64.StdEncoding.EncodeToString([]byte(s.uid+":"+tillKeyA)),
		"dev:" + s.uid,               // the owner's token without its scheme
		"Bearer dev:",                // no uid
		"Bearer dev:" + s.uid + " x", // a uid with a space
		"Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJvd25lciJ9.",
		"Bearer " + tillKeyA + "-forged",
		"Bearer " + operatorKeyA[:len(operatorKeyA)-1],
	}
	out := [][]string{{bff.ProgramHeader, programA}}
	for _, h := range malformed {
		out = append(out, []string{bff.ProgramHeader, programA, "Authorization", h})
	}
	return out
}

func codeName(err error) string {
	if err == nil {
		return "ok"
	}
	return connect.CodeOf(err).String()
}

// checkNamedMember fails the test when msg names a card or member other
// than self's.
func checkNamedMember(t *testing.T, msg protoreflect.Message, self *matrixMember) {
	t.Helper()
	walkFields(msg, func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		if fd.Kind() != protoreflect.StringKind || v.String() == "" {
			return
		}
		switch fd.Name() {
		case "card_number":
			if v.String() != self.card {
				t.Errorf("the answer names card %s, not the caller's %s", v.String(), self.card)
			}
		case "member_id":
			if v.String() != self.memberID {
				t.Errorf("the answer names member %s, not the caller's %s", v.String(), self.memberID)
			}
		}
	})
}

// walkFields calls fn with every set scalar field of msg and its messages.
func walkFields(msg protoreflect.Message, fn func(protoreflect.FieldDescriptor, protoreflect.Value)) {
	visit := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
			walkFields(v.Message(), fn)
			return
		}
		fn(fd, v)
	}
	msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			for i := 0; i < v.List().Len(); i++ {
				visit(fd, v.List().Get(i))
			}
		case fd.IsMap():
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				visit(fd.MapValue(), mv)
				return true
			})
		default:
			visit(fd, v)
		}
		return true
	})
}

// revealed returns all an answer shows: its JSON, its bytes fields as they
// are and unpacked (a pass file's pass.json, a gzipped or zipped export),
// and the base64 parts of its strings decoded (a save link's JWT).
func revealed(msg proto.Message) string {
	var b strings.Builder
	js, _ := protojson.Marshal(msg)
	b.Write(js)
	walkFields(msg.ProtoReflect(), func(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
		switch fd.Kind() {
		case protoreflect.BytesKind:
			unpackBytes(&b, v.Bytes())
		case protoreflect.StringKind:
			s := v.String()
			if u, err := url.QueryUnescape(s); err == nil {
				s = u
			}
			b.WriteString(s)
			for _, part := range strings.FieldsFunc(s, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '+' || r == '/')
			}) {
				for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
					if d, err := enc.DecodeString(part); err == nil && len(part) >= 8 {
						b.Write(d)
					}
				}
			}
		}
	})
	return b.String()
}

// unpackBytes writes p and, when it is a zip archive or gzipped, its contents.
func unpackBytes(b *strings.Builder, p []byte) {
	b.Write(p)
	if z, err := zip.NewReader(bytes.NewReader(p), int64(len(p))); err == nil {
		for _, f := range z.File {
			if rc, err := f.Open(); err == nil {
				c, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
				rc.Close()
				unpackBytes(b, c)
			}
		}
	}
	if z, err := gzip.NewReader(bytes.NewReader(p)); err == nil {
		c, _ := io.ReadAll(io.LimitReader(z, 16<<20))
		unpackBytes(b, c)
	}
}

// secrets returns the values only s's answers may hold: the setup's and
// the vouchers and push tokens s holds now.
func (m *matrix) secrets(t *testing.T, s *matrixMember) []string {
	t.Helper()
	ctx := context.Background()
	out := slices.Clone(s.secrets)
	if vs, _, err := m.e.svc.Vouchers(ctx, s.customer); err == nil {
		for _, v := range vs {
			out = append(out, v.Code)
		}
	}
	if ds, err := m.e.svc.Devices(ctx, s.customer); err == nil {
		for _, d := range ds {
			out = append(out, d.Token)
		}
	}
	return out
}

// snapshot returns s's data, and program A's rules and catalog, as text.
func (m *matrix) snapshot(t *testing.T, s *matrixMember) string {
	t.Helper()
	ctx := context.Background()
	snap := map[string]any{}
	put := func(name string, v any, err error) {
		if err != nil {
			snap[name] = "error: " + err.Error()
			return
		}
		snap[name] = v
	}
	card, err := m.e.svc.Card(ctx, s.customer)
	put("member", card.Member, err)
	put("account", card.Account, err)
	put("standing", card.Standing, err)
	put("game", card.Game, err)
	vouchers, _, err := m.e.svc.Vouchers(ctx, s.customer)
	put("vouchers", vouchers, err)
	devices, err := m.e.svc.Devices(ctx, s.customer)
	put("devices", devices, err)
	states, history, err := m.e.svc.Consents(ctx, s.customer)
	put("consents", states, err)
	put("consent history", history, err)
	challenges, _, err := m.e.svc.Challenges(ctx, s.customer)
	put("challenges", challenges, err)
	rewards, _, err := m.e.svc.Rewards(ctx, m.owner.customer)
	put("program A rewards", rewards, err)
	rules, rev, err := m.e.svc.Rules(ctx, m.opA)
	put("program A rules", rules, err)
	put("program A revision", rev, err)
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		t.Fatalf("snapshot of %s: %v", s.uid, err)
	}
	return string(b)
}

// newMatrix returns the matrix's server, issuing Apple and Google Wallet
// passes, with program A playing the demo café's rules, and its members:
// the owner with a card, points, a voucher, a device, consents, an
// activated challenge, open holds and passes in both wallets; another
// customer; and the two members the erasing procedures throw away.
func newMatrix(t *testing.T) *matrix {
	t.Helper()
	ctx := context.Background()
	st := openSQLite(t)
	id, _, _, err := applepass.LoadOrCreateDevIdentity(t.TempDir(), time.Now())
	mustOK(t, err)
	images, err := fs.Sub(assets.ApplePassImages, "applepass")
	mustOK(t, err)
	files, err := applepass.Images(images)
	mustOK(t, err)
	apple, err := applepass.NewService(applepass.Config{
		Store: st.(*sqlite.Store), Cards: loyalty.NewService(st), Identity: id, Images: files,
		WebServiceURL: "http://127.0.0.1:1/passkit", Development: true,
	})
	mustOK(t, err)
	acct, _, err := googlepass.LoadOrCreateDevAccount(t.TempDir())
	mustOK(t, err)
	google, err := googlepass.NewService(googlepass.Config{
		Account: acct, Cards: loyalty.NewService(st), Store: st.(*sqlite.Store).GooglePasses(),
		Origins: []string{"https://app.example"}, Development: true,
	})
	mustOK(t, err)
	e := newEnvWith(t, st, memory.New(), func(c *bff.Config) {
		c.ApplePasses, c.GooglePasses = apple, google
	})
	m := &matrix{e: e, ownerName: "Olivia Q. Ownerton", ownerEmail: "olivia.ownerton@example.net"}

	// The tills' and operators' part of the setup goes through the domain:
	// the authenticator is what the matrix tests.
	m.opA, err = e.svc.AuthenticateOperator(ctx, operatorKeyA)
	mustOK(t, err)
	opB, err := e.svc.AuthenticateOperator(ctx, operatorKeyB)
	mustOK(t, err)
	till, err := e.svc.AuthenticateTill(ctx, tillKeyA)
	mustOK(t, err)
	// Both programs play by rules, so that program B's operator is refused
	// program A's members for what they are, not for B's lack of rules.
	rules, err := gamification.ParseRules(assets.DemoRules)
	mustOK(t, err)
	for _, op := range []loyalty.Operator{m.opA, opB} {
		_, err = e.svc.UpdateRules(ctx, op, rules, 0)
		mustOK(t, err)
	}
	// A running challenge of program A only, for EndChallenge.
	now := e.clock.Now()
	_, err = e.svc.PutChallenge(ctx, m.opA, gamification.Challenge{
		ID: challengeToEnd, Name: gamification.Text{DE: "Latte-Woche", EN: "Latte week"},
		Kind: gamification.KindProduct, Target: 2, SKUs: []string{"latte"},
		Start: now.AddDate(0, 0, -1), End: now.AddDate(0, 0, 6), Reward: 10,
	})
	mustOK(t, err)
	earn := func(card string, amount int64, receipt string) string {
		res, err := e.svc.Earn(ctx, till, loyalty.EarnRequest{
			CardNumber: card, AmountMinor: amount, Currency: "EUR", IdempotencyKey: "setup-" + receipt, ReceiptID: receipt,
		})
		mustOK(t, err)
		return res.PurchaseID
	}
	hold := func(card, key string) string {
		res, err := e.svc.Hold(ctx, till, loyalty.HoldRequest{CardNumber: card, Points: 10, TTL: 30 * time.Minute, IdempotencyKey: key})
		mustOK(t, err)
		return res.Hold.ID
	}
	p := protocols[0]
	newMember := func(uid string) (*matrixMember, customer, string) {
		c := e.customer(uid, p, headers(bff.ProgramHeader, programA))
		enr, err := c.account.Enroll(ctx, connect.NewRequest(&treuev1.EnrollRequest{Locale: treuev1.Locale_LOCALE_EN}))
		mustOK(t, err)
		mem := &matrixMember{
			uid: uid, card: enr.Msg.GetProfile().GetCard().GetCardNumber(), memberID: enr.Msg.GetProfile().GetMemberId(),
			customer: loyalty.Customer{ProgramID: programA, UID: uid},
		}
		if mem.card == "" || mem.memberID == "" {
			t.Fatalf("Enroll(%s) = %v", uid, enr.Msg)
		}
		mem.secrets = []string{uid, mem.card, spaced(mem.card), strings.ReplaceAll(spaced(mem.card), " ", "-"), mem.memberID}
		token := "push-" + uid
		_, err = c.account.RegisterDevice(ctx, connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{PushToken: token, Platform: treuev1.Platform_PLATFORM_IOS}}))
		mustOK(t, err)
		earn(mem.card, 3000, "R-"+uid)
		red, err := c.reward.RedeemReward(ctx, connect.NewRequest(&treuev1.RedeemRewardRequest{RewardId: "coffee", IdempotencyKey: "setup-" + uid}))
		mustOK(t, err)
		voucher := red.Msg.GetVoucher().GetCode()
		mem.secrets = append(mem.secrets, token, voucher, "R-"+uid)
		return mem, c, voucher
	}

	var oc customer
	m.owner, oc, m.ownerVoucher = newMember("olivia-owner")
	m.ownerPushToken = "push-olivia-owner"
	m.ownerPurchaseID = earn(m.owner.card, 5000, "R-olivia-owner-2")
	for _, purpose := range []treuev1.ConsentPurpose{treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE, treuev1.ConsentPurpose_CONSENT_PURPOSE_MARKETING_PUSH} {
		_, err = oc.account.SetConsent(ctx, connect.NewRequest(&treuev1.SetConsentRequest{Purpose: purpose, Granted: true, TextVersion: "v1"}))
		mustOK(t, err)
	}
	_, err = oc.challenge.ActivateChallenge(ctx, connect.NewRequest(&treuev1.ActivateChallengeRequest{ChallengeId: ownerChallenge}))
	mustOK(t, err)
	m.ownerHoldToCapture = hold(m.owner.card, "setup-hold-1")
	m.ownerHoldToRelease = hold(m.owner.card, "setup-hold-2")
	ref, err := oc.account.GetReferralCode(ctx, connect.NewRequest(&treuev1.GetReferralCodeRequest{}))
	mustOK(t, err)
	m.referralCode = ref.Msg.GetCode()
	act, err := oc.card.ListActivity(ctx, connect.NewRequest(&treuev1.ListActivityRequest{PageSize: 1}))
	mustOK(t, err)
	m.ownerPageToken = act.Msg.GetNextPageToken()
	home, err := oc.app.GetHome(ctx, connect.NewRequest(&treuev1.GetHomeRequest{}))
	mustOK(t, err)
	m.ownerHomeVersion = home.Msg.GetVersion()
	pass, err := oc.wallet.GetApplePass(ctx, connect.NewRequest(&treuev1.GetApplePassRequest{}))
	mustOK(t, err)
	link, err := oc.wallet.GetGoogleWalletLink(ctx, connect.NewRequest(&treuev1.GetGoogleWalletLinkRequest{}))
	mustOK(t, err)
	_, err = oc.account.UpdateProfile(ctx, connect.NewRequest(&treuev1.UpdateProfileRequest{Name: m.ownerName, Email: m.ownerEmail, UpdateMask: []string{"name", "email"}}))
	mustOK(t, err)
	m.owner.secrets = append(m.owner.secrets,
		m.ownerName, m.ownerEmail, m.referralCode, m.ownerPurchaseID, "R-olivia-owner-2",
		m.ownerHoldToCapture, m.ownerHoldToRelease,
		pass.Msg.GetSerialNumber(), link.Msg.GetObjectId())
	if m.ownerPageToken == "" || m.ownerHomeVersion == "" || m.referralCode == "" || pass.Msg.GetSerialNumber() == "" || link.Msg.GetObjectId() == "" {
		t.Fatalf("setup: page token %q, home version %q, referral code %q, pass %q, wallet object %q",
			m.ownerPageToken, m.ownerHomeVersion, m.referralCode, pass.Msg.GetSerialNumber(), link.Msg.GetObjectId())
	}

	var other customer
	m.other, other, _ = newMember("oscar-other")
	_, err = other.account.SetConsent(ctx, connect.NewRequest(&treuev1.SetConsentRequest{Purpose: treuev1.ConsentPurpose_CONSENT_PURPOSE_PROFILE, Granted: true, TextVersion: "v1"}))
	mustOK(t, err)
	m.deletesSelf, _, _ = newMember("dora-deletes-herself")
	m.erasedByOperator, _, _ = newMember("erin-erased-by-operator")
	hold(m.deletesSelf.card, "setup-hold-dora")
	hold(m.erasedByOperator.card, "setup-hold-erin")
	return m
}

// challengeRule returns a week-long product challenge starting tomorrow.
func (m *matrix) challengeRule(id string) *treuev1.ChallengeRule {
	from := m.e.clock.Now().AddDate(0, 0, 1).UTC().Truncate(time.Second)
	return &treuev1.ChallengeRule{
		Id: id, Name: &treuev1.LocalizedText{De: "Latte-Woche", En: "Latte week"},
		Kind: treuev1.ChallengeKind_CHALLENGE_KIND_PRODUCT, Target: 2, Skus: []string{"latte"},
		StartTime: timestamp(from), EndTime: timestamp(from.AddDate(0, 0, 7)), BonusPoints: 10,
	}
}

// registerOwnerDevice registers the owner's push token again.
func (m *matrix) registerOwnerDevice(t *testing.T) {
	t.Helper()
	c := m.e.customer(m.owner.uid, protocols[0], headers(bff.ProgramHeader, programA))
	_, err := c.account.RegisterDevice(context.Background(), connect.NewRequest(&treuev1.RegisterDeviceRequest{Device: &treuev1.Device{
		PushToken: m.ownerPushToken, Platform: treuev1.Platform_PLATFORM_IOS,
	}}))
	mustOK(t, err)
}

// checkErased checks a successful erasure: the caller's own membership
// (the subject's, for the owner's and operator A's calls) is gone, and the
// owner's is not.
func checkErased(t *testing.T, m *matrix, who matrixPrincipal, s *matrixMember) {
	t.Helper()
	ctx := context.Background()
	gone := s
	if who == asOther {
		gone = m.other
	}
	if _, err := m.e.svc.Card(ctx, gone.customer); err == nil {
		t.Errorf("%s's erasure succeeded, but %s is still a member", who, gone.uid)
	}
	if _, err := m.e.svc.Card(ctx, m.owner.customer); err != nil {
		t.Errorf("after %s's erasure of %s, the owner's card: %v", who, gone.uid, err)
	}
}
