package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"shark/core/kernels"
)

// blockTable is a table of dim-wide rows with, here and there, rows no
// lossy tier holds (a NaN, a value past binary16's range) and a whole
// block of them, so that blocks' ranges skip such rows.
func blockTable(r *rand.Rand, rows, dim, block int) *Table {
	tb := &Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64() * 0.05 * float64(1+i/dim%5))
	}
	for i := 0; i < rows; i++ {
		row := tb.Data[i*dim : (i+1)*dim]
		switch {
		case i/block == 2 && rows > 3*block: // a block of unheld rows
			row[0] = float32(math.NaN())
		case r.IntN(40) == 0:
			row[r.IntN(dim)] = 70000
		case r.IntN(40) == 0:
			row[r.IntN(dim)] = float32(math.Inf(-1))
		}
	}
	return tb
}

// plainParams is a block's parameters written out: the first minimum and
// maximum over its rows whose every value is finite and rounds to a
// finite binary16, by a plain scan, through the codec's parameters; the
// empty row's (scale 1, bias 0) when there is no such row.
func plainParams(rows []float32, dim, bits int) (uint16, uint16) {
	var mn, mx float32
	seen := false
	for i := 0; i < len(rows); i += dim {
		held := true
		for _, v := range rows[i : i+dim] {
			h := kernels.FloatToHalf(v)
			held = held && v == v && h&0x7c00 != 0x7c00
		}
		if !held {
			continue
		}
		for _, v := range rows[i : i+dim] {
			if !seen {
				mn, mx, seen = v, v, true
			}
			if v < mn {
				mn = v
			}
			if v > mx {
				mx = v
			}
		}
	}
	if !seen {
		return kernels.FloatToHalf(1), 0
	}
	buf := make([]byte, kernels.RowBytes(bits, 2))
	kernels.QuantizeRow(bits, buf, []float32{mn, mx}) // a row of that minimum and maximum
	return uint16(buf[len(buf)-4]) | uint16(buf[len(buf)-3])<<8, uint16(buf[len(buf)-2]) | uint16(buf[len(buf)-1])<<8
}

func TestComputeBlockParams(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tiers := []Tier{INT8B, INT4B, INT2B}
	for _, c := range []struct{ rows, dim, block int }{{1, 3, 64}, {200, 8, 64}, {1000, 5, 7}, {70000, 4, 1000}, {333, 16, 1}} {
		tb := blockTable(r, c.rows, c.dim, c.block)
		bp, err := ComputeBlockParams(tb, c.block, tiers)
		if err != nil {
			t.Fatal(err)
		}
		for b := 0; b*c.block < c.rows; b++ {
			rows := tb.Data[b*c.block*c.dim : min(c.rows, (b+1)*c.block)*c.dim]
			for _, tr := range tiers {
				ws, wb := plainParams(rows, c.dim, tr.Bits())
				if s, bias := bp.Of(tr, b*c.block); s != ws || bias != wb {
					t.Fatalf("%+v block %d %v: params %#x %#x, want %#x %#x", c, b, tr, s, bias, ws, wb)
				}
			}
		}
	}
	if _, err := NewBlockParams(10, 4, []Tier{INT4B, INT8B}, make([]uint16, 12)); err == nil {
		t.Fatal("tiers out of order accepted")
	}
	if _, err := NewBlockParams(10, 4, []Tier{INT4}, make([]uint16, 6)); err == nil {
		t.Fatal("a rowwise tier accepted")
	}
	if _, err := NewBlockParams(10, 4, []Tier{INT4B}, make([]uint16, 4)); err == nil {
		t.Fatal("too few parameters accepted")
	}
}

