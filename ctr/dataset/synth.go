package dataset

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
)

// Truth is what Synth planted.
type Truth struct {
	Fields   int       `json:"fields"`   // categorical fields with content (C1..C<Fields>)
	Strength []float64 `json:"strength"` // per field: the std of its effect on the logit, 0 for noise
	Vocab    []int     `json:"vocab"`
	Rows     int       `json:"rows"`
	Bias     float64   `json:"bias"`
}

// Signal lists the fields (Criteo names) that carry signal, strongest first.
func (t Truth) Signal() (sig, noise []string) {
	for i, s := range t.Strength {
		name := "C" + strconv.Itoa(i+1)
		if s > 0 {
			sig = append(sig, name)
		} else {
			noise = append(noise, name)
		}
	}
	return
}

// Synth writes rows of Criteo-format data with planted truth: the first
// fields/2+1 categorical fields move the click logit with strengths falling
// geometrically (1.2, 0.96, ...), the rest are pure noise; every field's
// values follow a Zipf law over a vocabulary of 50 to 1600 values; columns
// past `fields`, and the integer columns, are left empty.
func Synth(w io.Writer, rows, fields int, seed uint64) (Truth, error) {
	if fields < 1 || fields > 26 {
		return Truth{}, fmt.Errorf("%w: fields must be 1..26, got %d", ErrFormat, fields)
	}
	r := rand.New(rand.NewPCG(seed, 0x517))
	t := Truth{Fields: fields, Rows: rows, Bias: -1.4}
	nsig := fields/2 + 1
	effects := make([][]float64, fields)
	zipfs := make([]*rand.Zipf, fields)
	hashes := make([][]uint32, fields)
	for f := 0; f < fields; f++ {
		s := 0.0
		if f < nsig {
			s = 1.2 * math.Pow(0.8, float64(f))
		}
		v := 50 << (f % 6)
		t.Strength = append(t.Strength, s)
		t.Vocab = append(t.Vocab, v)
		effects[f] = make([]float64, v)
		hashes[f] = make([]uint32, v)
		for i := range effects[f] {
			effects[f][i] = r.NormFloat64() * s
			hashes[f][i] = r.Uint32()
		}
		zipfs[f] = rand.NewZipf(r, 1.1, 2, uint64(v-1))
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	ids := make([]int, fields)
	for i := 0; i < rows; i++ {
		z := t.Bias
		for f := range ids {
			ids[f] = int(zipfs[f].Uint64())
			z += effects[f][ids[f]]
		}
		y := 0
		if r.Float64() < 1/(1+math.Exp(-z)) {
			y = 1
		}
		bw.WriteString(strconv.Itoa(y))
		for k := 0; k < 13; k++ {
			bw.WriteByte('\t')
		}
		for f := 0; f < 26; f++ {
			bw.WriteByte('\t')
			if f < fields {
				fmt.Fprintf(bw, "%08x", hashes[f][ids[f]])
			}
		}
		bw.WriteByte('\n')
	}
	return t, bw.Flush()
}
