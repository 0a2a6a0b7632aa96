package modelfile

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/ctr/internal/ctrtest"
	"shark/ctr/pipeline"
)

func TestSaveLoad(t *testing.T) {
	enc, ds, _ := ctrtest.SynthData(t, 3000, 6)
	m, train, valid := ctrtest.Trained(t, ds, 2)
	want, _ := m.Evaluate(valid)
	dir := t.TempDir()
	p := filepath.Join(dir, "m.shark")
	if err := Save(p, m, enc, Record{}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.Model.Evaluate(valid)
	l.Close()
	if got != want || l.Compressed {
		t.Fatalf("reloaded model scores %+v, want %+v", got, want)
	}
	// Compressed: the file, read with dequantize-on-lookup, scores exactly
	// what the in-memory compressed model scored.
	opt := pipeline.DefaultOptions(ctrtest.Budget(0.4))
	res, err := pipeline.Compress(m, train, valid, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, m, enc, Record{Method: res.Method, Scores: res.Scores}); err != nil {
		t.Fatal(err)
	}
	l, err = Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, _ = l.Model.Evaluate(valid)
	if !l.Compressed || got.AUC != res.AUCAfter || math.Abs(got.LogLoss-res.LogLossAfter) > 0 {
		t.Fatalf("compressed file scores %+v, in memory %v/%v", got, res.AUCAfter, res.LogLossAfter)
	}
	if err := l.File.Verify(); err != nil {
		t.Fatal(err)
	}
	// The file holds the rows evaluated in memory, byte for byte: they are
	// written as encoded, never decoded and encoded again.
	for _, f := range m.Slots {
		mx := m.Emb[f].(*core.Mixed)
		tbl, err := l.File.Table(TableName(m.Fields[f]))
		if err != nil {
			t.Fatal(err)
		}
		for tr := core.Tier(0); tr < core.NumTiers; tr++ {
			got, err := io.ReadAll(tbl.TierReader(tr))
			if err != nil || !bytes.Equal(got, mx.TierRows(tr)) {
				t.Fatalf("field %s, %v rows: the file differs from the evaluated table (%v)", m.Fields[f], tr, err)
			}
		}
	}
}

// A model whose tables hold rows of every tier, the block tiers among
// them, is saved with its block parameters: the file scores what the
// model scored, holds its rows as encoded, and saved again from the
// loaded file (rows as stored) gives the same file.
func TestSaveLoadEveryTier(t *testing.T) {
	enc, ds, _ := ctrtest.SynthData(t, 3000, 6)
	m, _, valid := ctrtest.Trained(t, ds, 2)
	for _, f := range m.Slots {
		tiers := make([]core.Tier, m.Emb[f].Rows())
		for r := range tiers {
			tiers[r] = core.Tier((r + f) % core.NumTiers)
		}
		mx, err := core.EncodeBlocks(m.Emb[f], tiers, 16)
		if err != nil {
			t.Fatal(err)
		}
		m.Emb[f] = mx
	}
	want, _ := m.Evaluate(valid)
	dir := t.TempDir()
	p, again := filepath.Join(dir, "m.shark"), filepath.Join(dir, "again.shark")
	if err := Save(p, m, enc, Record{}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(p, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got, _ := l.Model.Evaluate(valid); got != want || !l.Compressed {
		t.Fatalf("the file scores %+v, the model %+v", got, want)
	}
	if err := l.File.Verify(); err != nil {
		t.Fatal(err)
	}
	sawBlocks := false
	for _, f := range m.Slots {
		tbl, _ := l.File.Table(TableName(m.Fields[f]))
		c := tbl.Counts()
		if blocks := c[core.INT8B] + c[core.INT4B] + c[core.INT2B]; (blocks > 0) != (tbl.Block() == 16) {
			t.Fatalf("field %s: %d block-tier rows in blocks of %d rows, want 16", m.Fields[f], blocks, tbl.Block())
		}
		sawBlocks = sawBlocks || tbl.Block() == 16
		for tr := core.Tier(0); tr < core.NumTiers; tr++ {
			got, err := io.ReadAll(tbl.TierReader(tr))
			if err != nil || !bytes.Equal(got, m.Emb[f].(*core.Mixed).TierRows(tr)) {
				t.Fatalf("field %s, %v rows: the file differs from the evaluated table (%v)", m.Fields[f], tr, err)
			}
		}
	}
	if !sawBlocks {
		t.Fatal("no table took a block tier")
	}
	if err := Save(again, l.Model, enc, Record{}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(p)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Fatalf("saved again from the file: %d bytes, the file %d, and they differ", len(b), len(a))
	}
}
