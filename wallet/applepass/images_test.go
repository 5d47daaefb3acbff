package applepass

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/treue/treue/assets"
)

// pngForTest returns a w×h PNG.
func pngForTest(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImagesDemo checks the embedded demo images: all nine, sorted, about
// 400 KB.
func TestImagesDemo(t *testing.T) {
	t.Parallel()
	sub, err := fs.Sub(assets.ApplePassImages, "applepass")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Images(sub)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	total := 0
	for _, f := range files {
		names = append(names, f.Name)
		total += len(f.Data)
	}
	want := "icon.png icon@2x.png icon@3x.png logo.png logo@2x.png logo@3x.png strip.png strip@2x.png strip@3x.png"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("names %s, want %s", got, want)
	}
	if total < 300<<10 || total > 500<<10 {
		t.Errorf("images weigh %d bytes, want about 400 KB", total)
	}
}

// TestImagesErrors checks that images Apple would not show right are
// refused with an error naming the file.
func TestImagesErrors(t *testing.T) {
	t.Parallel()
	icon := &fstest.MapFile{Data: pngForTest(t, 29, 29)}
	// Random 16-bit pixels do not compress: about 3.3 MB.
	noisy := image.NewNRGBA64(image.Rect(0, 0, 1125, 369))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noisy.Pix {
		noisy.Pix[i] = byte(r.Uint32())
	}
	var big bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&big, noisy); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"missing icon", fstest.MapFS{"logo.png": {Data: pngForTest(t, 160, 50)}}, "icon.png is missing"},
		{"icon@2x of @1x size", fstest.MapFS{"icon.png": icon, "icon@2x.png": {Data: pngForTest(t, 29, 29)}}, "icon@2x.png: is 29×29 pixels, Apple wants 58×58"},
		{"strip of wrong height", fstest.MapFS{"icon.png": icon, "strip@3x.png": {Data: pngForTest(t, 1125, 432)}}, "strip@3x.png: is 1125×432 pixels, Apple wants 1125×369"},
		{"logo too wide", fstest.MapFS{"icon.png": icon, "logo.png": {Data: pngForTest(t, 161, 50)}}, "logo.png: is 161×50 pixels, Apple allows at most 160×50"},
		{"JPEG named .png", fstest.MapFS{"icon.png": {Data: []byte("\xff\xd8\xff\xe0 not really")}}, "icon.png: not a PNG"},
		{"truncated PNG", fstest.MapFS{"icon.png": {Data: icon.Data[:len(icon.Data)-20]}}, "icon.png: damaged PNG"},
		{"unknown image", fstest.MapFS{"icon.png": icon, "thumbnail.png": {Data: pngForTest(t, 90, 90)}}, "unexpected thumbnail.png"},
		{"scale not offered", fstest.MapFS{"icon.png": icon, "icon@4x.png": {Data: pngForTest(t, 116, 116)}}, "unexpected icon@4x.png"},
		{"too large", fstest.MapFS{"icon.png": icon, "strip@3x.png": {Data: big.Bytes()}}, "exceed 2097152 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Images(tc.fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}

	// Other files are ignored; a logo may be smaller than the maximum.
	files, err := Images(fstest.MapFS{"icon.png": icon, "logo.png": {Data: pngForTest(t, 100, 30)}, "README.md": {Data: []byte("hi")}})
	if err != nil || len(files) != 2 {
		t.Errorf("Images = %d files, %v; want icon and logo", len(files), err)
	}
}
