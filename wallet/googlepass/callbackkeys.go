package googlepass

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rootKeys returns Google's root keys: the cached ones while the response's
// max-age lasts and, when refetchOlder is not 0, while they are younger
// than refetchOlder; otherwise newly fetched ones. Concurrent calls share
// one fetch. When a fetch fails, or failed less than fetchFailureBackoff
// ago, it returns the cached keys if they are less than maxKeysAge old and
// refetchOlder is 0, and otherwise an error wrapping ErrKeysUnavailable.
func (v *Verifier) rootKeys(ctx context.Context, refetchOlder time.Duration) (*callbackRootKeys, error) {
	v.mu.Lock()
	now := v.now()
	cached := v.keys
	if cached != nil && now.Before(cached.fresh) && (refetchOlder == 0 || now.Sub(cached.fetched) < refetchOlder) {
		v.mu.Unlock()
		return cached, nil
	}
	f := v.fetch
	if f == nil && v.fetchErr != nil && now.Sub(v.failedAt) < fetchFailureBackoff {
		err := v.fetchErr
		v.mu.Unlock()
		return v.fallback(cached, now, refetchOlder, err)
	}
	if f == nil {
		f = &keysFetch{done: make(chan struct{})}
		v.fetch = f
		// The fetch runs on its own, so that the Verify that started it
		// going away fails no other waiting for it.
		go v.runFetch(context.WithoutCancel(ctx), f)
	}
	v.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for them: %w", ErrKeysUnavailable, ctx.Err())
	}
	if f.err != nil {
		return v.fallback(cached, v.now(), refetchOlder, f.err)
	}
	return f.keys, nil
}

// fallback returns cached in place of keys a fetch failed to get with
// err, when they are less than maxKeysAge old at now and the caller did
// not ask for newer ones (refetchOlder 0); otherwise it returns err.
func (v *Verifier) fallback(cached *callbackRootKeys, now time.Time, refetchOlder time.Duration, err error) (*callbackRootKeys, error) {
	if cached != nil && refetchOlder == 0 && now.Sub(cached.fetched) < maxKeysAge {
		return cached, nil
	}
	return nil, err
}

// runFetch fetches the keys into f, records the outcome and closes
// f.done.
func (v *Verifier) runFetch(ctx context.Context, f *keysFetch) {
	ctx, cancel := context.WithTimeout(ctx, keysFetchTimeout)
	defer cancel()
	keys, err := v.fetchKeys(ctx)

	if err != nil {
		v.log.Warn("googlepass: cannot fetch Google's callback signing keys", "url", v.keysURL, "err", err)
	} else {
		v.log.Debug("googlepass: fetched Google's callback signing keys", "keys", len(keys.keys), "until", keys.fresh)
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		v.fetchErr, v.failedAt = err, v.now()
	} else {
		v.keys, v.fetchErr = keys, nil
	}
	v.fetch = nil
	f.keys, f.err = keys, err
	close(f.done)
}

// keysDocument is Google's keys response.
type keysDocument struct {
	Keys []json.RawMessage `json:"keys"`
}

// rootKeyJSON is one key of the keys response.
type rootKeyJSON struct {
	KeyValue        string    `json:"keyValue"`
	ProtocolVersion string    `json:"protocolVersion"`
	KeyExpiration   jsonInt64 `json:"keyExpiration"`
}

// fetchKeys returns the keys at v.keysURL that sign ECv2SigningOnly
// messages and have not expired, kept as long as the response's
// Cache-Control max-age says, or an error wrapping ErrKeysUnavailable when
// the request fails, the response is not 200, too large or malformed, or
// holds no such key.
func (v *Verifier) fetchKeys(ctx context.Context) (*callbackRootKeys, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.keysURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeysUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %q", ErrKeysUnavailable, v.keysURL, clipForError(resp.Status, maxErrorQuote))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", ErrKeysUnavailable, v.keysURL, err)
	}
	if len(body) > maxKeysBytes {
		return nil, fmt.Errorf("%w: %s sent more than %d bytes", ErrKeysUnavailable, v.keysURL, maxKeysBytes)
	}
	now := v.now()
	keys, err := v.parseRootKeys(body, now)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeysUnavailable, v.keysURL, err)
	}
	return &callbackRootKeys{keys: keys, fetched: now, fresh: now.Add(keysMaxAge(resp.Header))}, nil
}

// parseRootKeys returns the first maxRootKeys keys of a keys response that
// sign ECv2SigningOnly messages and are not expired at now, or an error
// when the response is malformed or holds no such key. It skips keys it
// cannot parse, so that one odd key does not stop callbacks.
func (v *Verifier) parseRootKeys(body []byte, now time.Time) ([]callbackRootKey, error) {
	var doc keysDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	var keys []callbackRootKey
	for i, raw := range doc.Keys {
		var k rootKeyJSON
		if err := json.Unmarshal(raw, &k); err != nil {
			v.log.Warn("googlepass: skipping a malformed callback signing key", "index", i, "err", err)
			continue
		}
		if k.ProtocolVersion != callbackProtocol {
			continue
		}
		var expires time.Time
		if k.KeyExpiration.set {
			if expires = time.UnixMilli(k.KeyExpiration.n); !now.Before(expires) {
				continue
			}
		}
		pub, err := parseP256Key(k.KeyValue)
		if err != nil {
			v.log.Warn("googlepass: skipping a malformed callback signing key", "index", i, "err", err)
			continue
		}
		if len(keys) == maxRootKeys {
			v.log.Warn("googlepass: too many callback signing keys, using the first", "max", maxRootKeys)
			break
		}
		keys = append(keys, callbackRootKey{pub: pub, expires: expires})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no unexpired %s key among %d", callbackProtocol, len(doc.Keys))
	}
	return keys, nil
}

// keysMaxAge returns how long a keys response may be kept: its
// Cache-Control max-age clamped to [minKeysAge, maxKeysAge], or
// defaultKeysAge when it names none.
func keysMaxAge(h http.Header) time.Duration {
	for _, cc := range h.Values("Cache-Control") {
		for _, directive := range strings.Split(cc, ",") {
			name, value, ok := strings.Cut(strings.TrimSpace(directive), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(name), "max-age") {
				continue
			}
			secs, err := strconv.ParseUint(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) {
				return defaultKeysAge
			}
			if err != nil || secs > uint64(maxKeysAge/time.Second) {
				return maxKeysAge
			}
			return max(time.Duration(secs)*time.Second, minKeysAge)
		}
	}
	return defaultKeysAge
}