// The measure step's int2 and block-tier errors are those of encoding and
// decoding each row (a block tier's with its block's parameters), bit for
// bit; rows no lossy tier holds get an infinite error in the new tiers;
// tiers not asked for are not measured (infinite), the default ones the
// same as without them.
func TestMeasureNewTiersIsEncodeDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, c := range []struct{ rows, dim, block int }{{5000, 8, 100}, {300, 3, 64}, {2049, 16, 1}, {100, 4, 3000}, {20000, 2, 5000}} {
		tb := blockTable(r, c.rows, c.dim, c.block)
		m := Measure{Tiers: AllTiers(), Block: c.block}
		var got, plain []RowStat
		if err := MeasureStatsWith(tb, nil, m, func(_ int, s RowStat) error { got = append(got, s); return nil }, nil); err != nil {
			t.Fatal(err)
		}
		if err := MeasureStats(tb, nil, func(_ int, s RowStat) error { plain = append(plain, s); return nil }, nil); err != nil {
			t.Fatal(err)
		}
		used := []Tier{INT8B, INT4B, INT2B}
		bp, err := ComputeBlockParams(tb, c.block, used)
		if err != nil {
			t.Fatal(err)
		}
		back := make([]float32, c.dim)
		for i := range got {
			row := tb.Data[i*c.dim : (i+1)*c.dim]
			_, _, held := kernels.HeldMinMax(row)
			for tr := FP16; tr < NumTiers; tr++ {
				if tr < DefaultTiers {
					if got[i].SSE[tr-1] != plain[i].SSE[tr-1] || got[i].MaxAbs[tr-1] != plain[i].MaxAbs[tr-1] {
						t.Fatalf("%+v row %d %v: %v, measured alone %v", c, i, tr, got[i], plain[i])
					}
					continue
				}
				if !math.IsInf(plain[i].Err(tr), 1) {
					t.Fatalf("%+v row %d: %v measured though not asked for", c, i, tr)
				}
				finiteRow := true
				for _, v := range row {
					finiteRow = finiteRow && !math.IsInf(float64(v), 0) && v == v
				}
				if !held && (tr.Block() || !finiteRow) {
					if !math.IsInf(got[i].Err(tr), 1) {
						t.Fatalf("%+v row %d %v: an unheld row measured %v", c, i, tr, got[i].Err(tr))
					}
					continue
				}
				b := make([]byte, tr.RowBytes(c.dim))
				if tr.Block() {
					s, bias := bp.Of(tr, i)
					EncodeBlockRow(tr, b, row, s, bias)
					DecodeBlockRow(tr, back, b, s, bias)
				} else {
					EncodeRow(tr, b, row)
					DecodeRow(tr, back, b)
				}
				sse, maxAbs := kernels.SumSquaredDiff(row, back)
				if got[i].SSE[tr-1] != float32(sse) || got[i].AbsErr(tr) != float64(float32(maxAbs)) {
					t.Fatalf("%+v row %d %v: measured %v %v, encode+decode %v %v", c, i, tr, got[i].SSE[tr-1], got[i].AbsErr(tr), float32(sse), float32(maxAbs))
				}
			}
		}
	}
}

// With int2 allowed and a budget below every row at int4, the solver
// takes int2 rows (the budget cannot be met otherwise) and meets it in
// the tiers' exact bytes; with int2 allowed and a budget int4 meets, it
// never does worse than without int2.
func TestSolverPicksInt2WhenItPays(t *testing.T) {
	tables := zipfTables4(11, []int{3000, 1000}, 8)
	var in []StatTable
	rows := int64(0)
	for _, tb := range tables {
		in = append(in, StatTable{Dim: tb.dim, Stats: tb.stats})
		rows += int64(len(tb.stats))
	}
	def, with := DefaultAllowed(), DefaultAllowed()
	with[INT2] = true
	allInt4 := rows * int64(INT4.RowBytes(8))
	budget := allInt4 * 9 / 10
	if _, err := Assign(in, Rule{By: ByBudget, Budget: budget, Allowed: def}, RowsOnly); err == nil {
		t.Fatal("a budget below every row at int4 met without int2")
	}
	for _, b := range []int64{budget, allInt4 * 2} {
		fns, err := Assign(in, Rule{By: ByBudget, Budget: b, Allowed: with}, RowsOnly)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		var werr float64
		var int2 int64
		for i, tb := range in {
			ts, err := StatsOf(tb.Dim, tb.Stats, fns[i], RowsOnly)
			if err != nil {
				t.Fatal(err)
			}
			total += ts.BytesAfter
			werr += ts.WeightedErr
			int2 += ts.Tiers[INT2]
		}
		if total > b || (b == budget && int2 == 0) {
			t.Fatalf("budget %d: %d bytes, %d int2 rows", b, total, int2)
		}
		if b != budget {
			base, err := Assign(in, Rule{By: ByBudget, Budget: b, Allowed: def}, RowsOnly)
			if err != nil {
				t.Fatal(err)
			}
			var w0 float64
			for i, tb := range in {
				ts, _ := StatsOf(tb.Dim, tb.Stats, base[i], RowsOnly)
				w0 += ts.WeightedErr
			}
			if werr > w0 {
				t.Fatalf("budget %d: weighted error %g with int2, %g without", b, werr, w0)
			}
		}
	}
}

