package kernels

// DotGeneric returns the dot product of x and y[:len(x)]. It must equal:
//
//	var s float32
//	for i := range x { s += x[i] * y[i] }
func DotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// AxpyGeneric adds a*x to y. It must equal:
//
//	for i := range x { y[i] += a * x[i] }
func AxpyGeneric(a float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += a * v
	}
}

// SumSquaredDiffGeneric returns sum (a[i]-b[i])^2 in float64 and max |a[i]-b[i]|.
func SumSquaredDiffGeneric(a, b []float32) (sse float64, maxAbs float64) {
	b = b[:len(a)]
	for i, v := range a {
		d := float64(v) - float64(b[i])
		sse += d * d
		if d < 0 {
			d = -d
		}
		if d > maxAbs {
			maxAbs = d
		}
	}
	return sse, maxAbs
}

func Dot(x, y []float32) float32     { return dot(x, y) }
func Axpy(a float32, x, y []float32) { axpy(a, x, y) }

var (
	dot  = DotGeneric
	axpy = AxpyGeneric
)
