package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shark/core"
	"shark/formats"
)

// A table written as parts of row ranges, opened through its manifest, is
// the table written whole: every row, every tier's ids and rows, pooled
// bags; and verify passes. Of every tier too, the block tiers in blocks
// that part boundaries do not cut (60 rows: parts of 300).
func TestPartsAreOneTable(t *testing.T) {
	for _, l := range []layout{narrowLayout, allTiers} {
		t.Run(l.name, func(t *testing.T) { testPartsAreOneTable(t, l) })
	}
}

func testPartsAreOneTable(t *testing.T, l layout) {
	const rows, dim = 1000, 12
	r := rand.New(rand.NewPCG(2, 2))
	tb := &core.Table{R: rows, D: dim, Data: make([]float32, rows*dim)}
	for i := range tb.Data {
		tb.Data[i] = float32(r.NormFloat64())
	}
	tiers := make([]core.Tier, rows)
	for i := range tiers {
		tiers[i] = l.tiers[r.IntN(len(l.tiers))]
	}
	write := func(path string, lo, hi int) {
		var buf bytes.Buffer
		w := l.writer(t, &buf)
		part := &core.Table{R: hi - lo, D: dim, Data: tb.Data[lo*dim : hi*dim]}
		if err := w.WriteTable("emb", part, tiers[lo:hi], TableInfo{SourceDType: formats.F32, Block: 60}, nil); err != nil {
			t.Fatal(err)
		}
		w.Close()
		os.WriteFile(path, buf.Bytes(), 0o644)
	}
	dir := t.TempDir()
	write(filepath.Join(dir, "whole.shark"), 0, rows)
	m := &Manifest{Table: "emb", Rows: rows, Dim: dim}
	for k, lo := range []int{0, 300, 600, 900} {
		hi := min(rows, lo+300)
		name := fmt.Sprintf("part-%d.shark", k)
		write(filepath.Join(dir, name), lo, hi)
		m.Parts = append(m.Parts, ManifestPart{File: name, Rows: int64(hi - lo)})
	}
	var mb bytes.Buffer
	WriteManifest(&mb, m)
	os.WriteFile(filepath.Join(dir, "emb.manifest"), mb.Bytes(), 0o644)
	whole, err := Open(filepath.Join(dir, "whole.shark"))
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()
	parts, err := Open(filepath.Join(dir, "emb.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	defer parts.Close()
	if err := parts.Verify(); err != nil {
		t.Fatal(err)
	}
	a, _ := whole.Table("emb")
	b, _ := parts.Table("emb")
	if a.Counts() != b.Counts() || b.Rows() != rows || b.Dim() != dim {
		t.Fatalf("counts %v and %v", a.Counts(), b.Counts())
	}
	ra, rb := make([]float32, dim), make([]float32, dim)
	for i := range rows {
		a.Row(i, ra)
		b.Row(i, rb)
		if fmt.Sprint(ra) != fmt.Sprint(rb) || a.Tier(i) != b.Tier(i) {
			t.Fatalf("row %d differs", i)
		}
	}
	for tier := core.Tier(0); tier < core.NumTiers; tier++ {
		ba, _ := io.ReadAll(a.TierReader(tier))
		bb, _ := io.ReadAll(b.TierReader(tier))
		if !bytes.Equal(ba, bb) || fmt.Sprint(a.IDs(tier)) != fmt.Sprint(b.IDs(tier)) {
			t.Fatalf("tier %v: the parts' rows or ids differ from the whole's", tier)
		}
		wa, _ := io.ReadAll(a.RowwiseTierReader(tier))
		wb, _ := io.ReadAll(b.RowwiseTierReader(tier))
		if !bytes.Equal(wa, wb) || len(wa) != len(a.IDs(tier))*tier.Rowwise().RowBytes(dim) {
			t.Fatalf("tier %v: the parts' rowwise rows differ from the whole's", tier)
		}
	}
	ids, offsets := []int{0, 299, 300, 999, 5, 650}, []int{0, 3, 6}
	pa, pb := make([]float32, 2*dim), make([]float32, 2*dim)
	if err := a.PoolBags(ids, offsets, true, pa); err != nil {
		t.Fatal(err)
	}
	if err := b.PoolBags(ids, offsets, true, pb); err != nil {
		t.Fatal(err)
	}
	for i := range pa {
		if d := pa[i] - pb[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("pooled %v and %v", pa, pb)
		}
	}
	// Through formats, as inspect and export open it.
	f, osf, err := formats.OpenFile(filepath.Join(dir, "emb.manifest"))
	if err != nil || f.Format != "shark-parts" || len(f.Tensors) != 1 || f.Tensors[0].Tiers == nil {
		t.Fatalf("%v %+v", err, f)
	}
	f.Close()
	osf.Close()
}

// A manifest's parts are read from its folder alone, by the opener that
// serving and model loading use as inspect does: a part linked from outside
// the folder, a manifest naming itself (it recursed until no file could be
// opened), two manifests naming each other, and a pipe are refused, at
// once; a link inside the folder is followed.
func TestPartsStayInFolder(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "model")
	os.Mkdir(dir, 0o755)
	var buf bytes.Buffer
	w, _ := NewWriter(&buf)
	if err := w.WriteTable("emb", &core.Table{R: 10, D: 4, Data: make([]float32, 40)}, make([]core.Tier, 10), TableInfo{SourceDType: formats.F32}, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	os.WriteFile(filepath.Join(root, "outside.shark"), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "inside.shark"), buf.Bytes(), 0o644)
	os.Symlink("../outside.shark", filepath.Join(dir, "escape.shark"))
	os.Symlink("inside.shark", filepath.Join(dir, "link.shark"))
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.shark"), 0o644); err != nil {
		t.Skip(err)
	}
	manifest := func(name string, part string) string {
		var mb bytes.Buffer
		WriteManifest(&mb, &Manifest{Table: "emb", Rows: 10, Dim: 4, Parts: []ManifestPart{{File: part, Rows: 10}}})
		p := filepath.Join(dir, name)
		os.WriteFile(p, mb.Bytes(), 0o644)
		return p
	}
	manifest("b.manifest", "a.manifest")
	for _, part := range []string{"escape.shark", "self.manifest", "b.manifest", "pipe.shark", "../outside.shark"} {
		done := make(chan error, 1)
		go func() {
			f, err := Open(manifest("self.manifest", part))
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "manifest's folder") {
				t.Errorf("part %s: %v", part, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("part %s: Open hangs", part)
		}
	}
	manifest("a.manifest", "b.manifest")
	if _, err := Open(filepath.Join(dir, "a.manifest")); err == nil {
		t.Error("two manifests naming each other opened")
	}
	f, err := Open(manifest("ok.manifest", "link.shark"))
	if err != nil {
		t.Fatalf("a link inside the folder: %v", err)
	}
	f.Close()
	if _, err := Open(filepath.Join(dir, "pipe.shark")); !errors.Is(err, formats.ErrNotRegular) {
		t.Errorf("a pipe opened alone: %v", err)
	}
}
