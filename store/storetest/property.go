package storetest

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/treue/treue/loyalty"
)

// PropertySeedEnv names the environment variable that fixes the seed of
// RunProperty, so that a failing run replays exactly.
const PropertySeedEnv = "TREUE_PROPERTY_SEED"

// PropertyOptions sizes a property run. Zero fields take defaults: 1,000
// accounts and 100,000 operations (200 and 5,000 with -short), 8 workers,
// and a seed from TREUE_PROPERTY_SEED or else from the time. The variable,
// when set, overrides Seed.
type PropertyOptions struct {
	Seed                   int64
	Accounts, Ops, Workers int
}

// resolve fills in the defaults and the seed.
func (o PropertyOptions) resolve(t *testing.T) PropertyOptions {
	t.Helper()
	if s := os.Getenv(PropertySeedEnv); s != "" {
		seed, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want an integer: %v", PropertySeedEnv, s, err)
		}
		o.Seed = seed
	} else if o.Seed == 0 {
		o.Seed = time.Now().UnixNano()
	}
	accounts, ops := 1000, 100_000
	if testing.Short() {
		accounts, ops = 200, 5000
	}
	if o.Accounts <= 0 {
		o.Accounts = accounts
	}
	if o.Ops <= 0 {
		o.Ops = ops
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	o.Workers = min(o.Workers, o.Accounts)
	return o
}

// RunProperty runs a seeded randomized test of the ledger against one store
// and closes the store when done. It enrolls opts.Accounts members of a
// program whose points are pending for 3 days and expire a month after the
// end of the month they were earned in (Berlin time), then runs opts.Ops
// operations chosen at random: earns, reward redemptions, holds, captures,
// releases, returns, replays of earlier operations and reuses of their keys
// with other parameters. It predicts the outcome of each from a reference
// model of every member written from the loyalty package's documented rules
// and fails where the Service disagrees.
//
// The operations run in phases. Within a phase the simulated clock stands
// still and opts.Workers goroutines work on disjoint sets of members, each
// with its own random source derived from the seed; between phases the clock
// moves on (minutes to weeks, sometimes to a month's end) and the expiry job
// runs. A run is therefore the same for a seed however the goroutines are
// scheduled. After every phase it compares every member's balance, standing,
// open lots and ledger totals with the model and checks the store's
// invariants.
//
// Every failure names the seed and the command that replays it.
func RunProperty(t *testing.T, h Harness, opts PropertyOptions) {
	t.Helper()
	opts = opts.resolve(t)
	p := newProp(t, h, opts)
	t.Logf("property run: seed %d, %d accounts, %d operations, %d workers, %d phases; replay with\n\t%s",
		opts.Seed, opts.Accounts, opts.Ops, opts.Workers, p.phases, p.replay)
	p.run()
}

// propProgram is the program a property run seeds.
const propProgram = "prop"

// Parameters of the property program, as the model knows them.
const (
	propPendingDays  = 3
	propPointsPerEUR = 100 // minor units per point
	minPropAmount    = 1
	maxPropAmount    = 20_000
	// kuchenWorker is the one worker that redeems the reward with a stock,
	// which all members share, so that who gets it does not depend on
	// scheduling.
	kuchenWorker = 0
	// maxDone and maxHolds bound what the model keeps per member for
	// replays and for captures and releases.
	maxDone  = 32
	maxHolds = 16
	// maxTrace is how many of a member's operations a failure lists.
	maxTrace = 200
	// maxViolationsPerWorker stops a worker after this many failures.
	maxViolationsPerWorker = 3
	// propPhases is how many phases a run has: the clock moves and the
	// expiry job runs between them, and every member is checked after each.
	propPhases = 20
)

// prop is one property run.
type prop struct {
	t       *testing.T
	e       *env
	opts    PropertyOptions
	replay  string
	till    loyalty.Till
	rewards map[string]loyalty.Reward
	phases  int
	workers []*propWorker

	// phase and now are set between phases only: workers read them.
	phase int
	now   time.Time

	violations atomic.Int64
	// notes counts the situations of the rules the run came to, in the
	// main goroutine (the workers count theirs in counts).
	notes      map[string]int
	expired    int64
	expiryRuns int
	// spent is the time the run spent on operations, expiry, checks and
	// invariants.
	spent      [4]time.Duration
	cardChecks int
	fullChecks atomic.Int64
}

func newProp(t *testing.T, h Harness, opts PropertyOptions) *prop {
	p := &prop{
		t: t, e: newEnv(t, h), opts: opts, replay: replayCommand(t, opts.Seed),
		rewards: map[string]loyalty.Reward{}, notes: map[string]int{},
		phases: min(propPhases, opts.Ops),
	}
	for _, r := range DemoSeed(propProgram).Rewards {
		r.ProgramID = propProgram
		p.rewards[r.ID] = r
	}
	for i := range opts.Workers {
		p.workers = append(p.workers, &propWorker{
			p: p, id: i, counts: map[string]int{},
			rng: rand.New(rand.NewPCG(uint64(opts.Seed), uint64(i)+1)),
		})
	}
	if s := p.rewards["kuchen"].Stock; s != nil {
		p.workers[kuchenWorker].kuchenStock = *s
	}
	return p
}

// replayCommand returns the command that runs t again with seed.
func replayCommand(t *testing.T, seed int64) string {
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				if rel, err := filepath.Rel(dir, wd); err == nil && rel != "." {
					pkg = "./" + filepath.ToSlash(rel)
				}
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	parts := strings.Split(t.Name(), "/")
	for i, s := range parts {
		parts[i] = "^" + s + "$"
	}
	short := ""
	if testing.Short() {
		short = " -short"
	}
	return fmt.Sprintf("%s=%d go test%s -count=1 -run '%s' %s", PropertySeedEnv, seed, short, strings.Join(parts, "/"), pkg)
}