// zipfTables4 is zipfTables measured with every tier, blocks of 64.
func zipfTables4(seed uint64, rows []int, dim int) []statTable {
	out := zipfTables(seed, rows, dim)
	r := rand.New(rand.NewPCG(seed, 1))
	for k, n := range rows {
		tb := &Table{R: n, D: dim, Data: make([]float32, n*dim)}
		for i := range tb.Data {
			tb.Data[i] = float32(r.NormFloat64() * 0.1)
		}
		i := 0
		err := MeasureStatsWith(tb, func(lo, hi int, dst []float64) error { copy(dst, out[k].prio[lo:hi]); return nil },
			Measure{Tiers: AllTiers()}, func(_ int, s RowStat) error { out[k].stats[i] = s; i++; return nil }, nil)
		if err != nil {
			panic(err)
		}
	}
	return out
}

// Block tiers are taken when their parameters pay for themselves (blocks
// of 64 rows at dim 8: an int4-block row costs 4 bytes and 1/16, an int4
// row 8), and left out when they cannot (blocks of 1 row: the parameters
// cost what a rowwise row's scale and bias do, for each block tier
// allowed, and leave the rows less room at no smaller error); the
// decision's tables fit the budget in exact bytes, parameters counted.
func TestSolverWeighsBlockParams(t *testing.T) {
	tables := zipfTables4(12, []int{4000}, 8)
	in := []StatTable{{Dim: 8, Stats: tables[0].stats}}
	all := AllTiers()
	for _, c := range []struct {
		block  int
		budget int64
		blocks bool
	}{{64, 4000 * 8 * 4 / 10, true}, {64, 4000 * 8 * 4 / 2, true}, {1, 4000 * 8 * 4 / 2, false}} {
		budget := c.budget
		st := RowsOnly
		st.Block = c.block
		fns, err := Assign(in, Rule{By: ByBudget, Budget: budget, Allowed: all}, st)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := StatsOf(8, in[0].Stats, fns[0], st)
		if err != nil {
			t.Fatal(err)
		}
		n := ts.Tiers[INT8B] + ts.Tiers[INT4B] + ts.Tiers[INT2B]
		if (n > 0) != c.blocks || ts.BytesAfter > budget {
			t.Fatalf("blocks of %d: tiers %v, %d bytes for a budget of %d", c.block, ts.Tiers, ts.BytesAfter, budget)
		}
	}
	// The least budget every tier allows (every row int2-block, its
	// parameters alone stored) is met: the other block tiers' parameters,
	// charged while they are allowed, are left out with them.
	least, err := MinBytes(in, all, RowsOnly)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := Assign(in, Rule{By: ByBudget, Budget: least, Allowed: all}, RowsOnly)
	if err != nil {
		t.Fatalf("the least budget, %d: %v", least, err)
	}
	if ts, _ := StatsOf(8, in[0].Stats, fns[0], RowsOnly); ts.BytesAfter > least || ts.Tiers[INT2B] == 0 {
		t.Fatalf("the least budget, %d: %d bytes, tiers %v", least, ts.BytesAfter, ts.Tiers)
	}
	// A byte less is refused, naming the least, not the least of every
	// tier at once (which counts every block tier's parameters).
	_, err = Assign(in, Rule{By: ByBudget, Budget: least - 1, Allowed: all}, RowsOnly)
	if want := fmt.Sprintf("takes %d bytes, over the budget of %d", least, least-1); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), want) {
		t.Fatalf("a budget of the least less a byte: %v; want %q", err, want)
	}
}

