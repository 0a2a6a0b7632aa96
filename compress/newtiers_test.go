package compress

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/formats/sharkfile"
)

// The tiers after int4, opt-in: budgets below what the default tiers can
// reach are met, in the written file's bytes, with int2 alone (the solver
// charging the wider index of a table that uses it: a 12% budget failed
// without that) and with every tier; every row reads back as its tier's
// encoding decodes it (a block tier's with its block's parameters), and
// the stats recorded are those of the rows read back.
func TestNewTiersMeetBudgetsBelowTheDefaultTiers(t *testing.T) {
	in := openNCF(t)
	for _, c := range []struct {
		tiers  string
		budget float64
		block  int
	}{{"fp32,fp16,int8,int4,int2", 0.12, 0}, {"all", 0.12, 0}, {"all", 0.08, 0}, {"all", 0.10, 17}} {
		s := DefaultSettings()
		s.Tiers, s.Budget, s.Block, s.Created = c.tiers, c.budget, c.block, 1
		p, err := NewPlan(in, s, Env{})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		var stored, later int64
		for _, tp := range p.Tables {
			stored += tp.Summary.BytesAfter
			for tr := core.Tier(core.DefaultTiers); tr < core.NumTiers; tr++ {
				later += tp.Summary.Tiers[tr]
			}
		}
		if stored > p.Budget || later == 0 {
			t.Fatalf("%+v: %d bytes for a budget of %d, %d rows in the later tiers", c, stored, p.Budget, later)
		}
		out := filepath.Join(t.TempDir(), "q.shark")
		if err := p.WriteFile(out); err != nil {
			t.Fatal(err)
		}
		var stream bytes.Buffer // a stream, declared version 2 from its start: the same bytes
		if err := p.Write(&stream); err != nil {
			t.Fatal(err)
		}
		p.Close()
		if file, err := os.ReadFile(out); err != nil || !bytes.Equal(file, stream.Bytes()) {
			t.Fatalf("%+v: the file and the stream differ (%v)", c, err)
		}
		checkRowsDecode(t, out, stored)
	}
}

// checkRowsDecode reads every table of a written file back, checks its
// blocks' bytes total stored, and its rows against an independent decode.
func checkRowsDecode(t *testing.T, path string, stored int64) {
	t.Helper()
	rd, err := sharkfile.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var total int64
	for _, e := range rd.Header.Tensors {
		if e.Kind != sharkfile.KindTable || e.Codes == nil {
			continue
		}
		for _, blk := range append([]*sharkfile.Block{e.Codes, e.Dir, e.Params}, e.Rows...) {
			if blk != nil {
				total += sharkfile.AlignUp(blk.Len)
			}
		}
		tb, err := rd.Table(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		src := openNCF(t)
		ft, _ := src.File.Tensor(e.Name)
		rows, err := Rows(src.File, ft)
		if err != nil {
			t.Fatal(err)
		}
		bp := tb.BlockParams()
		dim := tb.Dim()
		want, got, orig := make([]float32, dim), make([]float32, dim), make([]float32, dim)
		for r := range tb.Rows() {
			tr := tb.Tier(r)
			if err := rows.Row(r, orig); err != nil {
				t.Fatal(err)
			}
			b := make([]byte, tr.RowBytes(dim))
			if tr.Block() {
				s, bias := bp.Of(tr, r)
				core.EncodeBlockRow(tr, b, orig, s, bias)
				core.DecodeBlockRow(tr, want, b, s, bias)
			} else {
				core.EncodeRow(tr, b, orig)
				core.DecodeRow(tr, want, b)
			}
			if err := tb.Row(r, got); err != nil {
				t.Fatal(err)
			}
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("%s row %d (%v) value %d: read %v, encoded and decoded %v", e.Name, r, tr, j, got[j], want[j])
				}
			}
		}
	}
	if total != stored {
		t.Fatalf("the tables take %d bytes in the file, the plan counted %d", total, stored)
	}
}

// A plan's tier codes keep every tier, the ones after int4 too, in memory
// and spilled (they were 2 bits a row: int2 read back as fp32).
func TestTierCodesHoldEveryTier(t *testing.T) {
	defer func(v int) { codesInMemory = v }(codesInMemory)
	for _, inMem := range []int{1 << 26, 0} {
		codesInMemory = inMem
		const n = 1001
		c, err := newTierCodes(n)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]core.Tier, n)
		for r := range want {
			want[r] = core.Tier((r*7 + r/3) % core.NumTiers)
		}
		for lo := 0; lo < n; lo += 100 { // shards of a multiple of 4 rows
			if err := c.put(lo, want[lo:min(n, lo+100)]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := c.get(3, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range got {
			if tr != want[3+i] {
				t.Fatalf("in memory up to %d rows: row %d read %v, put %v", inMem, 3+i, tr, want[3+i])
			}
		}
		seen := 0
		err = c.Scan(func(r int, tr core.Tier) error {
			if tr != want[r] || r != seen {
				t.Fatalf("scan: row %d (%d seen) %v, put %v", r, seen, tr, want[r])
			}
			seen++
			return nil
		})
		if err != nil || seen != n {
			t.Fatalf("scan: %v, %d rows", err, seen)
		}
		c.close()
	}
}
