package loyalty

import (
	"context"
	"time"
)

// update runs fn in a read-write transaction of the store, like
// Store.Update, and writes a CardChange to the outbox for every account fn
// changed, in the same transaction. After the commit it hands the changes to
// the Service's change hook.
func (s *Service) update(ctx context.Context, fn func(Tx) error) error {
	var changes []CardChange
	err := s.store.Update(ctx, func(tx Tx) error {
		ct := &changeTx{Tx: tx}
		if err := fn(ct); err != nil {
			return err
		}
		var err error
		changes, err = ct.writeChanges(ctx, s.now())
		return err
	})
	if err == nil && len(changes) > 0 && s.onCommit != nil {
		s.onCommit(changes)
	}
	return err
}

// changeTx is a Tx that notes which accounts change and which entries are
// written, so that update can record the changes in the outbox.
type changeTx struct {
	Tx
	changed []Account // in the order of their first change
	// from is the version of each changed account before the transaction.
	from    map[MemberKey]int64
	entries map[MemberKey][]Entry
	// members and programs the transaction read, so that writeChanges need
	// not read them again.
	members  map[MemberKey]Member
	programs map[string]Program
	// games are the game states the transaction read or wrote.
	games map[MemberKey]GameState
}

func (t *changeTx) GameState(ctx context.Context, programID, memberID string) (GameState, error) {
	k := MemberKey{ProgramID: programID, MemberID: memberID}
	if g, ok := t.games[k]; ok {
		return g, nil
	}
	g, err := t.Tx.GameState(ctx, programID, memberID)
	if err == nil {
		t.noteGame(k, g)
	}
	return g, err
}

func (t *changeTx) SaveGameState(ctx context.Context, g GameState) error {
	if err := t.Tx.SaveGameState(ctx, g); err != nil {
		return err
	}
	t.noteGame(MemberKey{ProgramID: g.ProgramID, MemberID: g.MemberID}, g)
	return nil
}

func (t *changeTx) noteGame(k MemberKey, g GameState) {
	if t.games == nil {
		t.games = map[MemberKey]GameState{}
	}
	t.games[k] = g
}

func (t *changeTx) Program(ctx context.Context, id string) (Program, error) {
	if p, ok := t.programs[id]; ok {
		return p, nil
	}
	p, err := t.Tx.Program(ctx, id)
	if err == nil {
		if t.programs == nil {
			t.programs = map[string]Program{}
		}
		t.programs[id] = p
	}
	return p, err
}

func (t *changeTx) MemberByUID(ctx context.Context, programID, uid string) (Member, error) {
	return t.noteMember(t.Tx.MemberByUID(ctx, programID, uid))
}

func (t *changeTx) MemberByCard(ctx context.Context, programID, cardNumber string) (Member, error) {
	return t.noteMember(t.Tx.MemberByCard(ctx, programID, cardNumber))
}

func (t *changeTx) MemberByID(ctx context.Context, programID, id string) (Member, error) {
	if m, ok := t.members[MemberKey{ProgramID: programID, MemberID: id}]; ok {
		return m, nil
	}
	return t.noteMember(t.Tx.MemberByID(ctx, programID, id))
}

func (t *changeTx) noteMember(m Member, err error) (Member, error) {
	if err == nil {
		if t.members == nil {
			t.members = map[MemberKey]Member{}
		}
		t.members[MemberKey{ProgramID: m.ProgramID, MemberID: m.ID}] = m
	}
	return m, err
}

func (t *changeTx) SaveAccount(ctx context.Context, a Account) error {
	if err := t.Tx.SaveAccount(ctx, a); err != nil {
		return err
	}
	for i := range t.changed {
		if t.changed[i].ProgramID == a.ProgramID && t.changed[i].MemberID == a.MemberID {
			t.changed[i] = a
			return nil
		}
	}
	t.changed = append(t.changed, a)
	if t.from == nil {
		t.from = map[MemberKey]int64{}
	}
	// Every write moves the version by one.
	t.from[MemberKey{ProgramID: a.ProgramID, MemberID: a.MemberID}] = a.Version - 1
	return nil
}

func (t *changeTx) AppendEntry(ctx context.Context, e *Entry) error {
	if err := t.Tx.AppendEntry(ctx, e); err != nil {
		return err
	}
	if t.entries == nil {
		t.entries = map[MemberKey][]Entry{}
	}
	k := MemberKey{ProgramID: e.ProgramID, MemberID: e.MemberID}
	c := *e
	c.Uses = nil
	t.entries[k] = append(t.entries[k], c)
	return nil
}