// wideStore indexes a table at 2 bits a row while it uses the default
// tiers only, at 4 bits once it uses a later one (as .shark files do):
// the size jumps up at the first int2 row, and the solver, charging the
// wider index while int2 is allowed, still meets budgets down to the
// least, in exact bytes.
var wideStore = Storage{
	TableBytes: func(dim int, c [NumTiers]int64) int64 { return wideOr(dim, c, false) },
	WideBytes:  func(dim int, c [NumTiers]int64) int64 { return wideOr(dim, c, true) },
}

func wideOr(dim int, c [NumTiers]int64, wide bool) int64 {
	var rows, b int64
	for t, n := range c {
		rows += n
		b += n * int64(Tier(t).RowBytes(dim))
		wide = wide || (t >= DefaultTiers && n > 0)
	}
	if wide {
		return b + (rows+1)/2
	}
	return b + (rows+3)/4
}

func TestSolverChargesTheWideIndex(t *testing.T) {
	tables := zipfTables4(13, []int{3000, 2000}, 8)
	in := []StatTable{{Dim: 8, Stats: tables[0].stats}, {Dim: 8, Stats: tables[1].stats}}
	al := DefaultAllowed()
	al[INT2] = true
	least, err := MinBytes(in, al, wideStore)
	if err != nil {
		t.Fatal(err)
	}
	var budgets []int64
	for k := int64(0); k <= 40; k++ {
		budgets = append(budgets, least+least*k/20)
	}
	for _, budget := range budgets {
		d, err := SolveStream(in, budget, al, wideStore) // the solve with int2, which Assign weighs
		if err != nil {
			t.Fatalf("budget %d (least %d): %v", budget, least, err)
		}
		var total int64
		for _, tb := range in {
			ts, err := StatsOf(tb.Dim, tb.Stats, d.TierFunc(tb.Dim), wideStore)
			if err != nil {
				t.Fatal(err)
			}
			total += ts.BytesAfter
		}
		if total > budget {
			t.Fatalf("budget %d: %d bytes", budget, total)
		}
	}
}

// A row of zeros (a padding row: +0s, or -0s) in a block of values on both
// sides of 0
// cannot take a block tier whose parameters decode it to anything else:
// its priority is often 0, so only an infinite error keeps the solver
// from it. Where the block decodes it to zeros, it is measured as usual.
func TestBlockTiersKeepZeroRows(t *testing.T) {
	const rows, dim = 40, 16
	tb := &Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = -1 + float32(i%7)*0.6
	}
	clear(tb.Data[0:dim]) // row 0: +0s
	for i := range dim {
		tb.Data[5*dim+i] = float32(math.Copysign(0, -1)) // row 5: -0s
	}
	for i := range 20 * dim { // rows 20..39: a block of zeros and values near 0
		tb.Data[20*dim+i] = float32(i%3) * 1e-3
	}
	clear(tb.Data[25*dim : 26*dim])
	m := Measure{Tiers: AllTiers(), Block: 20}
	var got []RowStat
	if err := MeasureStatsWith(tb, nil, m, func(_ int, s RowStat) error { got = append(got, s); return nil }, nil); err != nil {
		t.Fatal(err)
	}
	for _, tr := range []Tier{INT8B, INT4B, INT2B} {
		for _, r := range []int{0, 5} {
			if !math.IsInf(got[r].Err(tr), 1) {
				t.Fatalf("row %d of zeros in a block of values from -1 to 2.6: %v error %v, want +Inf", r, tr, got[r].Err(tr))
			}
		}
		if e := got[3].Err(tr); e == 0 || math.IsInf(e, 1) {
			t.Fatalf("row 3 (values): %v error %v", tr, e)
		}
		if got[25].Err(tr) != 0 { // a block of bias 0 keeps zeros zero
			t.Fatalf("row 25 of zeros in a block with bias 0: %v error %v", tr, got[25].Err(tr))
		}
	}
	for _, tr := range []Tier{INT8, INT4, INT2} {
		if got[0].Err(tr) != 0 {
			t.Fatalf("row 0 of zeros: %v error %v, want 0", tr, got[0].Err(tr))
		}
	}
}
