package main

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"shark/formats/formatstest"
)

// TestRealWindow builds the real app (cgo, OpenGL), runs it under Xvfb with
// a file given on its command line, and checks the window's own capture of
// what it drew: a window with content, not a blank one.
func TestRealWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cgo app and starts Xvfb")
	}
	ncf, _ := filepath.Abs("../../shared/data/ncf-ml1m-mlp.npz")
	xvfb, err := exec.LookPath("xvfb-run")
	if _, xerr := exec.LookPath("xwd"); xerr != nil {
		err = xerr
	}
	if err != nil || os.Getenv("SHARK_NO_X") != "" {
		if os.Getenv("CI") != "" {
			t.Fatal("xvfb-run or xwd is not installed (./build.sh test installs them)")
		}
		t.Skip("no xvfb-run")
	}
	dir := t.TempDir()
	if _, err := os.Stat(ncf); err != nil {
		// A clone without ../shared: the window opens a stand-in with
		// the real model's tensors (the screenshot checks drawing, not values).
		if ncf, err = formatstest.NCF(dir); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "shark-desktop")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the app: %v\n%s", err, out)
	}
	shot := filepath.Join(artifactDir(t), "desktop-window.png")
	xwdFile := filepath.Join(dir, "screen.xwd")
	// The app and a screenshot of the whole X screen, in one Xvfb session.
	// Two screenshots, 6 and 16 seconds in: a slow software renderer may
	// not have drawn by the first.
	script := `"$0" "$1" & app=$!; sleep 6; xwd -root -silent -out "$2.1"; sleep 10; xwd -root -silent -out "$2.2"; kill $app; wait $app 2>/dev/null; exit 0`
	cmd := exec.Command(xvfb, "-a", "-s", "-screen 0 1280x800x24", "sh", "-c", script, bin, ncf, xwdFile)
	cmd.Env = append(os.Environ(), "HOME="+dir, "LANG=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xvfb-run: %v\n%s", err, out)
	}
	img, err := readXWD(xwdFile + ".1")
	if err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	if blank(img) {
		if img, err = readXWD(xwdFile + ".2"); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
	}
	if f, err := os.Create(shot); err == nil {
		png.Encode(f, img)
		f.Close()
	}
	b := img.Bounds()
	colors := map[[3]uint32]bool{}
	dark := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			if r+g+bl < 3*0x4000 {
				dark++
			}
		}
	}
	t.Logf("window %dx%d, %d distinct colours, %d dark pixels (text), saved %s", b.Dx(), b.Dy(), len(colors), dark, shot)
	if b.Dx() < 400 || b.Dy() < 300 || len(colors) < 20 || dark < 500 {
		t.Fatalf("the window looks blank: %dx%d, %d colours, %d dark pixels", b.Dx(), b.Dy(), len(colors), dark)
	}
}

func artifactDir(t *testing.T) string {
	d := os.Getenv("SHARK_ARTIFACTS")
	if d == "" {
		d = filepath.Join("..", "artifacts")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(d)
	return abs
}

// blank reports a screen of (nearly) one colour.
func blank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

// readXWD decodes the 24/32-bit ZPixmap screen dumps that xwd writes.
func readXWD(path string) (image.Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd file of %d bytes", len(b))
	}
	u := func(i int) int { return int(binary.BigEndian.Uint32(b[4*i:])) }
	hsize, width, height := u(0), u(4), u(5)
	bpp, bpl, ncolors := u(11), u(12), u(19)
	msb := u(7) == 1 // byte order of the pixels
	off := hsize + 12*ncolors
	if (bpp != 32 && bpp != 24) || off+bpl*height > len(b) || width <= 0 || height <= 0 {
		return nil, fmt.Errorf("unsupported xwd: %d bits per pixel, %dx%d", bpp, width, height)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			n := bpp / 8
			p := b[off+y*bpl+n*x : off+y*bpl+n*x+n]
			var px uint32
			for k := 0; k < n; k++ {
				if msb {
					px = px<<8 | uint32(p[k])
				} else {
					px |= uint32(p[k]) << (8 * k)
				}
			}
			img.Pix[4*(y*width+x)+0] = byte(px >> 16)
			img.Pix[4*(y*width+x)+1] = byte(px >> 8)
			img.Pix[4*(y*width+x)+2] = byte(px)
			img.Pix[4*(y*width+x)+3] = 0xff
		}
	}
	return img, nil
}