// writeChanges appends a CardChange for every changed account to the outbox
// and returns them.
func (t *changeTx) writeChanges(ctx context.Context, now time.Time) ([]CardChange, error) {
	changes := make([]CardChange, 0, len(t.changed))
	for _, a := range t.changed {
		k := MemberKey{ProgramID: a.ProgramID, MemberID: a.MemberID}
		// Read past the cache: an erasure may have committed while this
		// transaction waited for the account's lock, and an erased
		// member's card goes to nobody.
		m, err := t.noteMember(t.Tx.MemberByID(ctx, k.ProgramID, k.MemberID))
		if err != nil {
			return nil, err
		}
		if !m.ErasedAt.IsZero() {
			continue
		}
		st, err := cardStateOf(ctx, t, k, a, now)
		if err != nil {
			return nil, err
		}
		c := CardChange{FromVersion: t.from[k], State: st, Entries: t.entries[k]}
		if err := t.AppendCardChange(ctx, &c); err != nil {
			return nil, err
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// cardStateOf returns the card state of account a, of member k, at now.
func cardStateOf(ctx context.Context, tx Tx, k MemberKey, a Account, now time.Time) (CardState, error) {
	m, err := tx.MemberByID(ctx, k.ProgramID, k.MemberID)
	if err != nil {
		return CardState{}, err
	}
	p, err := tx.Program(ctx, k.ProgramID)
	if err != nil {
		return CardState{}, err
	}
	st, err := standingOf(ctx, tx, a, now)
	if err != nil {
		return CardState{}, err
	}
	g, err := tx.GameState(ctx, k.ProgramID, k.MemberID)
	if err != nil {
		return CardState{}, err
	}
	return Card{Program: p, Member: m, Account: a, Standing: st, Game: g}.State(now), nil
}

// CardState returns the customer's card as it is now, read from the store.
// It returns ErrNotEnrolled when the customer has no membership.
func (s *Service) CardState(ctx context.Context, c Customer) (CardState, error) {
	card, err := s.Card(ctx, c)
	if err != nil {
		return CardState{}, err
	}
	return card.State(s.now()), nil
}

// MaxEntriesSince bounds how many entries CardSince returns.
const MaxEntriesSince = 100

// CardSince returns the customer's card as it is now and the ledger entries
// written after the account's version afterVersion, oldest first: what an
// app that saw afterVersion has missed. At most MaxEntriesSince entries are
// returned; more says that there were more. It returns ErrNotEnrolled when
// the customer has no membership and ErrInvalid for a negative version.
func (s *Service) CardSince(ctx context.Context, c Customer, afterVersion int64) (st CardState, entries []Entry, more bool, err error) {
	if afterVersion < 0 {
		return CardState{}, nil, false, errorf(ErrInvalid, "version must not be negative")
	}
	err = s.store.View(ctx, func(tx Tx) error {
		m, err := c.member(ctx, tx)
		if err != nil {
			return err
		}
		card, err := s.cardOf(ctx, tx, m)
		if err != nil {
			return err
		}
		st = card.State(s.now())
		if afterVersion >= st.Version {
			entries = nil
			return nil
		}
		entries, err = tx.EntriesSince(ctx, m.ProgramID, m.ID, afterVersion, MaxEntriesSince+1)
		return err
	})
	if len(entries) > MaxEntriesSince {
		entries, more = entries[:MaxEntriesSince], true
	}
	return st, entries, more, err
}

// ClaimCardChanges returns up to limit changes from the outbox written at
// or before writtenBefore that no dispatcher is working on, and claims them
// for lease: the changes the hook could not deliver, or whose replica
// stopped before it could.
func (s *Service) ClaimCardChanges(ctx context.Context, writtenBefore time.Time, lease time.Duration, limit int) ([]CardChange, error) {
	var changes []CardChange
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		changes, err = tx.CardChanges(ctx, writtenBefore, s.now(), lease, limit)
		return err
	})
	return changes, err
}

// DeleteCardChanges removes delivered changes from the outbox.
func (s *Service) DeleteCardChanges(ctx context.Context, seqs []int64) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.DeleteCardChanges(ctx, seqs) })
}

// Now returns the Service's time.
func (s *Service) Now() time.Time { return s.now() }

// MemberCardState returns member k's card as it is now, read from the
// store: what a wallet pass shows. It returns ErrNotFound when there is no
// such member.
func (s *Service) MemberCardState(ctx context.Context, k MemberKey) (CardState, error) {
	var st CardState
	err := s.store.View(ctx, func(tx Tx) error {
		m, err := tx.MemberByID(ctx, k.ProgramID, k.MemberID)
		if err != nil {
			return err
		}
		card, err := s.cardOf(ctx, tx, m)
		if err != nil {
			return err
		}
		st = card.State(s.now())
		return nil
	})
	return st, err
}
