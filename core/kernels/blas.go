package kernels

// dotGeneric returns the dot product of x and y[:len(x)]. It must equal:
//
//	var s float32
//	for i := range x { s += x[i] * y[i] }
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// axpyGeneric adds a*x to y. It must equal:
//
//	for i := range x { y[i] += a * x[i] }
func axpyGeneric(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// sumSquaredDiffGeneric returns, in float64, the sum of (a[i]-b[i])^2 and
// the largest |a[i]-b[i]| (NaN differences do not count for the largest).
// The sum runs in eight lanes, element i in lane i%8, and the lanes are
// added in order at the end, so that the SIMD version, eight lanes wide,
// equals it bit for bit:
//
//	for i := range a { d := float64(a[i]) - float64(b[i]); lane[i%8] += float64(d*d); if |d| > max { max = |d| } }
//	sse = ((((((lane[0]+lane[1])+lane[2])+lane[3])+lane[4])+lane[5])+lane[6])+lane[7]
//
// Tier choices depend on these sums, so every build must get the same ones.
func sumSquaredDiffGeneric(a, b []float32) (sse float64, maxAbs float64) {
	b = b[:len(a)]
	var lane [8]float64
	for i, v := range a {
		d := float64(v) - float64(b[i])
		lane[i&7] += float64(d * d) // the conversion forbids a fused multiply-add
		maxAbs = maxAbsOf(maxAbs, d)
	}
	for _, l := range lane {
		sse += l
	}
	return sse, maxAbs
}

// SumSquaredDiff is sumSquaredDiffGeneric, with the kernel in use.
func SumSquaredDiff(a, b []float32) (sse, maxAbs float64) { return sumSquaredDiff(a, b) }

func Dot(x, y []float32) float32     { return dot(x, y) }
func Axpy(a float32, x, y []float32) { axpy(a, x, y) }

var (
	sumSquaredDiff = sumSquaredDiffGeneric
	dot            = dotGeneric
	axpy           = axpyGeneric
)