func (p *prop) run() {
	t := p.t
	began := time.Now()
	p.setUp()
	plan := rand.New(rand.NewPCG(uint64(p.opts.Seed), 0x70726f70))
	done := 0
	for ph := range p.phases {
		p.phase = ph
		if ph > 0 {
			p.advance(plan, ph%2 == 0)
			if plan.IntN(4) != 0 {
				p.timed(spentExpiry, p.expire)
			}
		}
		n := (p.opts.Ops - done) / (p.phases - ph)
		p.timed(spentOps, func() { p.runPhase(n, done) })
		done += n
		p.stopOnViolations("phase")
		p.checkAll(ph == p.phases-1)
		p.stopOnViolations("check")
	}
	counts := map[string]int{}
	for k, v := range p.notes {
		counts["rule: "+k] += v
	}
	for _, w := range p.workers {
		for k, v := range w.counts {
			counts[k] += v
		}
	}
	keys := slices.Sorted(maps.Keys(counts))
	width := 0
	for _, k := range keys {
		width = max(width, len(k))
	}
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n\t%-*s %7d", width, k, counts[k])
	}
	t.Logf("property run done in %v (operations %v, expiry %v, checks %v, invariants %v): seed %d, %d accounts, "+
		"%d operations in %d phases, clock at %s, %d expiry runs took %d points, %d card checks, %d ledger checks, "+
		"violations: %d; outcomes:%s",
		time.Since(began).Round(time.Millisecond), p.spent[spentOps].Round(time.Millisecond),
		p.spent[spentExpiry].Round(time.Millisecond), p.spent[spentChecks].Round(time.Millisecond),
		p.spent[spentInvariants].Round(time.Millisecond), p.opts.Seed, p.opts.Accounts, done, p.phases,
		p.now.Format(time.RFC3339), p.expiryRuns, p.expired, p.cardChecks, p.fullChecks.Load(), p.violations.Load(), b.String())
}

// What a run spends its time on.
const (
	spentOps = iota
	spentExpiry
	spentChecks
	spentInvariants
)

// timed runs fn and adds the time it took to p.spent[what].
func (p *prop) timed(what int, fn func()) {
	began := time.Now()
	fn()
	p.spent[what] += time.Since(began)
}

// stopOnViolations ends the test after a phase that found violations: the
// model has parted from the store, so what follows would only repeat them.
func (p *prop) stopOnViolations(after string) {
	if n := p.violations.Load(); n > 0 || p.t.Failed() {
		p.t.Fatalf("stopping after the %s of phase %d with %d violations; seed %d; replay with\n\t%s",
			after, p.phase, n, p.opts.Seed, p.replay)
	}
}

