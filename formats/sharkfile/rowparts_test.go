package sharkfile

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"shark/core"
	"shark/formats"
)

// partsTable is a table of Gaussian rows of varied scale with random
// tiers, of more than one encoding window.
func partsTable(rows, dim int) (*core.Table, []core.Tier) {
	return partsTableOf(rows, dim, narrowLayout)
}

// partsTableOf is partsTable with the layout's tiers.
func partsTableOf(rows, dim int, l layout) (*core.Table, []core.Tier) {
	r := rand.New(rand.NewPCG(uint64(rows), uint64(dim)))
	tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64() * float64(1+i/dim%13))
	}
	tiers := make([]core.Tier, rows)
	for i := range tiers {
		tiers[i] = l.tiers[r.IntN(len(l.tiers))]
	}
	return tb, tiers
}

// encodeParts encodes src's rows in the parts cut at cuts.
func encodeParts(t *testing.T, src core.RowSource, tiers []core.Tier, cuts []int) []RowsPart {
	t.Helper()
	var parts []RowsPart
	for i := 0; i+1 < len(cuts); i++ {
		p := new(BufferedPart)
		if err := EncodePart(src, cuts[i], tiers[cuts[i]:cuts[i+1]], p.Writers(), nil); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	return parts
}

// A table encoded in parts of row ranges (some empty, some cut within a
// window or a code byte), from memory and through reads, and joined, is
// the table WriteTable writes, byte for byte; int2 rows too.
func TestWriteTablePartsEqualsWriteTable(t *testing.T) {
	for _, l := range []layout{narrowLayout, int2Layout} {
		t.Run(l.name, func(t *testing.T) { testWriteTablePartsEqualsWriteTable(t, l) })
	}
}

func testWriteTablePartsEqualsWriteTable(t *testing.T, l layout) {
	const rows, dim = 10001, 256 // windowOf(256) is 4,096 rows
	tb, tiers := partsTableOf(rows, dim, l)
	write := func(fill func(w *Writer) error) []byte {
		var buf bytes.Buffer
		w := l.writer(t, &buf)
		if err := fill(w); err != nil {
			t.Fatal(err)
		}
		d := []byte{1, 2, 3, 4} // a tensor after the table: the offsets must be right
		w.WriteDense("after", formats.U8, []int64{4}, bytes.NewReader(d))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	info := TableInfo{SourceDType: formats.F32}
	want := write(func(w *Writer) error { return w.WriteTable("emb", tb, tiers, info, nil) })
	for _, src := range []core.RowSource{tb, failingSource{tb: tb, bad: -1}} {
		for _, cuts := range [][]int{{0, rows}, {0, 1, 4097, 4097, 7003, rows}, {0, 5000, rows}, {0, 0, rows}} {
			parts := encodeParts(t, src, tiers, cuts)
			got := write(func(w *Writer) error { return w.WriteTableParts("emb", rows, dim, TierSlice(tiers), info, parts) })
			if !bytes.Equal(got, want) {
				t.Fatalf("parts cut at %v (%T): %d bytes that differ from WriteTable's %d", cuts, src, len(got), len(want))
			}
		}
	}
}

// Parts that do not hold the table's rows, a row that cannot be read, or
// a tier out of range are errors, not a file.
func TestWriteTablePartsRefuses(t *testing.T) {
	const rows, dim = 3000, 16
	tb, tiers := partsTable(rows, dim)
	parts := encodeParts(t, tb, tiers, []int{0, 1000, rows})
	w, _ := NewWriter(io.Discard)
	if err := w.WriteTableParts("emb", rows, dim, TierSlice(tiers), TableInfo{}, parts[:1]); !errors.Is(err, ErrPartSize) {
		t.Fatalf("one part of two: %v, want ErrPartSize", err)
	}
	p := new(BufferedPart)
	if err := EncodePart(failingSource{tb: tb, bad: 17}, 0, tiers, p.Writers(), nil); !errors.Is(err, errBadRow) {
		t.Fatalf("an unreadable row: %v", err)
	}
	bad := append([]core.Tier(nil), tiers...)
	bad[5] = core.NumTiers
	if err := EncodePart(tb, 0, bad, p.Writers(), nil); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("tier %d: %v", core.NumTiers, err)
	}
	if err := EncodePart(tb, 1, tiers, p.Writers(), nil); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("rows past the table's end: %v", err)
	}
	// A block tier's rows need their blocks' parameters, which a part
	// does not have.
	block := append([]core.Tier(nil), tiers...)
	block[7] = core.INT4B
	if err := EncodePart(tb, 0, block, p.Writers(), nil); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("an int4-block row in a part: %v", err)
	}
	wb, _ := NewWriterVersion(io.Discard, Major)
	if err := wb.WriteTableParts("emb", rows, dim, TierSlice(block), TableInfo{}, parts); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("parts of a table with int4-block rows: %v", err)
	}
	stop := errors.New("stop")
	if err := EncodePart(tb, 0, tiers, p.Writers(), func(int) error { return stop }); err != stop {
		t.Fatalf("progress's error: %v", err)
	}
}
