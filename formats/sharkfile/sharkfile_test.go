package sharkfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"shark/core"
	"shark/formats"
)

type tableCase struct {
	tb    *core.Table
	tiers []core.Tier
}

// layout is a kind of file the tests write: its tiers, and whether every
// table is stored wide (version 2's layout) whatever its tiers.
type layout struct {
	name    string
	tiers   []core.Tier
	allWide bool
}

var (
	narrowLayout = layout{"v1", []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4}, false}
	// Version 2's layout holding the first four tiers alone.
	wideOldTiers = layout{"v2-old-tiers", narrowLayout.tiers, true}
	int2Layout   = layout{"v2-int2", []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2}, false}
	allTiers     = layout{"v2-all", []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2, core.INT8B, core.INT4B, core.INT2B}, false}
	layouts      = []layout{narrowLayout, wideOldTiers, int2Layout, allTiers}
)

// wantRow is row r of c decoded from its tier as the writer encodes it:
// a block tier's under its block's parameters (of blocks of
// core.DefaultBlock rows).
func (c tableCase) wantRow(t testing.TB, r int, dst []float32) {
	src := c.tb.Data[r*c.tb.D : (r+1)*c.tb.D]
	tier := c.tiers[r]
	enc := make([]byte, 4*c.tb.D+8)
	if !tier.Block() {
		core.EncodeRow(tier, enc, src)
		core.DecodeRow(tier, dst, enc)
		return
	}
	bp, err := core.ComputeBlockParams(c.tb, core.DefaultBlock, core.UsedBlockTiers(c.tiers))
	if err != nil {
		t.Fatal(err)
	}
	s, b := bp.Of(tier, r)
	core.EncodeBlockRow(tier, enc, src, s, b)
	core.DecodeBlockRow(tier, dst, enc, s, b)
}

// major is the container version the layout's files have.
func (l layout) major() int {
	if l.allWide || slices.ContainsFunc(l.tiers, func(t core.Tier) bool { return t >= narrowTiers }) {
		return Major
	}
	return MajorNarrow
}

// writer starts a file of the layout on buf.
func (l layout) writer(t testing.TB, buf io.Writer) *Writer {
	w, err := NewWriterVersion(buf, l.major())
	if err != nil {
		t.Fatal(err)
	}
	w.allWide = l.allWide
	return w
}

// build writes a file with a dense tensor and two mixed tables.
func build(t testing.TB, seed uint64) ([]byte, []tableCase, []byte) {
	return buildLayout(t, seed, narrowLayout)
}

// buildLayout is build with the layout's tiers.
func buildLayout(t testing.TB, seed uint64, l layout) ([]byte, []tableCase, []byte) {
	r := rand.New(rand.NewPCG(seed, 9))
	var cases []tableCase
	for _, sh := range [][2]int{{600, 8}, {300, 7}, {3, 5}} {
		tb := &core.Table{R: sh[0], D: sh[1], Data: make([]float32, sh[0]*sh[1])}
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64())
		}
		tiers := make([]core.Tier, sh[0])
		for i := range tiers {
			tiers[i] = l.tiers[r.IntN(len(l.tiers))]
		}
		cases = append(cases, tableCase{tb, tiers})
	}
	dense := make([]byte, 4*33)
	for i := range dense {
		dense[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	w := l.writer(t, &buf)
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
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) { testRoundTrip(t, l) })
	}
}

func testRoundTrip(t *testing.T, l layout) {
	data, cases, dense := buildLayout(t, 1, l)
	if v := int(binary.LittleEndian.Uint16(data[8:])); v != l.major() {
		t.Fatalf("container version %d, want %d", v, l.major())
	}
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
		// Random order: O(1) access must not depend on reading in sequence.
		for _, r := range rand.Perm(c.tb.R) {
			if err := tbl.Row(r, row); err != nil {
				t.Fatal(err)
			}
			if tbl.Tier(r) != c.tiers[r] {
				t.Fatalf("row %d tier %v want %v", r, tbl.Tier(r), c.tiers[r])
			}
			// A table of the first four tiers is stored as in version 1
			// in either version.
			wide := l.allWide || slices.ContainsFunc(c.tiers, func(t core.Tier) bool { return t >= narrowTiers })
			if tbl.Wide() != wide {
				t.Fatalf("table %d: wide %v, want %v", i, tbl.Wide(), wide)
			}
			c.wantRow(t, r, want)
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
