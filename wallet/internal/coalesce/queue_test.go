package coalesce

import (
	"context"
	"testing"
	"time"
)

func max64(old, new int) int { return max(old, new) }

// next takes the next due key within a second.
func next(t *testing.T, q *Queue[string, int]) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	k, v, ok := q.Next(ctx)
	if !ok {
		t.Fatal("no key due within a second")
	}
	return k, v
}

// TestQueueMergesUntilDue: changes of a waiting key merge into one value
// and make it due once, after the delay.
func TestQueueMergesUntilDue(t *testing.T) {
	q := New[string](50*time.Millisecond, 10, max64)
	start := time.Now()
	for _, v := range []int{3, 7, 5} {
		if !q.Add("a", v, start) {
			t.Fatal("Add dropped a change")
		}
	}
	if q.Len() != 1 {
		t.Fatalf("Len %d, want 1", q.Len())
	}
	k, v := next(t, q)
	if k != "a" || v != 7 {
		t.Fatalf("Next = %q, %d; want a, 7", k, v)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("due after %v, before the delay", d)
	}
	q.Done(k)
	if q.Len() != 0 {
		t.Fatalf("Len %d after Done, want 0", q.Len())
	}
}

// TestQueueChangeInFlightComesAgain: a change while a key is in flight
// makes it due once more after Done, with the new value only.
func TestQueueChangeInFlightComesAgain(t *testing.T) {
	q := New[string](10*time.Millisecond, 10, max64)
	q.Add("a", 1, time.Now())
	k, _ := next(t, q)
	q.Add("a", 2, time.Now())
	q.Add("a", 4, time.Now())
	if q.Len() != 1 {
		t.Fatalf("Len %d with one more update to come, want 1", q.Len())
	}
	q.Done(k)
	k, v := next(t, q)
	if k != "a" || v != 4 {
		t.Fatalf("Next = %q, %d; want a, 4", k, v)
	}
	q.Done(k)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if k, _, ok := q.Next(ctx); ok {
		t.Fatalf("Next = %q after the last update, want nothing", k)
	}
}

// TestQueueDropsBeyondMax: new keys beyond the bound are dropped; changes
// of waiting keys are not.
func TestQueueDropsBeyondMax(t *testing.T) {
	q := New[string, int](time.Hour, 2, nil)
	now := time.Now()
	if !q.Add("a", 1, now) || !q.Add("b", 1, now) {
		t.Fatal("dropped below the bound")
	}
	if q.Add("c", 1, now) {
		t.Fatal("a third key was queued beyond the bound of 2")
	}
	if !q.Add("a", 2, now) {
		t.Fatal("a change of a waiting key was dropped")
	}
}

// TestQueueEarliestFirst: keys come out in the order they became due.
func TestQueueEarliestFirst(t *testing.T) {
	q := New[string, int](0, 10, nil)
	now := time.Now().Add(-time.Second)
	q.Add("late", 1, now.Add(20*time.Millisecond))
	q.Add("early", 1, now)
	if k, _ := next(t, q); k != "early" {
		t.Fatalf("first %q, want early", k)
	}
	if k, _ := next(t, q); k != "late" {
		t.Fatalf("second %q, want late", k)
	}
}
