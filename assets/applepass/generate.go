//go:build ignore

// Generate draws the demo café's Apple Wallet store card images: icon,
// logo and strip at @1x, @2x and @3x, in Apple's sizes; and its Google
// Wallet program logo into ../googlewallet. The strip is the
// café's green (#00704a) with grain and scattered coffee beans, so the set
// weighs what real artwork does (about 400 KB). Output is deterministic:
// every random choice comes from a fixed seed.
//
// Run it from assets/ with go generate, or:
//
//	go run ./applepass/generate.go -out applepass
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
)

var (
	green = rgb{0x00, 0x70, 0x4a}
	white = rgb{0xff, 0xff, 0xff}
	bean  = rgb{0x3b, 0x24, 0x17}
	cream = rgb{0xd4, 0xe9, 0xe2}
)

func main() {
	out := flag.String("out", ".", "directory to write the PNG files to")
	flag.Parse()
	for _, scale := range []int{1, 2, 3} {
		suffix := map[int]string{1: "", 2: "@2x", 3: "@3x"}[scale]
		write(filepath.Join(*out, "icon"+suffix+".png"), icon(scale))
		write(filepath.Join(*out, "logo"+suffix+".png"), logo(scale))
		write(filepath.Join(*out, "strip"+suffix+".png"), strip(scale))
	}
	// Google Wallet's program logo: the icon, square, near the 660×660
	// pixels Google recommends.
	google := filepath.Join(*out, "..", "googlewallet")
	if err := os.MkdirAll(google, 0o755); err != nil {
		log.Fatal(err)
	}
	write(filepath.Join(google, "logo.png"), icon(23))
}

// write encodes img as PNG into name, or exits.
func write(name string, img image.Image) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fi, _ := os.Stat(name)
	fmt.Printf("%s %d×%d %d bytes\n", name, img.Bounds().Dx(), img.Bounds().Dy(), fi.Size())
}

type rgb struct{ r, g, b float64 }

// canvas is an image of straight-alpha float pixels.
type canvas struct {
	w, h int
	px   []float64 // r, g, b, a per pixel, 0–255 and 0–1
}

func newCanvas(w, h int) *canvas { return &canvas{w: w, h: h, px: make([]float64, 4*w*h)} }

// fill paints every pixel c, opaque.
func (c *canvas) fill(col rgb) {
	for i := 0; i < len(c.px); i += 4 {
		c.px[i], c.px[i+1], c.px[i+2], c.px[i+3] = col.r, col.g, col.b, 1
	}
}

// over composites col with coverage a onto pixel (x, y).
func (c *canvas) over(x, y int, col rgb, a float64) {
	if x < 0 || y < 0 || x >= c.w || y >= c.h || a <= 0 {
		return
	}
	i := 4 * (y*c.w + x)
	da := c.px[i+3]
	oa := a + da*(1-a)
	if oa == 0 {
		return
	}
	mix := func(s, d float64) float64 { return (s*a + d*da*(1-a)) / oa }
	c.px[i], c.px[i+1], c.px[i+2], c.px[i+3] = mix(col.r, c.px[i]), mix(col.g, c.px[i+1]), mix(col.b, c.px[i+2]), oa
}

// shape paints col where inside reports true, over the pixels of the box
// x0–x1, y0–y1, anti-aliased with 4×4 samples per pixel.
func (c *canvas) shape(x0, y0, x1, y1 float64, col rgb, alpha float64, inside func(x, y float64) bool) {
	const n = 4
	for y := int(math.Floor(y0)); y <= int(math.Ceil(y1)); y++ {
		for x := int(math.Floor(x0)); x <= int(math.Ceil(x1)); x++ {
			hits := 0
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					if inside(float64(x)+(float64(sx)+0.5)/n, float64(y)+(float64(sy)+0.5)/n) {
						hits++
					}
				}
			}
			c.over(x, y, col, alpha*float64(hits)/(n*n))
		}
	}
}

// roundRect paints a rectangle with corner radius r.
func (c *canvas) roundRect(x, y, w, h, r float64, col rgb, alpha float64) {
	c.shape(x, y, x+w, y+h, col, alpha, func(px, py float64) bool {
		dx := math.Max(math.Max(x+r-px, px-(x+w-r)), 0)
		dy := math.Max(math.Max(y+r-py, py-(y+h-r)), 0)
		return px >= x && px <= x+w && py >= y && py <= y+h && dx*dx+dy*dy <= r*r
	})
}

// coffeeBean paints a bean of length l centred at (cx, cy), turned by
// angle, with its groove.
func (c *canvas) coffeeBean(cx, cy, l, angle float64, col rgb, alpha float64) {
	a, b := l/2, l/3
	sin, cos := math.Sincos(angle)
	local := func(x, y float64) (float64, float64) {
		dx, dy := x-cx, y-cy
		return dx*cos + dy*sin, -dx*sin + dy*cos
	}
	c.shape(cx-a, cy-a, cx+a, cy+a, col, alpha, func(x, y float64) bool {
		u, v := local(x, y)
		return (u*u)/(a*a)+(v*v)/(b*b) <= 1
	})
	// The groove: an S curve along the long axis.
	groove := rgb{col.r * 0.45, col.g * 0.45, col.b * 0.45}
	w := math.Max(l/16, 0.6)
	c.shape(cx-a, cy-a, cx+a, cy+a, groove, alpha, func(x, y float64) bool {
		u, v := local(x, y)
		if (u*u)/(a*a)+(v*v)/(b*b) > 0.8 {
			return false
		}
		return math.Abs(v-b*0.25*math.Sin(u/a*math.Pi)) < w/2
	})
	// A highlight on one flank.
	c.shape(cx-a, cy-a, cx+a, cy+a, white, alpha*0.12, func(x, y float64) bool {
		u, v := local(x, y)
		return (u*u)/(a*a*0.6)+((v+b*0.45)*(v+b*0.45))/(b*b*0.15) <= 1
	})
}

