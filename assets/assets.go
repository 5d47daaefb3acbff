// Package assets holds the files Treue embeds: the demo program and, later,
// pass images and the web app.
package assets

import _ "embed"

// DemoProgram is the demo café's program, rewards and till, as a seed file
// (see cmd/treued's -seed flag for the format).
//
//go:embed demo/program.json
var DemoProgram []byte