// setUp seeds the program and enrolls the members, spread over the workers.
func (p *prop) setUp() {
	t := p.t
	p.till = p.e.seedExpiring(propProgram, propPendingDays)
	p.now = p.e.now()
	var wg sync.WaitGroup
	for _, w := range p.workers {
		wg.Go(func() {
			for i := w.id; i < p.opts.Accounts; i += len(p.workers) {
				uid := fmt.Sprintf("prop-%d", i)
				card, created, err := p.e.svc.Enroll(p.e.ctx, loyalty.Customer{ProgramID: propProgram, UID: uid}, loyalty.LocaleDE)
				if err != nil || !created {
					t.Errorf("Enroll(%s) = created %v, %v (seed %d)", uid, created, err, p.opts.Seed)
					return
				}
				w.members = append(w.members, &propMember{idx: i, uid: uid, id: card.Member.ID, card: card.Member.CardNumber})
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// propSteps are the ways the clock moves between phases, with weights.
// Short and long steps take turns, so that a run spans some months (and
// their ends, when lots expire) whatever the seed.
var propSteps = []struct {
	name   string
	long   bool
	weight int
	next   func(r *rand.Rand, now time.Time) time.Time
}{
	{"minutes", false, 4, func(r *rand.Rand, now time.Time) time.Time {
		return now.Add(time.Duration(1+r.IntN(40)) * time.Minute)
	}},
	{"hours", false, 3, func(r *rand.Rand, now time.Time) time.Time {
		return now.Add(time.Duration(1+r.IntN(23))*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	}},
	{"days", false, 3, func(r *rand.Rand, now time.Time) time.Time {
		return now.Add(time.Duration(24+r.IntN(4*24)) * time.Hour)
	}},
	{"weeks", true, 1, func(r *rand.Rand, now time.Time) time.Time {
		return now.Add(time.Duration(5*24+r.IntN(10*24)) * time.Hour)
	}},
	// Close to the start of the next month, Berlin time, when lots expire:
	// exactly on it, a microsecond or some minutes before or after.
	{"month end", true, 1, func(r *rand.Rand, now time.Time) time.Time {
		y, m, _ := now.In(berlin).Date()
		edge := time.Date(y, m+1, 1, 0, 0, 0, 0, berlin)
		var offset time.Duration
		switch r.IntN(5) {
		case 1:
			offset = -time.Microsecond
		case 2, 3:
			offset = -time.Duration(1+r.IntN(20)) * time.Minute
		case 4:
			offset = time.Duration(1+r.IntN(20)) * time.Minute
		}
		if t := edge.Add(offset); t.After(now) {
			return t
		}
		return edge
	}},
}

// advance moves the clock as plan draws, a long step when long is set.
// Just before a month's end it mostly crosses it by a few minutes instead,
// so that holds placed before are still active when the points they
// reserve expire.
func (p *prop) advance(plan *rand.Rand, long bool) {
	now := p.e.clock.Now()
	y, m, _ := now.In(berlin).Date()
	if edge := time.Date(y, m+1, 1, 0, 0, 0, 0, berlin); edge.Sub(now) <= 30*time.Minute && plan.IntN(10) < 7 {
		p.e.clock.Set(edge.Add(time.Duration(plan.IntN(5*60)) * time.Second))
		p.now = p.e.now()
		return
	}
	total := 0
	for _, s := range propSteps {
		if s.long == long {
			total += s.weight
		}
	}
	n := plan.IntN(total)
	for _, s := range propSteps {
		if s.long != long {
			continue
		}
		if n -= s.weight; n < 0 {
			p.e.clock.Set(s.next(plan, p.e.clock.Now()))
			break
		}
	}
	p.now = p.e.now()
}

// expire runs the expiry job and compares what it did with the model.
func (p *prop) expire() {
	var want loyalty.ExpiryRun
	var touched []*propMember
	for _, w := range p.workers {
		for _, m := range w.members {
			if n := m.expire(p.now, p.notes); n > 0 {
				want.Members++
				want.Points += n
				m.tracef("phase %d (%s): the expiry job takes %d", p.phase, p.now.Format(time.RFC3339Nano), n)
				m.touched = true
				touched = append(touched, m)
			}
		}
	}
	got, err := p.e.svc.ExpireDue(p.e.ctx, nil)
	p.expiryRuns++
	p.expired += got.Points
	if err != nil || got != want {
		p.violations.Add(1)
		p.t.Errorf("seed %d, phase %d (%s): ExpireDue = %+v, %v; the model expects %+v\nreplay with\n\t%s",
			p.opts.Seed, p.phase, p.now.Format(time.RFC3339Nano), got, err, want, p.replay)
	}
	// The members that lost points: their balances show which of them the
	// job got wrong, if any (the first few).
	wrong := 0
	for _, m := range touched {
		if wrong == maxViolationsPerWorker {
			break
		}
		var a loyalty.Account
		err := p.e.store.View(p.e.ctx, func(tx loyalty.Tx) error {
			var err error
			a, err = tx.Account(p.e.ctx, propProgram, m.id)
			return err
		})
		if err != nil || a.Balance != m.balance {
			wrong++
			p.violations.Add(1)
			p.t.Errorf("seed %d, phase %d: after ExpireDue member #%d (%s) has balance %d (%v); the model expects %d\n%s\nreplay with\n\t%s",
				p.opts.Seed, p.phase, m.idx, m.id, a.Balance, err, m.balance, m.traceText(), p.replay)
		}
	}
	p.stopOnViolations("expiry run")
}

// runPhase runs n operations, numbered from first, spread over the workers.
func (p *prop) runPhase(n, first int) {
	var wg sync.WaitGroup
	for i, w := range p.workers {
		count := n / len(p.workers)
		if i < n%len(p.workers) {
			count++
		}
		w.nextOp = first + i*(n/len(p.workers)) + min(i, n%len(p.workers))
		wg.Go(func() { w.runOps(count) })
	}
	wg.Wait()
}

// checkAll compares every member's card with the model, and the open lots
// and ledger of those that operations or the expiry job came to (of all
// members when all is set), and checks the store's invariants.
func (p *prop) checkAll(all bool) {
	p.timed(spentChecks, func() {
		var wg sync.WaitGroup
		for _, w := range p.workers {
			wg.Go(func() {
				for _, m := range w.members {
					if w.failures >= maxViolationsPerWorker {
						return
					}
					w.check(m, all || m.touched, all)
					m.touched = false
				}
			})
		}
		wg.Wait()
	})
	p.cardChecks += p.opts.Accounts
	if p.e.h.CheckInvariants == nil {
		return
	}
	p.timed(spentInvariants, func() {
		if err := p.e.h.CheckInvariants(p.e.ctx); err != nil {
			p.violations.Add(1)
			p.t.Errorf("seed %d, after phase %d: ledger invariants: %v\nreplay with\n\t%s", p.opts.Seed, p.phase, err, p.replay)
		}
	})
}

// The model.

// propLot is a lot as the model sees it.
type propLot struct {
	seq        int // creation order, the store's ID order within a member
	purchaseID string
	points     int64
	remaining  int64
	available  time.Time
	expires    time.Time
}

func (l *propLot) due(now time.Time) bool     { return !l.expires.IsZero() && !now.Before(l.expires) }
func (l *propLot) pending(now time.Time) bool { return !l.due(now) && now.Before(l.available) }
func (l *propLot) spendable(now time.Time) bool {
	return !l.due(now) && !l.pending(now)
}

// propHold is a hold as the model sees it.
type propHold struct {
	id       string
	points   int64
	created  time.Time
	expires  time.Time
	status   loyalty.HoldStatus // as last written: an expired hold stays active
	captured int64
	closed   time.Time
}

func (h *propHold) activeAt(now time.Time) bool {
	return h.status == loyalty.HoldActive && now.Before(h.expires)
}

// propPurchase is a purchase as the model sees it.
type propPurchase struct {
	id, receipt                        string
	amount, points, returned, reversed int64
}

// propMember is one member's model: owned by one worker during a phase,
// by the main goroutine between phases.
type propMember struct {
	idx            int
	uid, id, card  string
	balance        int64
	lots           []*propLot // with points remaining, in creation order
	lotSeq         int
	holds          []*propHold
	purchases      []*propPurchase
	done           []request // successful keyed operations, for replays
	totals         ledgerTotals
	trace          []string
	traceTruncated int
	// touched says an operation or the expiry job came to the member
	// since its last check.
	touched bool
	// seenEntry is the newest entry a check read, and stored the totals of
	// the member's entries up to it.
	seenEntry int64
	stored    ledgerTotals
}

// ledgerTotals are a member's ledger summed by kind.
type ledgerTotals struct {
	Earned, Redeemed, Captured, Expired, Reversed, Entries int64
}

func (m *propMember) customer() loyalty.Customer {
	return loyalty.Customer{ProgramID: propProgram, UID: m.uid}
}

func (m *propMember) tracef(format string, args ...any) {
	if len(m.trace) == maxTrace {
		m.trace = m.trace[1:]
		m.traceTruncated++
	}
	m.trace = append(m.trace, fmt.Sprintf(format, args...))
}

func (m *propMember) traceText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "operations on member #%d (%s, uid %s)", m.idx, m.id, m.uid)
	if m.traceTruncated > 0 {
		fmt.Fprintf(&b, ", the last %d of %d", len(m.trace), len(m.trace)+m.traceTruncated)
	}
	b.WriteString(":")
	for _, s := range m.trace {
		b.WriteString("\n\t" + s)
	}
	return b.String()
}

// spendOrder returns the member's lots the way the rules spend them:
// soonest expiry first, lots that never expire last, then oldest first.
func (m *propMember) spendOrder() []*propLot {
	lots := slices.Clone(m.lots)
	slices.SortStableFunc(lots, func(a, b *propLot) int {
		switch {
		case a.expires.IsZero() && b.expires.IsZero():
		case a.expires.IsZero():
			return 1
		case b.expires.IsZero():
			return -1
		case a.expires.Before(b.expires):
			return -1
		case b.expires.Before(a.expires):
			return 1
		}
		return a.seq - b.seq
	})
	return lots
}

// take takes up to n points from the lots pick accepts, in spend order, and
// returns how many it took.
func (m *propMember) take(n int64, pick func(*propLot) bool) int64 {
	var taken int64
	for _, l := range m.spendOrder() {
		if taken == n {
			break
		}
		if pick(l) {
			k := min(l.remaining, n-taken)
			l.remaining -= k
			taken += k
		}
	}
	m.lots = slices.DeleteFunc(m.lots, func(l *propLot) bool { return l.remaining == 0 })
	return taken
}

// standing is the member's standing at now by the documented rules.
func (m *propMember) standing(now time.Time) loyalty.Standing {
	s := loyalty.Standing{Balance: m.balance}
	// changesAt makes t, unless zero, a candidate for the first moment the
	// standing changes by itself.
	changesAt := func(t time.Time) {
		if !t.IsZero() && (s.ChangesAt.IsZero() || t.Before(s.ChangesAt)) {
			s.ChangesAt = t
		}
	}
	for _, l := range m.lots {
		switch {
		case l.due(now):
			s.Due += l.remaining
		case l.pending(now):
			s.Pending += l.remaining
			changesAt(l.available)
		default:
			s.Spendable += l.remaining
			changesAt(l.expires)
			if l.expires.IsZero() {
				break
			}
			if s.NextExpiry.IsZero() || l.expires.Before(s.NextExpiry) {
				s.NextExpiry, s.NextExpiryPoints = l.expires, 0
			}
			if l.expires.Equal(s.NextExpiry) {
				s.NextExpiryPoints += l.remaining
			}
		}
	}
	for _, h := range m.holds {
		if h.activeAt(now) {
			s.Reserved += h.points
			changesAt(h.expires)
		}
	}
	s.Available = max(0, s.Spendable-s.Reserved)
	return s
}

// expire applies the expiry job to the member at now: what remains of due
// lots expires, except what active holds need beyond the spendable points.
func (m *propMember) expire(now time.Time, notes map[string]int) int64 {
	st := m.standing(now)
	keep := max(0, st.Reserved-st.Spendable)
	if keep > 0 && st.Due > 0 {
		notes["expiry keeps due points for holds"]++
	}
	n := st.Due - keep
	if n <= 0 {
		return 0
	}
	if got := m.take(n, func(l *propLot) bool { return l.due(now) }); got != n {
		panic(fmt.Sprintf("storetest: model of member %s: %d due points, took %d", m.id, n, got))
	}
	m.balance -= n
	m.totals.Expired += n
	m.totals.Entries++
	return n
}

// earnLot credits a purchase's points at now.
func (m *propMember) earnLot(purchaseID string, points int64, now time.Time) {
	y, mo, _ := now.In(berlin).Date()
	m.lotSeq++
	m.lots = append(m.lots, &propLot{
		seq: m.lotSeq, purchaseID: purchaseID, points: points, remaining: points,
		available: now.Add(propPendingDays * 24 * time.Hour),
		// One month after the end of the month: the first of the month
		// after next.
		expires: time.Date(y, mo, 1, 0, 0, 0, 0, berlin).AddDate(0, 2, 0).UTC(),
	})
	m.lots = slices.DeleteFunc(m.lots, func(l *propLot) bool { return l.remaining == 0 })
}

func (m *propMember) remember(q request) {
	if len(m.done) == maxDone {
		m.done = m.done[1:]
	}
	m.done = append(m.done, q)
}

func (m *propMember) addHold(h *propHold) {
	if len(m.holds) == maxHolds {
		m.holds = m.holds[1:]
	}
	m.holds = append(m.holds, h)
}

// Requests.

// opKind names an operation of the Service.
type opKind string

const (
	opEarn    opKind = "Earn"
	opRedeem  opKind = "RedeemReward"
	opHold    opKind = "Hold"
	opCapture opKind = "Capture"
	opRelease opKind = "Release"
	opReverse opKind = "Reverse"
)

// request is one call of the Service with its idempotency key and, once
// it succeeded, its result.
type request struct {
	kind    opKind
	key     string
	earn    loyalty.EarnRequest
	reward  string
	hold    loyalty.HoldRequest
	holdID  string
	points  int64 // of a capture
	reverse loyalty.ReverseRequest
	result  any
}

func (q request) String() string {
	switch q.kind {
	case opEarn:
		return fmt.Sprintf("Earn(amount %d, receipt %q, key %s)", q.earn.AmountMinor, q.earn.ReceiptID, q.key)
	case opRedeem:
		return fmt.Sprintf("RedeemReward(%s, key %s)", q.reward, q.key)
	case opHold:
		return fmt.Sprintf("Hold(%d points, ttl %v, key %s)", q.hold.Points, q.hold.TTL, q.key)
	case opCapture:
		return fmt.Sprintf("Capture(%s, %d points, key %s)", q.holdID, q.points, q.key)
	case opRelease:
		return fmt.Sprintf("Release(%s, key %s)", q.holdID, q.key)
	case opReverse:
		return fmt.Sprintf("Reverse(purchase %q, receipt %q, amount %d, currency %q, key %s)",
			q.reverse.PurchaseID, q.reverse.ReceiptID, q.reverse.AmountMinor, q.reverse.Currency, q.key)
	}
	return string(q.kind)
}

// call runs q against the Service.
func (p *prop) call(m *propMember, q request) (any, error) {
	ctx, svc := p.e.ctx, p.e.svc
	switch q.kind {
	case opEarn:
		r := q.earn
		r.IdempotencyKey = q.key
		return svc.Earn(ctx, p.till, r)
	case opRedeem:
		return svc.RedeemReward(ctx, m.customer(), q.reward, q.key)
	case opHold:
		r := q.hold
		r.IdempotencyKey = q.key
		return svc.Hold(ctx, p.till, r)
	case opCapture:
		return svc.Capture(ctx, p.till, q.holdID, q.points, q.key)
	case opRelease:
		return svc.Release(ctx, p.till, q.holdID, q.key)
	case opReverse:
		r := q.reverse
		r.IdempotencyKey = q.key
		return svc.Reverse(ctx, p.till, r)
	}
	return nil, fmt.Errorf("storetest: unknown operation %q", q.kind)
}

// Outcomes of an operation, as the model predicts them.
const (
	outOK           = "ok"
	outInsufficient = "insufficient points"
	outPrecondition = "failed precondition"
	outNotFound     = "not found"
	outConflict     = "conflict"
	outInvalid      = "invalid"
	outOther        = "other error"
)

func outcomeOf(err error) string {
	switch {
	case err == nil:
		return outOK
	case errors.Is(err, loyalty.ErrInsufficientPoints):
		return outInsufficient
	case errors.Is(err, loyalty.ErrFailedPrecondition):
		return outPrecondition
	case errors.Is(err, loyalty.ErrNotFound):
		return outNotFound
	case errors.Is(err, loyalty.ErrConflict):
		return outConflict
	case errors.Is(err, loyalty.ErrInvalid):
		return outInvalid
	}
	return outOther
}

// The workers.

// propWorker runs operations on its own members.
type propWorker struct {
	p           *prop
	id          int
	rng         *rand.Rand
	members     []*propMember
	counts      map[string]int
	keys        int
	receipts    int
	kuchenStock int64
	nextOp      int
	op          int
	failures    int
}

// propOps are the operations a worker picks from, with weights.
var propOps = []struct {
	name   string
	weight int
	run    func(w *propWorker, m *propMember)
}{
	{"earn", 30, (*propWorker).earn},
	{"redeem", 15, (*propWorker).redeem},
	{"hold", 12, (*propWorker).hold},
	{"capture", 10, (*propWorker).capture},
	{"release", 6, (*propWorker).release},
	{"reverse", 10, (*propWorker).reverseOp},
	{"replay", 10, (*propWorker).replayOp},
	{"conflict", 5, (*propWorker).conflictOp},
}

var propOpsWeight = func() int {
	n := 0
	for _, o := range propOps {
		n += o.weight
	}
	return n
}()

func (w *propWorker) runOps(n int) {
	for i := range n {
		if w.failures >= maxViolationsPerWorker {
			return
		}
		w.op = w.nextOp + i
		m := w.members[w.rng.IntN(len(w.members))]
		m.touched = true
		k := w.rng.IntN(propOpsWeight)
		for _, o := range propOps {
			if k -= o.weight; k < 0 {
				o.run(w, m)
				break
			}
		}
	}
}

func (w *propWorker) key() string {
	w.keys++
	return fmt.Sprintf("w%d-k%d", w.id, w.keys)
}

// note counts a situation of the rules the run came to.
func (w *propWorker) note(what string) { w.counts["rule: "+what]++ }

// chance reports true with probability percent/100.
func (w *propWorker) chance(percent int) bool { return w.rng.IntN(100) < percent }

// between returns a random number in [lo, hi].
func (w *propWorker) between(lo, hi int64) int64 { return lo + w.rng.Int64N(hi-lo+1) }

// fail reports a disagreement between the model and the Service.
func (w *propWorker) fail(m *propMember, format string, args ...any) {
	p := w.p
	w.failures++
	p.violations.Add(1)
	op := fmt.Sprintf("op %d", w.op)
	if w.op < 0 {
		op = "check after the phase"
	}
	p.t.Errorf("seed %d, phase %d (clock %s), %s, member #%d (%s): %s\n%s\nreplay with\n\t%s",
		p.opts.Seed, p.phase, p.now.Format(time.RFC3339Nano), op, m.idx, m.id,
		fmt.Sprintf(format, args...), m.traceText(), p.replay)
}

// do runs q and checks that its outcome is want. It returns the result and
// whether the outcomes agree.
func (w *propWorker) do(m *propMember, q request, want string) (any, bool) {
	got, err := w.p.call(m, q)
	out := outcomeOf(err)
	w.counts[string(q.kind)+": "+out]++
	if out != want {
		m.tracef("op %d (phase %d, %s): %s → %v; the model expects %s",
			w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, errorText(err), want)
		w.fail(m, "%s returned %s (%v); the model expects %s", q, out, err, want)
		return nil, false
	}
	return got, true
}

func errorText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// agree compares the Service's result with the model's and records the
// operation in the member's trace.
func (w *propWorker) agree(m *propMember, q request, want, got any) bool {
	if diff := cmp.Diff(want, got); diff != "" {
		m.tracef("op %d (phase %d, %s): %s → %+v; the model expects %+v",
			w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, got, want)
		w.fail(m, "%s: result differs from the model's (-model +service):\n%s", q, diff)
		return false
	}
	return true
}

// ok records a successful operation in the trace.
func (w *propWorker) ok(m *propMember, q request, format string, args ...any) {
	m.tracef("op %d (phase %d, %s): %s → ok, %s; balance %d",
		w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, fmt.Sprintf(format, args...), m.balance)
}

// failed records a refused operation in the trace.
func (w *propWorker) failed(m *propMember, q request, out string) {
	m.tracef("op %d (phase %d, %s): %s → %s", w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, out)
}

func (w *propWorker) earn(m *propMember) {
	now := w.p.now
	q := request{kind: opEarn, key: w.key(), earn: loyalty.EarnRequest{
		CardNumber: m.card, AmountMinor: w.between(minPropAmount, maxPropAmount), Currency: "EUR",
	}}
	want := outOK
	switch r := w.rng.IntN(100); {
	case r < 35:
		w.receipts++
		q.earn.ReceiptID = fmt.Sprintf("w%d-r%d", w.id, w.receipts)
	case r < 38:
		// A receipt posted before, under a new key.
		var used []string
		for _, pu := range m.purchases {
			if pu.receipt != "" {
				used = append(used, pu.receipt)
			}
		}
		if len(used) > 0 {
			q.earn.ReceiptID = used[w.rng.IntN(len(used))]
			want = outConflict
		}
	}
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.EarnResult)
	points := q.earn.AmountMinor / propPointsPerEUR
	if !w.agree(m, q, loyalty.EarnResult{
		PurchaseID: res.PurchaseID, EntryID: res.EntryID, MemberID: m.id, Points: points, Balance: m.balance + points,
	}, res) {
		return
	}
	if res.PurchaseID == "" || res.EntryID <= 0 {
		w.fail(m, "%s: result %+v names no purchase or entry", q, res)
		return
	}
	m.balance += points
	m.totals.Earned += points
	m.totals.Entries++
	m.earnLot(res.PurchaseID, points, now)
	m.purchases = append(m.purchases, &propPurchase{
		id: res.PurchaseID, receipt: q.earn.ReceiptID, amount: q.earn.AmountMinor, points: points,
	})
	q.result = res
	m.remember(q)
	w.ok(m, q, "%d points, purchase %s", points, res.PurchaseID)
}

// pickReward returns a reward id: mostly ones that can be redeemed, some
// that are inactive or unknown, the one with a stock only for one worker.
func (w *propWorker) pickReward() string {
	switch r := w.rng.IntN(100); {
	case r < 35:
		return "keks"
	case r < 65:
		return "kaffee"
	case r < 82:
		return "backkurs"
	case r < 90:
		if w.id == kuchenWorker {
			return "kuchen"
		}
		return "keks"
	case r < 95:
		return "alt"
	}
	return "nope"
}

func (w *propWorker) redeem(m *propMember) {
	now := w.p.now
	q := request{kind: opRedeem, key: w.key(), reward: w.pickReward()}
	r, known := w.p.rewards[q.reward]
	st := m.standing(now)
	want := outOK
	switch {
	case !known || !r.Active:
		want = outNotFound
	case r.Stock != nil && w.kuchenStock <= 0:
		want = outPrecondition
	case st.Available < r.Cost:
		want = outInsufficient
		if m.balance >= r.Cost {
			w.note("spend refused: the balance covers it, the available points do not")
		}
	}
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.Redemption)
	if !w.agree(m, q, loyalty.Redemption{
		Voucher: loyalty.Voucher{
			ProgramID: propProgram, Code: res.Voucher.Code, MemberID: m.id, RewardID: r.ID, RewardName: r.Name,
			Cost: r.Cost, Status: loyalty.VoucherIssued, IssuedAt: now,
			ExpiresAt: now.Add(DemoSeed(propProgram).Program.VoucherValidity.D()),
		},
		Balance: m.balance - r.Cost, EntryID: res.EntryID, Locale: loyalty.LocaleDE,
	}, res) {
		return
	}
	if r.Stock != nil {
		w.kuchenStock--
	}
	m.take(r.Cost, func(l *propLot) bool { return l.spendable(now) })
	m.balance -= r.Cost
	m.totals.Redeemed += r.Cost
	m.totals.Entries++
	q.result = res
	m.remember(q)
	w.ok(m, q, "voucher %s", res.Voucher.Code)
}

func (w *propWorker) hold(m *propMember) {
	now := w.p.now
	st := m.standing(now)
	var points int64
	switch {
	case st.Available > 0 && w.chance(75):
		points = w.between(1, st.Available)
	default:
		points = st.Available + w.between(1, 50)
	}
	var ttl time.Duration
	switch r := w.rng.IntN(10); r {
	case 0:
		ttl = loyalty.MinHoldTTL
	case 1:
		ttl = loyalty.MaxHoldTTL
	default:
		ttl = time.Duration(w.between(int64(loyalty.MinHoldTTL/time.Second), int64(loyalty.MaxHoldTTL/time.Second))) * time.Second
	}
	q := request{kind: opHold, key: w.key(), hold: loyalty.HoldRequest{CardNumber: m.card, Points: points, TTL: ttl}}
	want := outOK
	if st.Available < points {
		want = outInsufficient
	}
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.HoldResult)
	h := &propHold{id: res.Hold.ID, points: points, created: now, expires: now.Add(ttl), status: loyalty.HoldActive}
	if !w.agree(m, q, loyalty.HoldResult{Hold: w.holdView(m, h), Available: st.Available - points}, res) {
		return
	}
	if res.Hold.ID == "" {
		w.fail(m, "%s: the hold has no id", q)
		return
	}
	m.addHold(h)
	q.result = res
	m.remember(q)
	w.ok(m, q, "hold %s until %s", h.id, h.expires.Format(time.RFC3339))
}

// holdView is h as the Service returns it.
func (w *propWorker) holdView(m *propMember, h *propHold) loyalty.Hold {
	return loyalty.Hold{
		ProgramID: propProgram, ID: h.id, MemberID: m.id, TillID: w.p.till.ID, Points: h.points,
		Status: h.status, Captured: h.captured, CreatedAt: h.created, ExpiresAt: h.expires, ClosedAt: h.closed,
	}
}

// holder returns m if it has an active hold, else mostly another of the
// worker's members that has one, so that captures and releases find holds.
func (w *propWorker) holder(m *propMember) *propMember {
	has := func(m *propMember) bool {
		return slices.ContainsFunc(m.holds, func(h *propHold) bool { return h.activeAt(w.p.now) })
	}
	if has(m) || w.chance(10) {
		return m
	}
	for range 16 {
		if o := w.members[w.rng.IntN(len(w.members))]; has(o) {
			o.touched = true
			return o
		}
	}
	return m
}

// pickHold returns one of the member's holds, mostly an active one, or nil
// (an unknown hold) now and then or when the member has none.
func (w *propWorker) pickHold(m *propMember) *propHold {
	if len(m.holds) == 0 || w.chance(3) {
		return nil
	}
	if w.chance(80) {
		var active []*propHold
		for _, h := range m.holds {
			if h.activeAt(w.p.now) {
				active = append(active, h)
			}
		}
		if len(active) > 0 {
			return active[w.rng.IntN(len(active))]
		}
	}
	return m.holds[w.rng.IntN(len(m.holds))]
}

// holdOutcome is what capturing or releasing h at now comes to before any
// points are counted.
func holdOutcome(h *propHold, now time.Time) string {
	switch {
	case h == nil:
		return outNotFound
	case h.status != loyalty.HoldActive: // captured or released
		return outPrecondition
	case !now.Before(h.expires): // expired by itself
		return outPrecondition
	}
	return outOK
}

func (w *propWorker) unknownHoldID() string { return fmt.Sprintf("hold_unknown_w%d_%d", w.id, w.keys) }

func (w *propWorker) capture(m *propMember) {
	now := w.p.now
	m = w.holder(m)
	h := w.pickHold(m)
	q := request{kind: opCapture, key: w.key()}
	if h == nil {
		q.holdID, q.points = w.unknownHoldID(), w.between(0, 5)
	} else {
		q.holdID = h.id
		switch r := w.rng.IntN(10); {
		case r < 4:
			q.points = 0 // all of it
		case r < 6:
			q.points = h.points
		case r < 9:
			q.points = w.between(1, h.points)
		default:
			q.points = h.points + w.between(1, 10)
		}
	}
	want := holdOutcome(h, now)
	points := q.points
	if want == outOK {
		if points == 0 {
			points = h.points
		}
		st := m.standing(now)
		// The capture may take spendable and due points, less what the
		// member's other active holds reserve.
		canTake := max(0, st.Spendable+st.Due-(st.Reserved-h.points))
		switch {
		case points > h.points:
			want = outPrecondition
		case canTake < points:
			want = outInsufficient
		}
	}
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.CaptureResult)
	after := *h
	after.status, after.captured, after.closed = loyalty.HoldCaptured, points, now
	if !w.agree(m, q, loyalty.CaptureResult{
		Hold: w.holdView(m, &after), Points: points, Balance: m.balance - points, EntryID: res.EntryID,
	}, res) {
		return
	}
	*h = after
	if st := m.standing(now); st.Due > 0 {
		w.note("capture takes due points")
	}
	m.take(points, func(l *propLot) bool { return l.spendable(now) || l.due(now) })
	m.balance -= points
	m.totals.Captured += points
	m.totals.Entries++
	q.result = res
	m.remember(q)
	w.ok(m, q, "%d points captured", points)
}

