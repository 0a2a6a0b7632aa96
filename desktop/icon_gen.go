//go:build ignore

// icon_gen draws the app's icon, Icon.png: the page's ▲ logo in white on
// a rounded square of the page's accent colour (#0b63ce), 512 pixels (the
// largest Fyne's packager embeds), each pixel's coverage sampled 4×4 so
// that the edges are smooth. The PNG is committed; run this only to
// change it: cd desktop && go run icon_gen.go
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

const (
	size   = 512
	radius = 96 // the square's corner radius
	margin = 16 // transparent border, as platform icons have
	sub    = 4  // samples a side per pixel
)

var accent = color.NRGBA{0x0b, 0x63, 0xce, 0xff}

func main() {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.SetNRGBA(x, y, pixel(x, y))
		}
	}
	f, err := os.Create("Icon.png")
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// pixel blends the square's and the triangle's coverage of pixel (x, y).
func pixel(x, y int) color.NRGBA {
	var inSquare, inTriangle int
	for j := 0; j < sub; j++ {
		for i := 0; i < sub; i++ {
			px := float64(x) + (float64(i)+0.5)/sub
			py := float64(y) + (float64(j)+0.5)/sub
			if square(px, py) {
				inSquare++
				if triangle(px, py) {
					inTriangle++
				}
			}
		}
	}
	if inSquare == 0 {
		return color.NRGBA{}
	}
	// Within the square, white where the triangle is, accent elsewhere.
	w := float64(inTriangle) / float64(inSquare)
	mix := func(c uint8) uint8 { return uint8(math.Round(float64(c)*(1-w) + 255*w)) }
	return color.NRGBA{mix(accent.R), mix(accent.G), mix(accent.B), uint8(inSquare * 255 / (sub * sub))}
}

// square reports whether (x, y) is inside the rounded square.
func square(x, y float64) bool {
	lo, hi := float64(margin), float64(size-margin)
	if x < lo || x > hi || y < lo || y > hi {
		return false
	}
	cx := math.Max(lo+radius, math.Min(x, hi-radius))
	cy := math.Max(lo+radius, math.Min(y, hi-radius))
	return math.Hypot(x-cx, y-cy) <= radius
}

// triangle reports whether (x, y) is inside the upward triangle, the
// favicon's path M8 1 15 15H1z scaled into the square's middle.
func triangle(x, y float64) bool {
	const top, bottom, half = 128.0, 392.0, 150.0
	if y < top || y > bottom {
		return false
	}
	w := half * (y - top) / (bottom - top)
	return math.Abs(x-size/2) <= w
}