// grain adds noise of amplitude amp to every opaque pixel, the same to
// each channel, in blocks of size×size pixels.
func (c *canvas) grain(r *rand.Rand, amp float64, size int) {
	for by := 0; by < c.h; by += size {
		for bx := 0; bx < c.w; bx += size {
			d := (r.Float64()*2 - 1) * amp
			for y := by; y < min(by+size, c.h); y++ {
				for x := bx; x < min(bx+size, c.w); x++ {
					i := 4 * (y*c.w + x)
					for k := 0; k < 3; k++ {
						c.px[i+k] += d
					}
				}
			}
		}
	}
}

// image returns the canvas as an 8-bit NRGBA image.
func (c *canvas) image() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, c.w, c.h))
	clamp := func(v float64) uint8 { return uint8(math.Round(math.Min(math.Max(v, 0), 255))) }
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			i := 4 * (y*c.w + x)
			img.SetNRGBA(x, y, color.NRGBA{clamp(c.px[i]), clamp(c.px[i+1]), clamp(c.px[i+2]), clamp(c.px[i+3] * 255)})
		}
	}
	return img
}

// icon draws a white cup on a green rounded square, 29×29 points.
func icon(scale int) image.Image {
	s := float64(scale)
	c := newCanvas(29*scale, 29*scale)
	c.roundRect(0, 0, 29*s, 29*s, 6*s, green, 1)
	c.roundRect(7*s, 9*s, 12*s, 12*s, 2.5*s, white, 1)        // cup
	c.roundRect(18*s, 11*s, 5*s, 6*s, 2.5*s, white, 1)        // handle
	c.roundRect(19.5*s, 12.5*s, 2*s, 3*s, 1*s, green, 1)      // inside the handle
	c.roundRect(6*s, 21.5*s, 14*s, 1.6*s, 0.8*s, white, 1)    // saucer
	c.coffeeBean(13*s, 15*s, 6*s, 0.6, bean, 1)               // on the cup
	c.roundRect(9*s, 4*s, 1.4*s, 3.5*s, 0.7*s, cream, 0.8)    // steam
	c.roundRect(12.5*s, 3*s, 1.4*s, 4.5*s, 0.7*s, cream, 0.8) // steam
	c.roundRect(16*s, 4*s, 1.4*s, 3.5*s, 0.7*s, cream, 0.8)   // steam
	return c.image()
}

// font is a 5×7 bitmap font for the logo's letters.
var font = map[rune][7]string{
	'C': {".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."},
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'F': {"#####", "#....", "#....", "####.", "#....", "#....", "#...."},
	'E': {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
	'T': {"#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."},
	'R': {"####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"},
	'U': {"#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."},
	' ': {".....", ".....", ".....", ".....", ".....", ".....", "....."},
}

// logo draws a bean mark and "CAFE TREUE" in white on transparency, 160×50
// points.
func logo(scale int) image.Image {
	s := float64(scale)
	c := newCanvas(160*scale, 50*scale)
	c.coffeeBean(16*s, 25*s, 26*s, -0.7, white, 1)
	cell := 2.7 * s // one font pixel
	x := 34 * s
	for _, r := range "CAFE TREUE" {
		g := font[r]
		for row, line := range g {
			for col, ch := range line {
				if ch == '#' {
					c.roundRect(x+float64(col)*cell*0.8, 16*s+float64(row)*cell, cell*0.85, cell*1.05, cell*0.1, white, 1)
				}
			}
		}
		// The accent of the É.
		if r == 'E' && x < 80*s {
			c.roundRect(x+1.6*cell, 16*s-1.5*cell, 1.4*cell, 0.7*cell, 0.3*cell, white, 1)
		}
		x += 5.4 * cell * 0.8
	}
	return c.image()
}

// strip draws the café's green with a soft light, grain and scattered
// coffee beans, 375×123 points.
func strip(scale int) image.Image {
	s := float64(scale)
	r := rand.New(rand.NewPCG(1, uint64(scale)))
	c := newCanvas(375*scale, 123*scale)
	c.fill(green)
	// Light from the upper left.
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			dx, dy := float64(x)/float64(c.w)-0.2, float64(y)/float64(c.h)-0.1
			light := 1.25 - 0.55*math.Sqrt(dx*dx+dy*dy)
			i := 4 * (y*c.w + x)
			c.px[i], c.px[i+1], c.px[i+2] = green.r*light, green.g*light, green.b*light
		}
	}
	for range 70 {
		x, y := r.Float64()*375*s, r.Float64()*123*s
		l := (10 + r.Float64()*22) * s
		col := bean
		if r.IntN(3) == 0 {
			col = rgb{0x00, 0x4d, 0x33} // darker green
		}
		c.coffeeBean(x, y, l, r.Float64()*math.Pi, col, 0.35+r.Float64()*0.5)
	}
	c.grain(r, 2.5, scale)
	return c.image()
}
