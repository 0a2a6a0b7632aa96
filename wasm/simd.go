//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall/js"
	"unsafe"

	"shark/core/kernels"
	"shark/wasm/simd"
)

// The row-error kernel and the int8/int4 encoder run as WebAssembly
// SIMD128 (wasm/simd's module) where the browser has it: Go's wasm has
// none, and measuring every row in three tiers, then encoding it, is most
// of the page's work. The module shares this
// program's memory (worker.js gives it as self.sharkMemory), so a call
// passes the offsets of Go slices, a chunk of thousands of rows a call.

// simdKernels is the module's two functions.
type simdKernels struct{ minmax, errors, minmaxList, quantize js.Value }

// kernelSet names the kernels in use: "simd128", or "portable" and why.
var kernelSet = "portable"

// simdOn is the module, when instantiated.
var simdOn *simdKernels

// useSIMD instantiates the module on this program's memory and has
// kernels.RowsErrors and the row quantizers call it; where the browser cannot, the portable
// kernels stay, and kernelSet says why.
func useSIMD() {
	mem := js.Global().Get("sharkMemory")
	if mem.Type() != js.TypeObject {
		kernelSet = "portable (no memory given to share)"
		return
	}
	wa := js.Global().Get("WebAssembly")
	u8 := js.Global().Get("Uint8Array").New(len(simd.Module))
	js.CopyBytesToJS(u8, simd.Module)
	if !wa.Call("validate", u8).Bool() {
		kernelSet = "portable (this browser has no WebAssembly SIMD128)"
		return
	}
	imports := js.Global().Get("Object").New()
	goNS := js.Global().Get("Object").New()
	goNS.Set("mem", mem)
	imports.Set("go", goNS)
	inst := wa.Get("Instance").New(wa.Get("Module").New(u8), imports)
	ex := inst.Get("exports")
	simdOn = &simdKernels{minmax: ex.Get("minmax"), errors: ex.Get("errors"), minmaxList: ex.Get("minmaxList"), quantize: ex.Get("quantize")}
	kernels.SetRowsErrors(simdOn.rowsErrors)
	kernels.SetRowQuantizer(simdOn.newQuantizer)
	kernelSet = "simd128"
}

// batch is a call's buffers: per row, the minimum, maximum and a flag (4
// words), the codecs' parameters (8), and the errors (7 float64).
type batch struct {
	mm, par []float32
	res     []float64
}

var batches = sync.Pool{New: func() any { return new(batch) }}

func addr[T any](s []T) int { return int(uintptr(unsafe.Pointer(unsafe.SliceData(s)))) }

// rowsErrors measures rows as kernels.RowErrors does each, bit for bit
// (TestBrowserSIMDKernels), for rows a multiple of 4 values wide.
func (s *simdKernels) rowsErrors(rows []float32, dim int, out []kernels.TierErrors, ok []bool) bool {
	n := len(out)
	if dim <= 0 || dim%4 != 0 || n == 0 {
		return false
	}
	b := batches.Get().(*batch)
	defer batches.Put(b)
	if cap(b.mm) < 4*n {
		b.mm, b.par, b.res = make([]float32, 4*n), make([]float32, 8*n), make([]float64, 7*n)
	}
	mm, par, res := b.mm[:4*n], b.par[:8*n], b.res[:7*n]
	s.minmax.Invoke(addr(rows), n, dim, addr(mm))
	for i := range n {
		ok[i] = math.Float32bits(mm[4*i+2]) == 0
		p := [8]float32{}
		if ok[i] {
			p = kernels.ErrorParams(rows[i*dim:(i+1)*dim], mm[4*i], mm[4*i+1])
		}
		copy(par[8*i:], p[:])
	}
	s.errors.Invoke(addr(rows), n, dim, addr(par), addr(res))
	runtime.KeepAlive(rows)
	for i := range n {
		out[i] = kernels.TierErrors{}
		if ok[i] {
			r := res[7*i:]
			out[i] = kernels.TierErrors{SSE: [3]float64{r[0], r[1], r[2]}, MaxAbs: [3]float64{r[3], r[4], r[5]}, SumSquares: r[6]}
		}
	}
	return true
}

