// Package applepass makes a loyalty program's Apple Wallet store cards and
// keeps them current.
//
// It builds pass.json from a member's card (pass.go, card.go), packs it
// with the program's images and localizations into a .pkpass signed with
// the pass type certificate (package.go, sign.go, identity.go), serves the
// PassKit web service that devices register with and fetch passes from
// (webservice.go), and sends the empty APNs pushes that make a device fetch
// a pass after its card changes (push.go).
//
// No Go pass library is available to us, so everything is built on the
// standard library, github.com/smallstep/pkcs7 and github.com/sideshow/apns2,
// following Apple's "Wallet Passes" and "Wallet Web Service" references.
package applepass
