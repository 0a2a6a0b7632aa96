package compress

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
	"shark/internal/atomicfile"
)

// ExampleFiles writes a synthetic exported model to dir: model.npz with two
// embedding tables and a small dense tower, and counts.npz with per-row
// access counts drawn from a Zipf law (as real click logs are), the popular
// rows also the ones with larger embeddings. It needs no network and no data.
func ExampleFiles(dir string, seed uint64) (model, counts string, err error) {
	r := rand.New(rand.NewPCG(seed, 0x5a4b))
	type arr struct {
		name  string
		dtype formats.DType
		shape []int64
		data  []byte
	}
	var tensors, cnts []arr
	for _, tb := range []struct {
		name      string
		rows, dim int
	}{{"user_embedding", 20000, 32}, {"item_embedding", 8000, 64}} {
		z := rand.NewZipf(r, 1.2, 2, uint64(tb.rows-1))
		pos := make([]float64, tb.rows)
		neg := make([]float64, tb.rows)
		for i := 0; i < 30*tb.rows; i++ {
			id := z.Uint64()
			if r.Float64() < 0.2 {
				pos[id]++
			} else {
				neg[id]++
			}
		}
		perm := r.Perm(tb.rows)
		vals := make([]float32, tb.rows*tb.dim)
		pb, nb := make([]float32, tb.rows), make([]float32, tb.rows)
		for i, id := range perm {
			pb[id], nb[id] = float32(pos[i]), float32(neg[i])
			scale := 0.02 + 0.1*math.Log1p(pos[i]+neg[i])/10
			for j := 0; j < tb.dim; j++ {
				vals[id*tb.dim+j] = float32(r.NormFloat64() * scale)
			}
		}
		tensors = append(tensors, arr{tb.name, formats.F32, []int64{int64(tb.rows), int64(tb.dim)}, formats.EncodeFloat32(nil, vals)})
		cnts = append(cnts,
			arr{tb.name + ".pos", formats.F32, []int64{int64(tb.rows)}, formats.EncodeFloat32(nil, pb)},
			arr{tb.name + ".neg", formats.F32, []int64{int64(tb.rows)}, formats.EncodeFloat32(nil, nb)})
	}
	for _, d := range [][2]int{{96, 64}, {64, 1}} {
		w := make([]float32, d[0]*d[1])
		for i := range w {
			w[i] = float32(r.NormFloat64() / math.Sqrt(float64(d[0])))
		}
		tensors = append(tensors, arr{fmt.Sprintf("dense_%dx%d", d[0], d[1]), formats.F32, []int64{int64(d[0]), int64(d[1])}, formats.EncodeFloat32(nil, w)})
	}
	write := func(path string, arrs []arr) error {
		af, err := atomicfile.Create(path)
		if err != nil {
			return err
		}
		zw := npz.NewWriter(af, false)
		for _, a := range arrs {
			if err := zw.Write(a.name, a.dtype, a.shape, bytes.NewReader(a.data)); err != nil {
				af.Abort()
				return err
			}
		}
		if err := zw.Close(); err != nil {
			af.Abort()
			return err
		}
		return af.Commit()
	}
	model, counts = filepath.Join(dir, "model.npz"), filepath.Join(dir, "counts.npz")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	if err := write(model, tensors); err != nil {
		return "", "", err
	}
	return model, counts, write(counts, cnts)
}

// ZipfRow maps a popularity rank to a row id: a bijection (multiplication by
// a prime modulo rows) that scatters the popular rows over the table, as a
// hashed vocabulary does. Example counts and lookup benchmarks share it.
func ZipfRow(rank uint64, rows int) int {
	const p = 2654435761 // prime
	if uint64(rows)%p == 0 {
		return int(rank)
	}
	return int(rank * p % uint64(rows))
}

// BigExample writes a rows x dim float32 table as DIR/big.npy, streaming
// (nothing the size of the table is held in memory), and its Zipf(1.05)
// access counts as DIR/big-counts.npz: for benchmarks on tables larger than
// memory or than the CPU's caches.
func BigExample(dir string, rows, dim int, seed uint64) (table, counts string, err error) {
	if rows < 1 || dim < 1 {
		return "", "", fmt.Errorf("rows and dim must be positive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	table, counts = filepath.Join(dir, "big.npy"), filepath.Join(dir, "big-counts.npz")
	af, err := atomicfile.Create(table)
	if err != nil {
		return "", "", err
	}
	defer af.Abort()
	hdr, err := npy.HeaderBytes(formats.F32, []int64{int64(rows), int64(dim)})
	if err != nil {
		return "", "", err
	}
	w := bufio.NewWriterSize(af, 1<<20)
	w.Write(hdr)
	r := rand.New(rand.NewPCG(seed, 0xb16))
	row := make([]float32, dim)
	buf := make([]byte, 0, 4*dim)
	for i := 0; i < rows; i++ {
		s := 0.02 + 0.08*r.Float64()
		for j := range row {
			row[j] = float32(r.NormFloat64() * s)
		}
		buf = formats.EncodeFloat32(buf[:0], row)
		if _, err := w.Write(buf); err != nil {
			return "", "", err
		}
	}
	if err := w.Flush(); err != nil {
		return "", "", err
	}
	if err := af.Commit(); err != nil {
		return "", "", err
	}
	pos := make([]float32, rows)
	neg := make([]float32, rows)
	z := rand.NewZipf(r, 1.05, 1, uint64(rows-1))
	for i := 0; i < 10*rows; i++ {
		id := ZipfRow(z.Uint64(), rows)
		if r.Float64() < 0.2 {
			pos[id]++
		} else {
			neg[id]++
		}
	}
	cf, err := atomicfile.Create(counts)
	if err != nil {
		return "", "", err
	}
	defer cf.Abort()
	zw := npz.NewWriter(cf, false)
	zw.Write("big.pos", formats.F32, []int64{int64(rows)}, bytes.NewReader(formats.EncodeFloat32(nil, pos)))
	zw.Write("big.neg", formats.F32, []int64{int64(rows)}, bytes.NewReader(formats.EncodeFloat32(nil, neg)))
	if err := zw.Close(); err != nil {
		return "", "", err
	}
	return table, counts, cf.Commit()
}