// checkKernels(rows) is a test hook: rows of many widths and kinds of
// values (Gaussian at scales from 1e-8 to 1e5, zeros of both signs, binary16's
// subnormals and its largest values, float32 subnormals, constant rows,
// NaNs and infinities) measured by the SIMD module and by the portable
// kernel, which must agree bit for bit. It says what differed, if anything.
func checkKernels(args []js.Value) (any, error) {
	if simdOn == nil {
		return nil, fmt.Errorf("no SIMD kernels: %s", kernelSet)
	}
	total := arg(args, 0).Int()
	r := rand.New(rand.NewPCG(25, 4))
	checked, mismatched, first := 0, 0, ""
	for _, dim := range []int{4, 8, 12, 16, 20, 32, 60, 64, 100, 128} {
		n := max(1, total/10)
		rows := make([]float32, n*dim)
		for i := range n {
			fillRow(r, rows[i*dim:(i+1)*dim])
		}
		got, gotOK := make([]kernels.TierErrors, n), make([]bool, n)
		if !simdOn.rowsErrors(rows, dim, got, gotOK) {
			return nil, fmt.Errorf("the SIMD kernel declined rows of %d", dim)
		}
		for i := range n {
			want, wantOK := kernels.RowErrors(rows[i*dim : (i+1)*dim])
			checked++
			if wantOK != gotOK[i] || !sameBits(want, got[i]) {
				mismatched++
				if first == "" {
					first = fmt.Sprintf("dim %d row %v: portable %v %+v, SIMD %v %+v", dim, rows[i*dim:(i+1)*dim], wantOK, want, gotOK[i], got[i])
				}
			}
		}
	}
	return map[string]any{"kernels": kernelSet, "rows": checked, "mismatched": mismatched, "first": first}, nil
}

func sameBits(a, b kernels.TierErrors) bool {
	eq := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	for k := range 3 {
		if !eq(a.SSE[k], b.SSE[k]) || !eq(a.MaxAbs[k], b.MaxAbs[k]) {
			return false
		}
	}
	return eq(a.SumSquares, b.SumSquares)
}

// fillRow fills row with one of the kinds of values checkKernels covers.
func fillRow(r *rand.Rand, row []float32) {
	scale := math.Pow(10, float64(r.IntN(14)-8))
	kind := r.IntN(12)
	for j := range row {
		v := float32(r.NormFloat64() * scale)
		switch kind {
		case 0: // zeros of both signs, a few values
			v = float32(math.Copysign(0, float64(r.IntN(2)*2-1)))
			if r.IntN(4) == 0 {
				v = float32(r.NormFloat64())
			}
		case 1: // binary16's subnormal range and the rounding to its least normal
			v = float32(r.NormFloat64() * 3e-5)
		case 2: // around binary16's largest value and past it
			v = float32(65504 + r.NormFloat64()*20)
			if r.IntN(2) == 0 {
				v = -v
			}
		case 3: // float32 subnormals
			v = float32(r.NormFloat64() * 1e-40)
		case 4: // a constant row
			v = row[0]
			if j == 0 {
				v = float32(r.NormFloat64() * scale)
			}
		case 5: // a NaN or an infinity somewhere
			if r.IntN(len(row)) == 0 {
				v = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(3)]
			}
		case 6: // values past binary16's range: infinite bias or scale
			v = float32(r.NormFloat64() * 1e30)
		case 7: // whole numbers and halves: ties in the codecs' roundings
			v = float32(r.IntN(64)) / 2
		}
		row[j] = v
	}
}

// simdQuantizer is a kernels.RowQuantizer on the SIMD module: rows are
// gathered as they are added and encoded a batch a call, from their
// minimums and maximums (one call) and their parameters (worked out here,
// with their binary16 tails).
type simdQuantizer struct {
	s         *simdKernels
	bits, dim int
	list      []int32 // each row's address and its codes'
	rows      [][]float32
	dsts      [][]byte
	mm, par   []float32
}

