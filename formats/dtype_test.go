package formats

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// DecodeFloat32 appends, for every dtype, what the element-by-element
// reading of its doc gives.
func TestDecodeFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, d := range []DType{F32, F16, BF16, F64, I8, U8, I32, I64} {
		for _, n := range []int{0, 1, 7, 64, 1000} {
			raw := make([]byte, n*d.Size())
			for i := range raw {
				raw[i] = byte(r.Uint32())
			}
			prefix := []float32{1.5, -2}
			got := DecodeFloat32(append([]float32(nil), prefix...), d, raw)
			if len(got) != len(prefix)+n || got[0] != 1.5 || got[1] != -2 {
				t.Fatalf("%s n=%d: %d values, prefix %v", d, n, len(got), got[:min(2, len(got))])
			}
			for i := 0; i < n; i++ {
				var want float32
				switch d {
				case F32:
					want = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				case F16:
					want = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
				case BF16:
					want = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
				case F64:
					want = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
				case I8:
					want = float32(int8(raw[i]))
				case U8:
					want = float32(raw[i])
				case I32:
					want = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
				case I64:
					want = float32(int64(binary.LittleEndian.Uint64(raw[8*i:])))
				}
				g := got[len(prefix)+i]
				if math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
					t.Fatalf("%s n=%d [%d]: %v, want %v", d, n, i, g, want)
				}
			}
		}
	}
}
