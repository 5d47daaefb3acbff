// Package assets holds the files Treue embeds: the demo program, the demo
// café's Apple Wallet pass images and Google Wallet logo, and the web app.
package assets

import "embed"

//go:generate go run ./applepass/generate.go -out applepass

// DemoProgram is the demo café's program, rewards and till, as a seed file
// (see cmd/treued's -seed flag for the format).
//
//go:embed demo/program.json
var DemoProgram []byte

// DemoRules are the demo café's gamification rules: stars, boosts, tiers,
// challenges and bonuses (see package gamification for the format).
//
//go:embed demo/rules.json
var DemoRules []byte

// ApplePassImages holds the demo café's store card images (icon, logo and
// strip at @1x, @2x and @3x, about 400 KB) under "applepass/"; pass
// fs.Sub(ApplePassImages, "applepass") to applepass.Images. go generate
// redraws them with applepass/generate.go.
//
//go:embed applepass/*.png
var ApplePassImages embed.FS

// GoogleWalletLogo is the demo café's Google Wallet program logo, a
// 667×667 PNG drawn by applepass/generate.go.
//
//go:embed googlewallet/logo.png
var GoogleWalletLogo []byte

// Web is the customer web app and the till simulator under "web/": pages,
// bundles and style sheet, built from web/app by `npm run build`.
//
//go:embed web
var Web embed.FS