// quantizeBatch is the most rows a call encodes.
const quantizeBatch = 2048

func (s *simdKernels) newQuantizer(bits, dim int) kernels.RowQuantizer {
	if (bits != 8 && bits != 4) || dim <= 0 || dim%4 != 0 {
		return nil // the portable quantizer's
	}
	return &simdQuantizer{s: s, bits: bits, dim: dim}
}

func (q *simdQuantizer) Add(dst []byte, src []float32) {
	q.list = append(q.list, int32(addr(src)), int32(addr(dst)))
	q.rows, q.dsts = append(q.rows, src), append(q.dsts, dst)
	if len(q.rows) == quantizeBatch {
		q.Flush()
	}
}

func (q *simdQuantizer) Flush() {
	n := len(q.rows)
	if n == 0 {
		return
	}
	if cap(q.mm) < 4*n {
		q.mm, q.par = make([]float32, 4*quantizeBatch), make([]float32, 3*quantizeBatch)
	}
	mm, par := q.mm[:4*n], q.par[:3*n]
	q.s.minmaxList.Invoke(addr(q.list), n, q.dim, addr(mm))
	nb := kernels.RowBytes(q.bits, q.dim) - 4
	var odd []int
	for i, row := range q.rows {
		if math.Float32bits(mm[4*i+2]) != 0 { // not finite (callers keep such rows at fp32): encoded below
			odd = append(odd, i)
			par[3*i], par[3*i+1], par[3*i+2] = 0, 0, 0
			continue
		}
		par[3*i], par[3*i+1], par[3*i+2] = kernels.QuantizeParams(q.bits, row, mm[4*i], mm[4*i+1], q.dsts[i][nb:nb+4])
	}
	q.s.quantize.Invoke(addr(q.list), n, q.dim, addr(par), q.bits)
	for _, i := range odd {
		kernels.QuantizeRow(q.bits, q.dsts[i], q.rows[i]) // the portable bytes, over the module's
	}
	runtime.KeepAlive(q.rows)
	runtime.KeepAlive(q.dsts)
	q.list, q.rows, q.dsts = q.list[:0], q.rows[:0], q.dsts[:0]
}

// checkQuantize(rows) is a test hook: rows of many widths and kinds of
// values (as checkKernels's) encoded in 8 and 4 bits by the SIMD module, in
// batches cut short by Flush, and by the portable kernel, which must agree
// byte for byte. It says what differed, if anything.
func checkQuantize(args []js.Value) (any, error) {
	if simdOn == nil {
		return nil, fmt.Errorf("no SIMD kernels: %s", kernelSet)
	}
	total := arg(args, 0).Int()
	r := rand.New(rand.NewPCG(25, 5))
	checked, mismatched, first := 0, 0, ""
	for _, bits := range []int{8, 4} {
		for _, dim := range []int{4, 8, 12, 16, 20, 32, 60, 64, 100, 128} {
			n := max(1, total/20)
			rows := make([]float32, n*dim)
			for i := range n {
				fillRow(r, rows[i*dim:(i+1)*dim])
			}
			rb := kernels.RowBytes(bits, dim)
			got, want := make([]byte, n*rb), make([]byte, n*rb)
			q := simdOn.newQuantizer(bits, dim)
			for i := range n {
				q.Add(got[i*rb:(i+1)*rb], rows[i*dim:(i+1)*dim])
				kernels.QuantizeRow(bits, want[i*rb:(i+1)*rb], rows[i*dim:(i+1)*dim])
				if r.IntN(500) == 0 {
					q.Flush()
				}
			}
			q.Flush()
			for i := range n {
				checked++
				if g, w := got[i*rb:(i+1)*rb], want[i*rb:(i+1)*rb]; string(g) != string(w) {
					mismatched++
					if first == "" {
						first = fmt.Sprintf("%d bits, dim %d row %v: portable % x, SIMD % x", bits, dim, rows[i*dim:(i+1)*dim], w, g)
					}
				}
			}
		}
	}
	return map[string]any{"kernels": kernelSet, "rows": checked, "mismatched": mismatched, "first": first}, nil
}
