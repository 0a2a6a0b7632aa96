package sharkfile

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"testing"

	"shark/core"
	"shark/formats"
)

type tableCase struct {
	tb    *core.Table
	tiers []core.Tier
}

// build writes a file with a dense tensor and two mixed tables.
func build(t testing.TB, seed uint64) ([]byte, []tableCase, []byte) {
	r := rand.New(rand.NewPCG(seed, 9))
	var cases []tableCase
	for _, sh := range [][2]int{{600, 8}, {300, 7}, {3, 5}} {
		tb := &core.Table{R: sh[0], D: sh[1], Data: make([]float32, sh[0]*sh[1])}
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64())
		}
		tiers := make([]core.Tier, sh[0])
		for i := range tiers {
			tiers[i] = core.Tier(r.IntN(4))
		}
		cases = append(cases, tableCase{tb, tiers})
	}
	dense := make([]byte, 4*33)
	for i := range dense {
		dense[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.SetMethod(Method{WPos: 1, WNeg: 0.25, Gamma: 1, PrioritySource: "row-norm", Assignment: "fractions"})
	if err := w.WriteDense("bias", formats.F32, []int64{3, 11}, bytes.NewReader(dense)); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if err := w.WriteTable([]string{"emb_a", "emb_b", "emb_c"}[i], c.tb, c.tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cases, dense
}

func TestRoundTrip(t *testing.T) {
	data, cases, dense := build(t, 1)
	rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
	_, dr, err := rd.Dense("bias")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(dr)
	if !bytes.Equal(got, dense) {
		t.Fatal("dense tensor changed")
	}
	for i, tbl := range rd.Tables() {
		c := cases[i]
		row := make([]float32, c.tb.D)
		want := make([]float32, c.tb.D)
		enc := make([]byte, 4*c.tb.D+4)
		// Random order: O(1) access must not depend on reading in sequence.
		for _, r := range rand.Perm(c.tb.R) {
			if err := tbl.Row(r, row); err != nil {
				t.Fatal(err)
			}
			if tbl.Tier(r) != c.tiers[r] {
				t.Fatalf("row %d tier %v want %v", r, tbl.Tier(r), c.tiers[r])
			}
			src := c.tb.Data[r*c.tb.D : (r+1)*c.tb.D]
			core.EncodeRow(c.tiers[r], enc, src)
			core.DecodeRow(c.tiers[r], want, enc)
			for j := range row {
				if math.Float32bits(row[j]) != math.Float32bits(want[j]) {
					t.Fatalf("table %d row %d col %d: %v want %v", i, r, j, row[j], want[j])
				}
			}
		}
	}
	// The formats view reads the same.
	f, err := formats.OpenReaderAt(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != "shark" || len(f.Tensors) != 4 || f.Tensors[1].Tiers == nil {
		t.Fatalf("file view: %+v", f)
	}
	vals, err := f.Tensors[1].Float32s()
	if err != nil || len(vals) != 600*8 {
		t.Fatalf("dequantized read: %d values, %v", len(vals), err)
	}
}

func ExampleOpen() {
	f, err := Open("model.shark")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	tbl, err := f.Table("user_embedding")
	if err != nil {
		log.Fatal(err)
	}
	row := make([]float32, tbl.Dim())
	// O(1): dequantized from whichever tier row 42 is stored in.
	if err := tbl.Row(42, row); err != nil {
		log.Fatal(err)
	}
	fmt.Println(tbl.Tier(42), row[:4])
}
