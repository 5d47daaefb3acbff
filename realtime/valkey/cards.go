package valkey

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	vk "github.com/valkey-io/valkey-go"

	"github.com/treue/treue/loyalty"
	"github.com/treue/treue/redact"
)

// A card's value on the server is "<version>:<JSON of the CardState>", so
// that the put script compares versions without decoding JSON.

// putScript stores ARGV[2] under KEYS[1] for ARGV[3] milliseconds unless the
// stored value has a newer version than ARGV[1]; it returns 1 when it
// stored. Running it again after a network error does no harm, so it is
// retryable.
var putScript = vk.NewLuaScriptRetryable(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^(-?%d+):'))
  if v and v > tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// Card returns the cached state of key; ok is false when there is none. It
// reads through the client-side cache: a card read before is served from
// memory until the server invalidates it, which it does when the card
// changes and when the connection breaks. The invalidation arrives
// asynchronously, so right after a PutCard, even this broker's own, Card
// may still return the previous state for about a round trip; callers
// that need a version ask for it (the Hub's minVersion). Card returns
// valkey-go's errors (ctx.Err() when ctx ends first, ErrClosing after
// Close) and an error for a value it cannot decode.
func (b *Broker) Card(ctx context.Context, key loyalty.CardKey) (loyalty.CardState, bool, error) {
	k := b.cardKey(key)
	v, err := b.client.DoCache(ctx, b.client.B().Get().Key(k).Cache(), b.cfg.LocalTTL).ToString()
	if vk.IsValkeyNil(err) {
		return loyalty.CardState{}, false, nil
	}
	if err != nil {
		return loyalty.CardState{}, false, fmt.Errorf("valkey: get card %s/%s: %w", key.ProgramID, redact.UID(key.UID), err)
	}
	_, data, ok := strings.Cut(v, ":")
	var st loyalty.CardState
	if !ok {
		return st, false, fmt.Errorf("valkey: get card %s/%s: value without version", key.ProgramID, redact.UID(key.UID))
	}
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		return st, false, fmt.Errorf("valkey: get card %s/%s: %w", key.ProgramID, redact.UID(key.UID), err)
	}
	return st, true, nil
}

// PutCard stores st, for CardTTL, unless the server holds the card at a
// newer version; a state at the stored version replaces it, which refreshes
// its time-based fields. The check and the write are one script, so
// concurrent puts leave the newest version. It reports whether st was
// stored, and returns valkey-go's errors.
func (b *Broker) PutCard(ctx context.Context, st loyalty.CardState) (bool, error) {
	data, err := json.Marshal(st)
	if err != nil {
		return false, fmt.Errorf("valkey: encode card: %w", err)
	}
	k := b.cardKey(st.Key())
	args := []string{
		strconv.FormatInt(st.Version, 10),
		string(data),
		strconv.FormatInt(max(b.cfg.CardTTL.Milliseconds(), 1), 10),
	}
	stored, err := putScript.Exec(ctx, b.client, []string{k}, args).AsInt64()
	if err != nil {
		return false, fmt.Errorf("valkey: put card %s/%s: %w", st.ProgramID, redact.UID(st.UID), err)
	}
	return stored == 1, nil
}

// DeleteCard removes the cached state of key; the server invalidates the
// copies in every client-side cache. It returns valkey-go's errors.
func (b *Broker) DeleteCard(ctx context.Context, key loyalty.CardKey) error {
	k := b.cardKey(key)
	if err := b.client.Do(ctx, b.client.B().Del().Key(k).Build()).Error(); err != nil {
		return fmt.Errorf("valkey: del card %s/%s: %w", key.ProgramID, redact.UID(key.UID), err)
	}
	return nil
}
