package bff

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"

	"github.com/treue/treue/loyalty"
	treuev1 "github.com/treue/treue/proto/treue/v1"
)

// Bounds of a barcode image's width in pixels.
const (
	minBarcodeWidth     = 64
	maxBarcodeWidth     = 1024
	defaultBarcodeWidth = 256
)

func checkBarcodeRequest(format treuev1.BarcodeFormat, width int) error {
	switch format {
	case treuev1.BarcodeFormat_BARCODE_FORMAT_QR, treuev1.BarcodeFormat_BARCODE_FORMAT_CODE128:
	default:
		return fmt.Errorf("%w: barcode format %d is unknown: use BARCODE_FORMAT_QR or BARCODE_FORMAT_CODE128", loyalty.ErrInvalid, format)
	}
	if width < minBarcodeWidth || width > maxBarcodeWidth {
		return fmt.Errorf("%w: width_px must be %d to %d, got %d", loyalty.ErrInvalid, minBarcodeWidth, maxBarcodeWidth, width)
	}
	return nil
}

type barcodeImage struct {
	png           []byte
	width, height int
}

// renderBarcode returns payload drawn as a PNG barcode width pixels wide. It
// returns ErrInvalid when width is too narrow for the barcode's modules.
func renderBarcode(format treuev1.BarcodeFormat, payload string, width int) (barcodeImage, error) {
	var (
		code   barcode.Barcode
		err    error
		height = width
	)
	if format == treuev1.BarcodeFormat_BARCODE_FORMAT_CODE128 {
		code, err = code128.Encode(payload)
		height = width / 3
	} else {
		code, err = qr.Encode(payload, qr.M, qr.Auto)
	}
	if err != nil {
		return barcodeImage{}, fmt.Errorf("encode barcode: %w", err)
	}
	if modules := code.Bounds().Dx(); width < modules {
		return barcodeImage{}, fmt.Errorf("%w: width_px %d is too narrow for this barcode: it needs at least %d", loyalty.ErrInvalid, width, modules)
	}
	scaled, err := barcode.Scale(code, width, height)
	if err != nil {
		return barcodeImage{}, fmt.Errorf("scale barcode: %w", err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, scaled); err != nil {
		return barcodeImage{}, fmt.Errorf("encode png: %w", err)
	}
	b := scaled.Bounds()
	return barcodeImage{png: buf.Bytes(), width: b.Dx(), height: b.Dy()}, nil
}