func (w *propWorker) release(m *propMember) {
	now := w.p.now
	m = w.holder(m)
	h := w.pickHold(m)
	q := request{kind: opRelease, key: w.key()}
	if h == nil {
		q.holdID = w.unknownHoldID()
	} else {
		q.holdID = h.id
	}
	want := holdOutcome(h, now)
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.Hold)
	after := *h
	after.status, after.closed = loyalty.HoldReleased, now
	if !w.agree(m, q, w.holdView(m, &after), res) {
		return
	}
	*h = after
	q.result = res
	m.remember(q)
	w.ok(m, q, "%d points free again", h.points)
}

func (w *propWorker) reverseOp(m *propMember) {
	now := w.p.now
	q := request{kind: opReverse, key: w.key()}
	if w.chance(20) {
		q.reverse.Currency = "EUR"
	}
	var pu *propPurchase
	if len(m.purchases) == 0 || w.chance(2) {
		if w.chance(50) {
			q.reverse.PurchaseID = fmt.Sprintf("pur_unknown_w%d_%d", w.id, w.keys)
		} else {
			q.reverse.ReceiptID = fmt.Sprintf("unknown-w%d-%d", w.id, w.keys)
		}
		q.reverse.AmountMinor = w.between(0, 100)
	} else {
		pu = m.purchases[w.rng.IntN(len(m.purchases))]
		if pu.receipt != "" && w.chance(30) {
			q.reverse.ReceiptID = pu.receipt
		} else {
			q.reverse.PurchaseID = pu.id
		}
		left := pu.amount - pu.returned
		switch r := w.rng.IntN(100); {
		case r < 35:
			q.reverse.AmountMinor = 0 // what is left
		case r < 85:
			q.reverse.AmountMinor = w.between(1, max(1, left))
		case r < 95:
			q.reverse.AmountMinor = left + w.between(1, 100)
		default:
			q.reverse.AmountMinor = max(1, left)
		}
	}
	want := outOK
	amount := q.reverse.AmountMinor
	if pu == nil {
		want = outNotFound
	} else {
		left := pu.amount - pu.returned
		if amount == 0 {
			amount = left
		}
		if left == 0 || amount > left {
			want = outPrecondition
		}
	}
	got, ok := w.do(m, q, want)
	if !ok {
		return
	}
	if want != outOK {
		w.failed(m, q, want)
		return
	}
	res := got.(loyalty.ReverseResult)

	// The model takes the points back from its lots, and puts the lots
	// back should the Service disagree.
	returned := pu.returned + amount
	due := pu.points*returned/pu.amount - pu.reversed
	var taken int64
	lots := cloneLots(m.lots)
	if due > 0 {
		// First from the purchase's own lot, whatever its state…
		own := func(l *propLot) bool { return l.purchaseID == pu.id }
		for _, l := range m.lots {
			switch {
			case !own(l):
			case l.due(now):
				w.note("return takes due points of its purchase")
			case l.pending(now):
				w.note("return takes pending points of its purchase")
			}
		}
		taken = m.take(due, own)
		// …then from other spendable lots, as far as active holds leave
		// points free.
		st := m.standing(now)
		free := max(0, st.Spendable-st.Reserved)
		taken += m.take(min(due-taken, free), func(l *propLot) bool { return !own(l) && l.spendable(now) })
	}
	want2 := loyalty.ReverseResult{
		PurchaseID: pu.id, MemberID: m.id, Points: taken, Unrecovered: due - taken,
		Balance: m.balance - taken, ReturnedMinor: returned,
	}
	if due > 0 {
		want2.EntryID = res.EntryID
	}
	if !w.agree(m, q, want2, res) {
		m.lots = lots
		return
	}
	if due > taken {
		w.note("return leaves points unrecovered")
	}
	pu.returned, pu.reversed = returned, pu.reversed+due
	m.balance -= taken
	m.totals.Reversed += taken
	if due > 0 {
		m.totals.Entries++
	}
	q.result = res
	m.remember(q)
	w.ok(m, q, "%d of %d due points taken back, %d unrecovered", taken, due, due-taken)
}

