package sharkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
)

// v1Source is the table of testdata/v1.shark, a file written by shark
// before container version 2 existed (from v1Source, a dense tensor "d"
// then the table "t", to a bytes.Buffer).
func v1Source() (*core.Table, []core.Tier) {
	const rows, dim = 700, 6
	tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(3 * math.Sin(float64(i)*0.37))
	}
	tiers := make([]core.Tier, rows)
	for r := range tiers {
		tiers[r] = core.Tier((r*7 + r/5) % 4)
	}
	return tb, tiers
}

// A version-1 file still opens and reads, and a file of the same tiers is
// still written as version 1, byte for byte.
func TestVersion1File(t *testing.T) {
	old, err := os.ReadFile("testdata/v1.shark")
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint16(old[8:]); v != MajorNarrow {
		t.Fatalf("testdata/v1.shark is version %d", v)
	}
	rd, err := NewReader(bytes.NewReader(old), int64(len(old)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); err != nil {
		t.Fatal(err)
	}
	tb, tiers := v1Source()
	tbl, err := rd.Table("t")
	if err != nil {
		t.Fatal(err)
	}
	got, want := make([]float32, tb.D), make([]float32, tb.D)
	enc := make([]byte, 4*tb.D)
	for r := range tb.R {
		if err := tbl.Row(r, got); err != nil || tbl.Tier(r) != tiers[r] {
			t.Fatalf("row %d: tier %v, %v", r, tbl.Tier(r), err)
		}
		core.EncodeRow(tiers[r], enc, tb.Data[r*tb.D:(r+1)*tb.D])
		core.DecodeRow(tiers[r], want, enc)
		for j := range got {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("row %d: %v, want %v", r, got, want)
			}
		}
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	w.WriteDense("d", formats.U8, []int64{7}, bytes.NewReader([]byte("seven b")))
	if err := w.WriteTable("t", tb, tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), old) {
		t.Fatalf("the same table written today differs from version 1's file (%d bytes, then %d)", len(old), buf.Len())
	}
}

// A wide table's index is checked as a narrow one's: a version-1 file may
// not hold one, a tier code must name a tier, and block parameters must be
// those the rows need.
func TestWideIndexChecked(t *testing.T) {
	file := fileOfLayout(t, int2Layout, 300)
	rd, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := rd.Table("t0")
	if !tbl.Wide() {
		t.Fatal("table t0 is not wide")
	}
	asV1 := rewriteHeader(t, file, func(h map[string]any) { h["major"] = MajorNarrow })
	binary.LittleEndian.PutUint16(asV1[8:], MajorNarrow)
	badCode := append([]byte{}, file...)
	badCode[tbl.Entry().Codes.Off] |= 0xf0 // row 1: tier 15
	cases := map[string][]byte{
		"wide table in version 1": asV1,
		"tier code 15":            reseal(t, badCode),
		"block tiers without rows": rewriteHeader(t, file, func(h map[string]any) {
			e := h["tensors"].([]any)[0].(map[string]any)
			e["block_tiers"] = []any{int(core.INT4B)}
			e["block"] = 64
		}),
	}
	for name, b := range cases {
		_, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, formats.ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A flipped byte in a table's block parameters is caught by their
// checksum (the file does not open: they are read with the index), and
// parameters that are not finite numbers, checksums made to match, by
// Verify; rows of the table cannot be read wrong either way.
func TestVerifyCatchesParamsFlip(t *testing.T) {
	file := fileOfLayout(t, allTiers, 300)
	rd, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	tbl, _ := rd.Table("t0")
	p := tbl.Entry().Params
	if p == nil || p.Len == 0 || tbl.Block() != core.DefaultBlock {
		t.Fatalf("table t0 has no block parameters (%+v, blocks of %d)", p, tbl.Block())
	}
	for off := p.Off; off < p.Off+p.Len; off++ {
		bad := append([]byte{}, file...)
		bad[off] ^= 0x10
		rd, err := NewReader(bytes.NewReader(bad), int64(len(bad)))
		if err == nil {
			err = rd.Verify()
		}
		if !errors.Is(err, formats.ErrChecksum) {
			t.Fatalf("flip at %d (params block byte %d): %v", off, off-p.Off, err)
		}
	}
	inf := append([]byte{}, file...)
	binary.LittleEndian.PutUint16(inf[p.Off+2:], 0x7c00) // the first bias: +Inf
	inf = reseal(t, inf)
	rd, err = NewReader(bytes.NewReader(inf), int64(len(inf)))
	if err != nil {
		t.Fatal(err)
	}
	if err := rd.Verify(); !errors.Is(err, formats.ErrCorrupt) || !strings.Contains(err.Error(), "block's scale or bias is not a finite") {
		t.Fatalf("an infinite block bias: %v", err)
	}
}
