// Package coalesce turns bursts of changes into single updates: the
// wallets' pushers queue each changed card once, wait a moment for more
// changes, and then update it once with the latest.
package coalesce

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Queue holds keys waiting for an update, each with a value merged from
// the changes that queued it. A key's first change makes it due after the
// delay; further changes before it is taken are merged into its value; a
// change while it is in flight (taken by Next, not yet Done) makes it due
// once more after Done. It is safe for concurrent use.
type Queue[K comparable, V any] struct {
	delay     time.Duration
	maxQueued int
	merge     func(old, new V) V
	wake      chan struct{}

	mu      sync.Mutex
	entries map[K]*entry[V]
	due     dueHeap[K]
	// waiting counts the keys due, and those in flight with another
	// update to come.
	waiting int
}

// entry is a key's state: due (in the heap) or in flight.
type entry[V any] struct {
	value    V
	inFlight bool
	// again says a change came while in flight, at againAt, with value
	// next.
	again   bool
	againAt time.Time
	next    V
}

// New returns a Queue that delays a key's update by delay after its first
// change and holds at most maxQueued waiting keys. merge combines a
// waiting key's value with a new change's; nil keeps the newest.
func New[K comparable, V any](delay time.Duration, maxQueued int, merge func(old, new V) V) *Queue[K, V] {
	if merge == nil {
		merge = func(_, new V) V { return new }
	}
	return &Queue[K, V]{
		delay:     delay,
		maxQueued: maxQueued,
		merge:     merge,
		wake:      make(chan struct{}, 1),
		entries:   make(map[K]*entry[V]),
	}
}

// Add queues a change of k with value v at now. It never blocks. It
// returns false, dropping the change, when k is not queued yet and
// maxQueued keys are waiting.
func (q *Queue[K, V]) Add(k K, v V, now time.Time) bool {
	q.mu.Lock()
	e, ok := q.entries[k]
	switch {
	case !ok && q.waiting >= q.maxQueued:
		q.mu.Unlock()
		return false
	case !ok:
		q.entries[k] = &entry[V]{value: v}
		heap.Push(&q.due, due[K]{at: now.Add(q.delay), key: k})
		q.waiting++
	case !e.inFlight:
		e.value = q.merge(e.value, v)
	case !e.again:
		e.again, e.againAt, e.next = true, now, v
		q.waiting++
	default:
		e.next = q.merge(e.next, v)
	}
	q.mu.Unlock()
	q.signal()
	return true
}

// Len returns the number of keys waiting: due, or in flight with another
// update to come.
func (q *Queue[K, V]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.waiting
}

// Next waits until a key is due, marks it in flight and returns it with
// its value; ok is false when ctx is done first. Call Done when its update
// is over. One goroutine at a time may wait in Next.
func (q *Queue[K, V]) Next(ctx context.Context) (k K, v V, ok bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		wait := time.Hour
		q.mu.Lock()
		if len(q.due) > 0 {
			if d := q.due[0].at.Sub(now); d > 0 {
				wait = d
			} else {
				k = heap.Pop(&q.due).(due[K]).key
				e := q.entries[k]
				e.inFlight = true
				q.waiting--
				v = e.value
				q.mu.Unlock()
				return k, v, true
			}
		}
		q.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-q.wake:
		case <-ctx.Done():
			return k, v, false
		}
	}
}

// Done ends k's update: k is forgotten, or due again, delay after the
// change that came while it was in flight, with that change's value.
func (q *Queue[K, V]) Done(k K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.entries[k]
	if !ok {
		return
	}
	if !e.again {
		delete(q.entries, k)
		return
	}
	at := e.againAt.Add(q.delay)
	if now := time.Now(); at.Before(now) {
		at = now
	}
	*e = entry[V]{value: e.next}
	heap.Push(&q.due, due[K]{at: at, key: k})
	q.signal()
}

// signal wakes a Next waiting for the next due key.
func (q *Queue[K, V]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// due is a key due at a time.
type due[K comparable] struct {
	at  time.Time
	key K
}

// dueHeap is a heap of keys, the earliest due first.
type dueHeap[K comparable] []due[K]

func (h dueHeap[K]) Len() int           { return len(h) }
func (h dueHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap[K]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap[K]) Push(x any)        { *h = append(*h, x.(due[K])) }
func (h *dueHeap[K]) Pop() any {
	old := *h
	d := old[len(old)-1]
	*h = old[:len(old)-1]
	return d
}

// Serve takes due keys and runs update for each, at most workers at once,
// until ctx is done; it marks each key Done after its update. update gets
// two contexts: stop, which is ctx (once it is done, failures are not
// worth retrying), and work, which outlives ctx by grace so that updates
// in flight can finish. Serve returns when they have, or when grace has
// passed and it cancelled work; abandoned counts the updates still running
// then. Keys still waiting stay queued. One Serve at a time.
func (q *Queue[K, V]) Serve(ctx context.Context, workers int, grace time.Duration, update func(stop, work context.Context, k K, v V)) (abandoned int) {
	work, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for ctx.Err() == nil {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		k, v, ok := q.Next(ctx)
		if !ok {
			<-slots
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			update(ctx, work, k, v)
			q.Done(k)
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return 0
	case <-time.After(grace):
		abandoned = len(slots)
		abandon()
		<-done
		return abandoned
	}
}
