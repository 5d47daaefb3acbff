package applepass

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"sort"
	"strings"
)

// MaxImagesSize bounds the total size of a pass's images. Apple suggests
// keeping passes small; every pass download carries them.
const MaxImagesSize = 2 << 20

// storeCardImages are the images of a store card with their size in
// points at @1x: icon and strip exactly, logo at most.
var storeCardImages = map[string]struct {
	width, height int
	exact         bool
}{
	"icon":  {29, 29, true},
	"logo":  {160, 50, false},
	"strip": {375, 123, true},
}

// Images returns the store card images in fsys's top directory, sorted by
// name: icon, logo and strip, each as NAME.png, NAME@2x.png and
// NAME@3x.png. Files not ending in .png are ignored.
//
// It returns an error when icon.png is missing (Apple requires it), a .png
// has another name, is not a PNG, does not have Apple's pixel size for its
// scale (icon 29×29 and strip 375×123 points exactly, logo at most 160×50;
// @2x and @3x multiply them), or the images exceed MaxImagesSize together.
func Images(fsys fs.FS) ([]File, error) {
	names, err := fs.Glob(fsys, "*.png")
	if err != nil {
		return nil, fmt.Errorf("applepass: images: %w", err)
	}
	sort.Strings(names)
	var files []File
	var total int64
	hasIcon := false
	for _, name := range names {
		kind, scale, ok := parseImageName(name)
		if !ok {
			return nil, fmt.Errorf("applepass: images: unexpected %s: a store card has icon, logo and strip images, each NAME.png, NAME@2x.png or NAME@3x.png", name)
		}
		data, err := readLimited(fsys, name, MaxImagesSize-total)
		if err != nil {
			return nil, fmt.Errorf("applepass: images: %w", err)
		}
		total += int64(len(data))
		if err := checkImage(data, kind, scale); err != nil {
			return nil, fmt.Errorf("applepass: images: %s: %w", name, err)
		}
		hasIcon = hasIcon || name == "icon.png"
		files = append(files, File{Name: name, Data: data})
	}
	if !hasIcon {
		return nil, errors.New("applepass: images: icon.png is missing; Apple requires it")
	}
	return files, nil
}

// parseImageName returns the kind ("icon", "logo", "strip") and scale of
// a store card image's file name, or ok false for any other name.
func parseImageName(name string) (kind string, scale int, ok bool) {
	base, found := strings.CutSuffix(name, ".png")
	if !found {
		return "", 0, false
	}
	scale = 1
	for s, suffix := range map[int]string{2: "@2x", 3: "@3x"} {
		if b, found := strings.CutSuffix(base, suffix); found {
			base, scale = b, s
			break
		}
	}
	if _, known := storeCardImages[base]; !known {
		return "", 0, false
	}
	return base, scale, true
}

// readLimited returns the contents of name, or an error when it is longer
// than limit bytes.
func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: the images exceed %d bytes together", name, MaxImagesSize)
	}
	return data, nil
}

// checkImage returns an error unless data is a complete PNG whose pixel
// size suits kind at scale.
func checkImage(data []byte, kind string, scale int) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != "png" {
		return errors.New("not a PNG image")
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("damaged PNG: %w", err)
	}
	want := storeCardImages[kind]
	w, h := want.width*scale, want.height*scale
	switch {
	case want.exact && (cfg.Width != w || cfg.Height != h):
		return fmt.Errorf("is %d×%d pixels, Apple wants %d×%d for %s at @%dx", cfg.Width, cfg.Height, w, h, kind, scale)
	case !want.exact && (cfg.Width > w || cfg.Height > h):
		return fmt.Errorf("is %d×%d pixels, Apple allows at most %d×%d for %s at @%dx", cfg.Width, cfg.Height, w, h, kind, scale)
	}
	return nil
}