func cloneLots(lots []*propLot) []*propLot {
	out := make([]*propLot, len(lots))
	for i, l := range lots {
		c := *l
		out[i] = &c
	}
	return out
}

// pickDone returns one of the member's earlier successful operations, or
// false when there is none.
func (w *propWorker) pickDone(m *propMember) (request, bool) {
	if len(m.done) == 0 {
		return request{}, false
	}
	return m.done[w.rng.IntN(len(m.done))], true
}

// replayOp repeats an earlier successful operation with its key and
// parameters: the Service returns the first result and changes nothing.
func (w *propWorker) replayOp(m *propMember) {
	q, ok := w.pickDone(m)
	if !ok {
		w.earn(m)
		return
	}
	got, ok := w.do(m, q, outOK)
	if !ok {
		return
	}
	if diff := cmp.Diff(q.result, got); diff != "" {
		m.tracef("op %d (phase %d, %s): replay of %s → %+v, first result %+v",
			w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, got, q.result)
		w.fail(m, "replay of %s returned another result than the first (-first +replay):\n%s", q, diff)
		return
	}
	w.counts["replay: same result"]++
	m.tracef("op %d (phase %d, %s): replay of %s → the first result", w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q)
}

// conflictOp reuses an earlier key with other parameters, or for another
// operation of the same caller: the Service refuses with ErrConflict.
func (w *propWorker) conflictOp(m *propMember) {
	prev, ok := w.pickDone(m)
	if !ok {
		w.earn(m)
		return
	}
	q := request{kind: prev.kind, key: prev.key, earn: prev.earn, reward: prev.reward, hold: prev.hold,
		holdID: prev.holdID, points: prev.points, reverse: prev.reverse}
	if prev.kind != opRedeem && w.chance(25) {
		// A till's key used for another of the till's operations.
		switch prev.kind {
		case opRelease:
			q.kind, q.points = opCapture, 0
		default:
			q.kind, q.holdID = opRelease, w.unknownHoldID()
		}
	} else {
		switch prev.kind {
		case opEarn:
			q.earn.AmountMinor++
		case opRedeem:
			if q.reward == "keks" {
				q.reward = "kaffee"
			} else {
				q.reward = "keks"
			}
		case opHold:
			q.hold.Points++
		case opCapture:
			q.points++
		case opRelease:
			q.holdID += "x"
		case opReverse:
			q.reverse.AmountMinor++
		}
	}
	if _, ok := w.do(m, q, outConflict); ok {
		m.tracef("op %d (phase %d, %s): %s, reusing the key of %s → conflict",
			w.op, w.p.phase, w.p.now.Format(time.RFC3339Nano), q, prev)
	}
}

