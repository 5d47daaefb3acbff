package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strconv"
	"time"

	"github.com/treue/treue/loyalty"
)

// defaultTTL is how long a message of each kind is worth sending after
// what it is about happened: news of points fades fast, a reward or a tier
// keeps for days, a reminder for a day.
var defaultTTL = map[Kind]time.Duration{
	KindPointsEarned:       12 * time.Hour,
	KindChallengeCompleted: 72 * time.Hour,
	KindRewardReady:        72 * time.Hour,
	KindTierChanged:        72 * time.Hour,
	KindBirthdayReward:     72 * time.Hour,
	KindPointsExpiring:     24 * time.Hour,
	KindChallengeEnding:    24 * time.Hour,
	KindMarketing:          24 * time.Hour,
}

// ttls returns defaultTTL with the positive durations of override in
// place of the defaults.
func ttls(override map[Kind]time.Duration) map[Kind]time.Duration {
	out := maps.Clone(defaultTTL)
	for k, d := range override {
		if d > 0 {
			out[k] = d
		}
	}
	return out
}

// The deep links of the app, in Data["link"].
const (
	linkCard       = "treue://card"
	linkRewards    = "treue://rewards"
	linkActivity   = "treue://activity/"
	linkChallenges = "treue://challenges/"
	linkVouchers   = "treue://vouchers/"
)

// activityLink returns the link to ledger entry id.
func activityLink(id int64) string { return linkActivity + strconv.FormatInt(id, 10) }

// NewMessage returns a pending message of kind to member k under key,
// created at now, due at once and expiring at expires, with its Data (kind,
// link and program_id) and Digest set: what Store.Enqueue takes.
func NewMessage(k loyalty.MemberKey, kind Kind, key string, title, body loyalty.Text, link string, now, expires time.Time) Message {
	m := Message{
		ProgramID: k.ProgramID, MemberID: k.MemberID, Kind: kind, Key: key,
		Title: title, Body: body,
		Data:      map[string]string{"kind": string(kind), "link": link, "program_id": k.ProgramID},
		CreatedAt: now, NotBefore: now, ExpiresAt: expires, State: StatePending,
	}
	m.Digest = digest(m)
	return m
}

// digest returns the hex SHA-256 of m's kind, title and body in both
// languages: equal for messages that read the same.
func digest(m Message) string {
	h := sha256.New()
	for _, s := range []string{string(m.Kind), m.Title.DE, m.Title.EN, m.Body.DE, m.Body.EN} {
		h.Write([]byte(s))
		h.Write([]byte{0}) // no text holds a NUL, so fields cannot run into each other
	}
	return hex.EncodeToString(h.Sum(nil))
}
