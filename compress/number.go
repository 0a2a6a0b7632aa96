package compress

import (
	"math"
	"strconv"
)

// Number is a float64 that JSON writes as null when it is not finite
// (encoding/json refuses NaN and infinities, which would fail a command
// after its file was written): an error over a row that held one, or a
// figure read from a crafted file's header.
type Number float64

// MarshalJSON writes n, or null for a NaN or an infinity.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}
