// Package loyalty is Treue's domain: programs, members and their cards, the
// points ledger, rewards and vouchers, and the rules that keep the ledger
// exactly right.
//
// The package does no I/O of its own. Service holds the rules and runs them
// inside transactions of a Store, which the packages under store/ implement.
// Every error it returns wraps one of the sentinel errors in errors.go, so
// callers map them to their own codes with errors.Is.
package loyalty
