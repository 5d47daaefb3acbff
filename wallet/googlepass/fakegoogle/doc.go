// Package fakegoogle stands in for the Google services Treue's Google
// Wallet passes talk to, speaking their wire formats over real HTTP: the
// Wallet REST API with its OAuth token endpoint, and the signed save and
// delete callbacks with the keys that verify them. It is for tests; it
// imports nothing of Treue, so it checks Treue's code against the formats
// rather than against itself.
package fakegoogle