// check compares the member's card with the model and, when full is set,
// the member's open lots and ledger; all makes it read the whole ledger.
func (w *propWorker) check(m *propMember, full, all bool) {
	p := w.p
	ctx := p.e.ctx
	w.op = -1
	card, err := p.e.svc.Card(ctx, m.customer())
	if err != nil {
		w.fail(m, "check: Card: %v", err)
		return
	}
	st := m.standing(p.now)
	if st.Due > 0 {
		w.note("a card shows due points")
	}
	if st.Reserved > st.Spendable {
		w.note("a card shows holds beyond its spendable points")
	}
	if diff := cmp.Diff(st, card.Standing); diff != "" || card.Account.Balance != m.balance {
		w.fail(m, "check after the phase: balance %d, the model's %d; standing (-model +service):\n%s",
			card.Account.Balance, m.balance, diff)
		return
	}
	if !full {
		return
	}
	p.fullChecks.Add(1)
	var (
		entries []loyalty.Entry
		lots    []loyalty.Lot
	)
	// The ledger is append-only and entry IDs increase: only the entries
	// written since the last check are read, and added to what that check
	// summed; the last check of a run reads them all.
	if all {
		m.seenEntry, m.stored = 0, ledgerTotals{}
	}
	err = p.e.store.View(ctx, func(tx loyalty.Tx) error {
		entries = entries[:0]
		var before int64
		// A phase writes a few entries per member: a small first page
		// mostly holds them all.
		pageSize := 32
	pages:
		for {
			page, err := tx.Entries(ctx, propProgram, m.id, before, pageSize)
			if err != nil {
				return err
			}
			for _, e := range page {
				if e.ID <= m.seenEntry {
					break pages
				}
				entries = append(entries, e)
			}
			if len(page) < pageSize {
				break
			}
			before = page[len(page)-1].ID
			pageSize = maxRead
		}
		lots, err = tx.OpenLots(ctx, propProgram, m.id)
		return err
	})
	if err != nil {
		w.fail(m, "check: read entries and lots: %v", err)
		return
	}
	got := m.stored
	for _, e := range entries {
		got.Entries++
		switch e.Kind {
		case loyalty.EntryEarn:
			got.Earned += e.Points
		case loyalty.EntryRedeem:
			got.Redeemed -= e.Points
		case loyalty.EntryCapture:
			got.Captured -= e.Points
		case loyalty.EntryExpire:
			got.Expired -= e.Points
		case loyalty.EntryReverse:
			got.Reversed -= e.Points
		default:
			w.fail(m, "check: entry %d has kind %q, which no operation of the run writes", e.ID, e.Kind)
			return
		}
	}
	if spent := got.Redeemed + got.Captured; got.Earned != spent+got.Expired+got.Reversed+card.Account.Balance {
		w.fail(m, "check: the ledger does not add up: earned %d != spent %d + expired %d + reversed %d + remaining %d",
			got.Earned, spent, got.Expired, got.Reversed, card.Account.Balance)
		return
	}
	if diff := cmp.Diff(m.totals, got); diff != "" {
		w.fail(m, "check: ledger totals by kind (-model +store):\n%s", diff)
		return
	}
	m.stored = got
	if len(entries) > 0 {
		m.seenEntry = entries[0].ID
	}
	type lotView struct {
		PurchaseID           string
		Points, Remaining    int64
		Available, ExpiresAt time.Time
	}
	var wantLots, gotLots []lotView
	for _, l := range m.spendOrder() {
		wantLots = append(wantLots, lotView{l.purchaseID, l.points, l.remaining, l.available, l.expires})
	}
	for _, l := range lots {
		gotLots = append(gotLots, lotView{l.PurchaseID, l.Points, l.Remaining, l.AvailableAt, l.ExpiresAt})
	}
	if diff := cmp.Diff(wantLots, gotLots); diff != "" {
		w.fail(m, "check: open lots (-model +store):\n%s", diff)
	}
}
