package kernels

// The browser's Go has no SIMD, but the page can give it a SIMD128 module
// of its own (wasm/simd), called through JavaScript: a call costs far more
// than a row, so it measures a batch of rows a call.

// RowsErrors measures len(out) rows of dim values each, rows[i*dim:], as
// RowErrors measures each: out[i] and ok[i]. Every row is non-empty.
func RowsErrors(rows []float32, dim int, out []TierErrors, ok []bool) {
	if rowsErrors != nil && rowsErrors(rows[:len(out)*dim], dim, out, ok[:len(out)]) {
		return
	}
	rowsErrorsKernel(rows[:len(out)*dim], dim, out, ok[:len(out)])
}

// rowsErrorsKernel is the kernel set's batch: a loop over rowErrors, or
// one that measures several rows at once (rowsErrorsAVX2).
var rowsErrorsKernel = rowsErrorsLoop

// rowsErrorsLoop measures each row with rowErrors.
func rowsErrorsLoop(rows []float32, dim int, out []TierErrors, ok []bool) {
	for i := range out {
		out[i], ok[i] = rowErrors(rows[i*dim : (i+1)*dim])
	}
}

// rowsErrors, when set, measures a batch of rows (false: it does not, and
// RowsErrors measures them a row at a time).
var rowsErrors func(rows []float32, dim int, out []TierErrors, ok []bool) bool

// SetRowsErrors has RowsErrors measure batches of rows with f, which must
// give RowErrors's answers bit for bit, or return false to leave a batch
// to it; nil restores the loop over RowErrors.
func SetRowsErrors(f func(rows []float32, dim int, out []TierErrors, ok []bool) bool) {
	rowsErrors = f
}

// ErrorParams is what rowErrorsGeneric measures a finite row's 8- and 4-bit
// tiers with, from the row's minimum mn and maximum mx as a lane-wise
// minimum gives them (a zero's sign is settled here as rowMinMax settles
// it): int8's bias, scale, inverse scale and largest code, then int4's.
func ErrorParams(row []float32, mn, mx float32) [8]float32 {
	if mn == 0 {
		mn = firstZero(row)
	}
	if mx == 0 {
		mx = firstZero(row)
	}
	b8, s8, i8, q8, _, _ := rowParams(8, mn, mx)
	b4, s4, i4, q4, _, _ := rowParams(4, mn, mx)
	return [8]float32{b8, s8, i8, float32(q8), b4, s4, i4, float32(q4)}
}

// SetRowQuantizer has NewRowQuantizer (and QuantizeRows) take f's
// quantizer for rows of bits and dim where f gives one, non-nil: the
// page's SIMD128 module, which must write quantizeRowGeneric's bytes.
func SetRowQuantizer(f func(bits, dim int) RowQuantizer) {
	before := newRowQuantizer
	newRowQuantizer = func(bits, dim int) RowQuantizer {
		if q := f(bits, dim); q != nil {
			return q
		}
		return before(bits, dim)
	}
}

// QuantizeParams is what quantizeRowGeneric encodes a finite, non-empty
// row in bits with, from the row's minimum mn and maximum mx as a
// lane-wise minimum gives them (a zero's sign settled here): the bias,
// inverse scale and largest code its codes are computed with. It writes
// the row's last 4 bytes, its scale and bias as binary16, to tail.
func QuantizeParams(bits int, row []float32, mn, mx float32, tail []byte) (bias, inv, maxq float32) {
	if mn == 0 {
		mn = firstZero(row)
	}
	if mx == 0 {
		mx = firstZero(row)
	}
	bias, _, inv, q, hs, hb := rowParams(bits, mn, mx)
	putScaleBias(tail, hs, hb)
	return bias, inv, float32(q)
}
