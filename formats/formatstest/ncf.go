// Package formatstest writes synthetic stand-ins for the real files of
// ../shared/data, for tests run from a clone that has no ../shared beside
// it. A stand-in has the real file's arrays, names, shapes and types, so
// every test that looks at a model's structure (which tensors are tables,
// the JSON a command prints, what a window shows) runs on it; its values
// are random, so tests of the real model's numbers keep needing the file.
// Only tests import it.
package formatstest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"shark/formats"
	"shark/formats/npz"
)

// NCFName is the real model's file name in ../shared/data.
const NCFName = "ncf-ml1m-mlp.npz"

// ncfArrays are the arrays of ncf-ml1m-mlp.npz in the order of its
// members (alphabetical, as the converter wrote them; tests rely on the
// order of tables): two embedding tables and the MLP tower (see
// ../shared/data/README.md).
var ncfArrays = []struct {
	name  string
	shape []int64
}{
	{"item_embedding_W", []int64{3706, 32}},
	{"layer1_W", []int64{64, 32}}, {"layer1_b", []int64{32}},
	{"layer2_W", []int64{32, 16}}, {"layer2_b", []int64{16}},
	{"layer3_W", []int64{16, 8}}, {"layer3_b", []int64{8}},
	{"prediction_W", []int64{8, 1}}, {"prediction_b", []int64{1}},
	{"user_embedding_W", []int64{6040, 32}},
}

// NCF writes dir/ncf-ml1m-mlp.npz as numpy.savez writes the real one
// (members stored, not deflated) and returns its path. Embedding rows have
// scales spread over a log-normal law, as trained rows do, so the rows of
// a table are not all alike to the quantizer.
func NCF(dir string) (string, error) {
	r := rand.New(rand.NewPCG(1501652038, 0x9cf))
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	for _, a := range ncfArrays {
		if err := zw.Write(a.name, formats.F32, a.shape, bytes.NewReader(formats.EncodeFloat32(nil, values(r, a.shape)))); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	path := filepath.Join(dir, NCFName)
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// values draws an array: per-row scales for matrices, small values for
// biases.
func values(r *rand.Rand, shape []int64) []float32 {
	rows, dim := int(shape[0]), 1
	if len(shape) == 2 {
		dim = int(shape[1])
	}
	out := make([]float32, rows*dim)
	for i := 0; i < rows; i++ {
		s := 0.01
		if len(shape) == 2 {
			s = 0.05 * math.Exp(0.7*r.NormFloat64())
		}
		for j := 0; j < dim; j++ {
			out[i*dim+j] = float32(r.NormFloat64() * s)
		}
	}
	return out
}

// RunWithNCF runs a package's tests (from its TestMain) with *ncf naming a
// model that exists: real, the path of the real file, when it is there,
// else a stand-in written to a temporary folder removed afterwards.
func RunWithNCF(m *testing.M, real string, ncf *string) int {
	*ncf = real
	if _, err := os.Stat(real); err == nil {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "shark-standin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *ncf, err = NCF(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "%s is absent: the tests use a stand-in of its structure\n", real)
	return m.Run()
}
