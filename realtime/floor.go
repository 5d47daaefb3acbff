package realtime

import (
	"sync"
	"time"

	"github.com/treue/treue/loyalty"
)

// versionFloor remembers the card versions this replica wrote to the cache
// in the last few seconds. A cache hit below them is a copy whose
// invalidation is still on its way (the server sends it after its reply to
// the write), and is not served.
type versionFloor struct {
	mu      sync.Mutex
	cur     map[loyalty.CardKey]int64
	prev    map[loyalty.CardKey]int64
	rotated time.Time
}

// floorSpan is how long a written version is remembered: far longer than
// an invalidation takes to arrive.
const floorSpan = 2 * time.Second

// raise notes that version v of card k was cached.
func (f *versionFloor) raise(k loyalty.CardKey, v int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotate()
	if v > f.cur[k] {
		f.cur[k] = v
	}
}

// get returns the newest version of card k cached recently, or 0.
func (f *versionFloor) get(k loyalty.CardKey) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rotate()
	return max(f.cur[k], f.prev[k])
}

// rotate forgets versions older than two spans, keeping the map as small as
// the writes of the last seconds.
func (f *versionFloor) rotate() {
	now := time.Now()
	if f.cur == nil {
		f.cur, f.rotated = map[loyalty.CardKey]int64{}, now
	}
	if now.Sub(f.rotated) >= floorSpan {
		f.prev, f.cur, f.rotated = f.cur, make(map[loyalty.CardKey]int64, len(f.cur)), now
	}
}
