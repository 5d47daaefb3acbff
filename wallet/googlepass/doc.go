// Package googlepass makes a program's Google Wallet loyalty class and each
// member's loyalty object, the save-to-wallet links that carry them, and
// keeps the objects in step with the ledger.
package googlepass
