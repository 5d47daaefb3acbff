package loyalty

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"strings"
	"time"
)

// Member is a customer's membership in one program.
type Member struct {
	ProgramID string
	ID        string
	// FirebaseUID is the signed-in user the membership belongs to.
	FirebaseUID string
	CardNumber  string
	Locale      Locale
	CreatedAt   time.Time
	// Name and Email are optional and kept only while the member grants
	// PurposeProfile; empty when not given.
	Name  string
	Email string
	// ErasedAt is when the member was erased; zero for a member. An erased
	// member keeps only the pseudonymous ID, the account and the ledger.
	ErasedAt time.Time
}

// Account is a member's points balance. Balance always equals the sum of the
// member's ledger entries and is never negative.
type Account struct {
	ProgramID string
	MemberID  string
	Balance   int64
	// Version increases with every change of the account.
	Version   int64
	UpdatedAt time.Time
}

// Card is what the app and the till show of a member.
type Card struct {
	Program  Program
	Member   Member
	Account  Account
	Standing Standing
	// Game is the member's gamification state.
	Game GameState
}

// cardNumberLen is the length of a card number, check digit included.
const cardNumberLen = 16

// cardPrefix starts every card number, so a till can tell cards from other
// codes.
const cardPrefix = "9276"

// NormalizeCardNumber returns the card number in s, as typed or scanned, with
// spaces and dashes removed. It returns ErrInvalid unless what is left is 16
// digits with a valid Luhn check digit.
func NormalizeCardNumber(s string) (string, error) {
	if len(s) > 64 {
		return "", errorf(ErrInvalid, "card_number is too long: want 16 digits")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-':
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", errorf(ErrInvalid, "card_number may hold only digits, spaces and dashes")
		}
	}
	n := b.String()
	if len(n) != cardNumberLen {
		return "", errorf(ErrInvalid, "card_number must be %d digits, got %d", cardNumberLen, len(n))
	}
	if luhnDigit(n[:cardNumberLen-1]) != n[cardNumberLen-1] {
		return "", errorf(ErrInvalid, "card_number has a wrong check digit: mistyped?")
	}
	return n, nil
}

// newCardNumber returns a random card number with a valid check digit.
func newCardNumber(r io.Reader) (string, error) {
	var buf [8]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return "", err
	}
	body := cardPrefix + leftPad(binary.BigEndian.Uint64(buf[:])%1e11, 11)
	return body + string(luhnDigit(body)), nil
}

func leftPad(v uint64, width int) string {
	s := make([]byte, width)
	for i := width - 1; i >= 0; i-- {
		s[i] = byte('0' + v%10)
		v /= 10
	}
	return string(s)
}

// luhnDigit returns the Luhn check digit for the digits in body.
func luhnDigit(body string) byte {
	sum := 0
	double := true
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// randomReader is the default source of card numbers, codes and ids.
var randomReader io.Reader = rand.Reader

// State returns what the card shows, taken at now.
func (c Card) State(now time.Time) CardState {
	tierID, tierName := tierOf(c.Program, c.Game)
	challenges, stamps := goalsOf(c.Program, c.Game)
	var next Text
	nt, hasNext := nextTierOf(c.Program, c.Game)
	if hasNext {
		next = gameText(nt.Name)
	}
	return CardState{
		NextTierID: nt.ID, NextTierName: next, NextTierPoints: nt.QualifyingStars, QualifyingPoints: c.Game.Qualifying,
		ProgramID: c.Member.ProgramID, MemberID: c.Member.ID, UID: c.Member.FirebaseUID,
		CardNumber: c.Member.CardNumber, Locale: c.Member.Locale,
		ProgramName: c.Program.Name, PointName: c.Program.PointName, TierID: tierID, TierName: tierName,
		Challenges: challenges, StampCards: stamps,
		Version: c.Account.Version, Balance: c.Account.Balance, Available: c.Standing.Available,
		Pending: c.Standing.Pending, NextExpiry: c.Standing.NextExpiry, NextExpiryPoints: c.Standing.NextExpiryPoints,
		ValidUntil: c.Standing.ChangesAt, TakenAt: now,
	}
}

// GroupCardNumber returns a card number in groups of four characters
// separated by spaces, for reading it out: "9276 1234 5678 9013".
func GroupCardNumber(s string) string {
	var b strings.Builder
	for i, r := range []rune(s) {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}
