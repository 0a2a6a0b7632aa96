// Package facetest holds what the faces' tests compare against: small model
// files in each format shark reads, and the bytes the application layer
// writes for them. Only tests import it.
package facetest

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/compress"
	"shark/formats"
	"shark/formats/npz"
	"shark/formats/safetensors"
	"shark/internal/pyref"
)

// tensor is one array of a test model.
type tensor struct {
	name  string
	shape []int64
	data  []byte
}

// model is two embedding tables of rows of varied scale and a dense weight.
func model(seed uint64) []tensor {
	r := rand.New(rand.NewPCG(seed, 0x7e57))
	var out []tensor
	for _, t := range []struct {
		name      string
		rows, dim int
	}{{"user_emb", 3000, 16}, {"item_emb", 1500, 40}, {"tower", 40, 8}} {
		vals := make([]float32, t.rows*t.dim)
		for i := 0; i < t.rows; i++ {
			s := 0.05 * math.Exp(r.NormFloat64())
			for j := 0; j < t.dim; j++ {
				vals[i*t.dim+j] = float32(r.NormFloat64() * s)
			}
		}
		out = append(out, tensor{t.name, []int64{int64(t.rows), int64(t.dim)}, formats.EncodeFloat32(nil, vals)})
	}
	return out
}

// DeflatedNPZ writes the test model as np.savez_compressed would, every
// member deflated, and returns its path.
func DeflatedNPZ(dir string) (string, error) {
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, true)
	for _, t := range model(1) {
		if err := zw.Write(t.name, formats.F32, t.shape, bytes.NewReader(t.data)); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return write(dir, "deflated.npz", buf.Bytes())
}

// LargeNPZ writes an .npz as np.savez would (members stored, each with its
// CRC-32) of a table of 100,000 rows beside the test model's: large
// enough that the page measures it on more than one Web Worker.
func LargeNPZ(dir string) (string, error) {
	r := rand.New(rand.NewPCG(4, 0x7e57))
	vals := make([]float32, 100000*16)
	for i := range vals {
		vals[i] = float32(r.NormFloat64() * 0.05 * float64(1+i/16%7))
	}
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	for _, t := range append(model(4), tensor{"ads_emb", []int64{100000, 16}, formats.EncodeFloat32(nil, vals)}) {
		if err := zw.Write(t.name, formats.F32, t.shape, bytes.NewReader(t.data)); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return write(dir, "large.npz", buf.Bytes())
}

// Safetensors writes the test model as a .safetensors file.
func Safetensors(dir string) (string, error) {
	var specs []safetensors.Spec
	for _, t := range model(2) {
		specs = append(specs, safetensors.Spec{Name: t.name, DType: formats.F32, Shape: t.shape,
			Data: func() (io.Reader, error) { return bytes.NewReader(t.data), nil }})
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, specs, map[string]string{"format": "pt"}); err != nil {
		return "", err
	}
	return write(dir, "model.safetensors", buf.Bytes())
}

// Torch writes the test model as PyTorch saves a training checkpoint,
// {"state_dict": {"user_emb.weight": ..., ...}, "epoch": 3}, with PyTorch
// itself, and returns its path.
func Torch(t testing.TB, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	for _, tn := range model(3) {
		if err := zw.Write(tn.name, formats.F32, tn.shape, bytes.NewReader(tn.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := write(dir, "torch-src.npz", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(src)
	p := filepath.Join(dir, "checkpoint.pt")
	pyref.RunWith(t, []string{"numpy", "torch"}, `
import sys, numpy as np, torch
z = np.load(sys.argv[1])
sd = {k + ".weight": torch.from_numpy(z[k]) for k in z.files}
torch.save({"state_dict": sd, "epoch": 3}, sys.argv[2])
`, src, p)
	return p
}

func write(dir, name string, b []byte) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, b, 0o644)
}

// Reference is the .shark file the application layer writes for the file
// at path with the default settings and the given creation time: what
// every face must write for the same input, byte for byte.
func Reference(t testing.TB, path string, created int64) []byte {
	t.Helper()
	in, err := compress.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	s := compress.DefaultSettings()
	s.Created = created
	plan, err := compress.NewPlan(in, s, compress.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	var buf bytes.Buffer
	if err := plan.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Inputs writes the deflated .npz, the .safetensors, the large .npz and the
// PyTorch checkpoint test models to dir and returns their paths after the shared
// NCF model's, when it is present at ncf.
func Inputs(t testing.TB, dir, ncf string) []string {
	t.Helper()
	var out []string
	if _, err := os.Stat(ncf); err == nil {
		out = append(out, ncf)
	}
	for _, w := range []func(string) (string, error){DeflatedNPZ, Safetensors, LargeNPZ} {
		p, err := w(dir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return append(out, Torch(t, dir))
}
