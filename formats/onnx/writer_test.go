package onnx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core/kernels"
	"shark/formats"
	"shark/internal/pyref"
)

// synth is a table of rows × dim in shark's tier layouts, row r in tier
// (r*7+seed)%4, and the rows shark decodes from it.
func synth(nm string, rows, dim int, d formats.DType, seed int) (Table, []float32) {
	return synthTiers(nm, rows, dim, d, seed, 4, 0)
}

// synthTiers is synth over the first nt tiers, row r in (r*7+seed)%nt,
// the block tiers in blocks of block rows, their codes random and each
// block's scale and bias too.
func synthTiers(nm string, rows, dim int, d formats.DType, seed, nt, block int) (Table, []float32) {
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	t := Table{Name: nm, Rows: int64(rows), Dim: dim, DType: d, Block: block}
	tier := func(r int) int { return (r*7 + seed) % nt }
	for r := range rows {
		t.Counts[tier(r)]++
	}
	params := synthParams(&t, rng)
	var start, rank [NumTiers]int64
	for i := 1; i < NumTiers; i++ {
		start[i] = start[i-1] + t.Counts[i-1]
	}
	var bufs [NumTiers][]byte
	var index []byte
	want := make([]float32, rows*dim)
	vals := make([]float32, dim)
	for r := range rows {
		for i := range vals {
			vals[i] = float32(rng.NormFloat64() * 0.1)
		}
		dst := want[r*dim : (r+1)*dim]
		switch k := tier(r); {
		case k == 0:
			for _, v := range vals {
				bufs[0] = binary.LittleEndian.AppendUint32(bufs[0], math.Float32bits(v))
			}
			copy(dst, vals)
		case k == 1:
			b := make([]byte, 2*dim)
			kernels.FloatsToHalfBytes(b, vals)
			kernels.HalfBytesToFloats(dst, b)
			bufs[1] = append(bufs[1], b...)
		case blockTier(k):
			b := make([]byte, codeBytes(k, dim))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			bufs[k] = append(bufs[k], b...)
			kernels.DequantizeRow(tierBits[k], dst, append(b, params[k][4*(r/block):4*(r/block)+4]...))
		default:
			b := make([]byte, kernels.RowBytes(tierBits[k], dim))
			kernels.QuantizeRow(tierBits[k], b, vals)
			kernels.DequantizeRow(tierBits[k], dst, b)
			bufs[k] = append(bufs[k], b...)
		}
		index = binary.LittleEndian.AppendUint32(index, uint32(start[tier(r)]+rank[tier(r)]))
		rank[tier(r)]++
	}
	t.Index = constant(index)
	for k := range bufs {
		t.Tiers[k] = constant(bufs[k])
	}
	return t, want
}

// synthParams gives t's block tiers holding rows a random fp16 scale and
// bias a block, t.Params streaming them as a .shark table stores them;
// it returns each tier's, 4 bytes a block.
func synthParams(t *Table, rng *rand.Rand) [NumTiers][]byte {
	var per [NumTiers][]byte
	bt := t.blockTiers()
	if len(bt) == 0 {
		return per
	}
	var all []byte
	for range t.blocks() {
		for _, k := range bt {
			b := make([]byte, 4)
			kernels.FloatsToHalfBytes(b, []float32{float32(0.001 + 0.01*rng.Float64()), float32(-0.1 * rng.Float64())})
			per[k] = append(per[k], b...)
			all = append(all, b...)
		}
	}
	t.Params = constant(all)
	return per
}

func encode(t testing.TB, md *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := md.Write(&b); err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != md.Size() {
		t.Fatalf("wrote %d bytes of a model of %d", b.Len(), md.Size())
	}
	return b.Bytes()
}

// readRows reads a tensor's float32 rows.
func readRows(t *testing.T, ft *formats.Tensor) []float32 {
	t.Helper()
	rc, err := ft.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("%s: %v", ft.Name, err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func checkTable(t *testing.T, f *formats.File, tb Table, want []float32) {
	t.Helper()
	ft, err := f.Tensor(tb.Name)
	if err != nil {
		t.Fatal(err)
	}
	if ft.Tiers == nil || *ft.Tiers != tb.Counts || ft.Stored <= 0 || len(ft.GatheredBy) == 0 {
		t.Fatalf("%s read back as %+v", tb.Name, ft)
	}
	got := readRows(t, ft)
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s value %d: %v, shark decodes %v", tb.Name, i, got[i], want[i])
		}
	}
	for _, other := range f.Tensors {
		if strings.HasPrefix(other.Name, Prefix(tb.Name)+".") {
			t.Fatalf("the lookup's part %q is listed beside its table", other.Name)
		}
	}
}

func lookupModel(t testing.TB) ([]byte, []Table, [][]float32) {
	a, wa := synth("user", 37, 13, formats.F32, 1)
	b, wb := synth("item.weight", 9, 4, formats.F16, 2)
	c, wc := synthTiers("every.tier", 53, 13, formats.F32, 3, NumTiers, 5)
	tables := []Table{a, b, c}
	md, err := Lookups(tables, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return encode(t, md), tables, [][]float32{wa, wb, wc}
}

// A lookups-only model reads back as its compressed tables: tiers, stored
// bytes, and rows bit for bit as shark decodes them.
func TestLookupsReadBack(t *testing.T) {
	b, tables, want := lookupModel(t)
	f, err := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 3 || !strings.Contains(f.Meta["onnx.quantized_lookup.user"], "37 × 13 F32, tiers fp32/fp16/int8/int4 9/10/9/9:") ||
		!strings.Contains(f.Meta["onnx.quantized_lookup.every.tier"], "tiers fp32/fp16/int8/int4/int2/int8-block/int4-block/int2-block 7/7/7/7/6/6/6/7 in blocks of 5 rows") {
		t.Fatalf("%d tensors, meta %v", len(f.Tensors), f.Meta)
	}
	for i, tb := range tables {
		checkTable(t, f, tb, want[i])
	}
}

// Past the size given, the model keeps its initializers in a data file
// beside it, which the reader follows.
func TestLookupsExternalData(t *testing.T) {
	a, wa := synth("user", 300, 16, formats.F32, 3)
	md, err := Lookups([]Table{a}, Options{DataName: "m.onnx.data", ExternalAbove: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if md.External() != "m.onnx.data" {
		t.Fatalf("external data %q", md.External())
	}
	dir := t.TempDir()
	model := encode(t, md)
	var data bytes.Buffer
	if err := md.WriteData(&data); err != nil {
		t.Fatal(err)
	}
	if len(model) > 12<<10 || data.Len() < 300*8 {
		t.Fatalf("model %d bytes, data %d", len(model), data.Len())
	}
	os.WriteFile(filepath.Join(dir, "m.onnx"), model, 0o644)
	os.WriteFile(filepath.Join(dir, "m.onnx.data"), data.Bytes(), 0o644)
	checkTable(t, open(t, filepath.Join(dir, "m.onnx")), a, wa)
	if _, err := Lookups([]Table{a}, Options{DataName: "../x", ExternalAbove: 2048}); !errors.Is(err, formats.ErrUnsupported) {
		t.Fatalf("a data file named ../x: %v", err)
	}
}

// A lookup whose index points past its tiers, or whose metadata lies, is
// an error, not a panic or a wrong row.
func TestQuantizedLookupCorrupt(t *testing.T) {
	a, _ := synth("t", 8, 4, formats.F32, 0)
	bad := []byte{0xff, 0xff, 0, 0}
	a.Index = func() (io.Reader, error) {
		ix, _ := synthIndex(8, 0)
		return io.MultiReader(bytes.NewReader(ix[:28]), bytes.NewReader(bad)), nil
	}
	md, err := Lookups([]Table{a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := encode(t, md)
	f, err := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := f.Tensor("t")
	rc, _ := ft.Open()
	if _, err := io.ReadAll(rc); !errors.Is(err, formats.ErrCorrupt) || !strings.Contains(err.Error(), "row 7's index 65535") {
		t.Fatalf("an index past the tiers: %v", err)
	}
	lied := bytes.Replace(b, []byte("rows=8 dim=4"), []byte("rows=8 dim=5"), 1)
	if _, err := formats.OpenReaderAt(bytes.NewReader(lied), int64(len(lied))); !errors.Is(err, formats.ErrCorrupt) {
		t.Fatalf("metadata of another width: %v", err)
	}
}

// synthIndex is synth's index bytes.
func synthIndex(rows, seed int) ([]byte, error) {
	tb, _ := synth("x", rows, 1, formats.F32, seed)
	r, _ := tb.Index()
	return io.ReadAll(r)
}

// replaced is checked by onnx itself: the model passes check_model; every
// node but the Gathers of the tables, and every initializer but theirs, is
// the original's, in order; no node reads a table.
const replaced = `
import sys, onnx, onnx.numpy_helper
orig, new, tables = onnx.load(sys.argv[1]), onnx.load(sys.argv[2]), set(sys.argv[3].split(","))
onnx.checker.check_model(new, full_check=True)
kept = [n for n in orig.graph.node if not (n.op_type == "Gather" and n.input[0] in tables)]
ours = [n for n in new.graph.node if not n.name.startswith(tuple(t + ".shark/" for t in tables))]
assert [n.SerializeToString() for n in kept] == [n.SerializeToString() for n in ours], "nodes"
assert not any(i in tables for n in new.graph.node for i in n.input), "a node still reads a table"
oi = {i.name: onnx.numpy_helper.to_array(i) for i in orig.graph.initializer if i.name not in tables}
ni = {i.name: onnx.numpy_helper.to_array(i) for i in new.graph.initializer if i.name in oi}
assert oi.keys() == ni.keys() and all((oi[k] == ni[k]).all() for k in oi), "initializers"
print(len(kept), len(new.graph.node))
`

// Replace keeps a model's graph and swaps its tables' Gathers for lookups,
// for a torch.onnx.export model, a model of every dtype, and a model whose
// data is external (copied into the new model, or its own data file).
func TestReplace(t *testing.T) {
	dir := models(t)
	cases := []struct {
		path   string
		tables map[string][2]int
		limit  int64
	}{
		{"torch.onnx", map[string][2]int{"user.weight": {1000, 16}, "item.weight": {500, 8}}, 0},
		{"typed.onnx", map[string][2]int{"table": {2000, 4}}, 0},
		{"ext/model.onnx", map[string][2]int{"user.weight": {1000, 16}}, 0},
		{"ext/model.onnx", map[string][2]int{"user.weight": {1000, 16}, "item.weight": {500, 8}}, 4096},
	}
	for i, c := range cases {
		src := filepath.Join(dir, c.path)
		f := open(t, src)
		var tables []Table
		var want [][]float32
		var names []string
		for nm, s := range c.tables {
			tb, w := synth(nm, s[0], s[1], formats.F32, i)
			tables, want, names = append(tables, tb), append(want, w), append(names, nm)
		}
		osf, _ := os.Open(src)
		st, _ := osf.Stat()
		md, err := Replace(osf, st.Size(), f, tables, Options{DataName: "new.onnx.data", ExternalAbove: c.limit})
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		out := t.TempDir()
		newPath := filepath.Join(out, "new.onnx")
		os.WriteFile(newPath, encode(t, md), 0o644)
		if (md.External() != "") != (c.limit > 0) {
			t.Fatalf("%s: external data %q at a limit of %d", c.path, md.External(), c.limit)
		}
		if md.External() != "" {
			var data bytes.Buffer
			if err := md.WriteData(&data); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(out, md.External()), data.Bytes(), 0o644)
		}
		osf.Close()
		nf := open(t, newPath)
		for k, tb := range tables {
			checkTable(t, nf, tb, want[k])
		}
		pyref.RunWith(t, []string{"onnx"}, replaced, src, newPath, strings.Join(names, ","))
	}
}

// Replace refuses what it cannot do faithfully: a table of another shape,
// a table the graph lacks, a model before opset 13.
func TestReplaceRefuses(t *testing.T) {
	src := filepath.Join(models(t), "torch.onnx")
	f := open(t, src)
	osf, _ := os.Open(src)
	defer osf.Close()
	st, _ := osf.Stat()
	wrong, _ := synth("user.weight", 999, 16, formats.F32, 0)
	if _, err := Replace(osf, st.Size(), f, []Table{wrong}, Options{}); !errors.Is(err, formats.ErrUnsupported) {
		t.Fatalf("a table of another shape: %v", err)
	}
	missing, _ := synth("nobody", 10, 16, formats.F32, 0)
	if _, err := Replace(osf, st.Size(), f, []Table{missing}, Options{}); !errors.Is(err, formats.ErrNotFound) {
		t.Fatalf("a table the graph lacks: %v", err)
	}
	b := tinyModel() // no opset_import: opset 1
	tf, _ := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
	tiny, _ := synth("table", 4, 3, formats.F32, 0)
	if _, err := Replace(bytes.NewReader(b), int64(len(b)), tf, []Table{tiny}, Options{}); !errors.Is(err, formats.ErrUnsupported) || !strings.Contains(err.Error(), "opset") {
		t.Fatalf("a model of opset 1: %v", err)
	}
}

// A graph shark exported already is refused as Replace's graph: its
// tables are quantized lookups, and rewriting it would add each lookup's
// parts a second time (a model with two initializers of one name).
func TestReplaceRefusesExported(t *testing.T) {
	src := filepath.Join(models(t), "torch.onnx")
	f := open(t, src)
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := synth("user.weight", 1000, 16, formats.F32, 0)
	md, err := Replace(bytes.NewReader(b), int64(len(b)), f, []Table{tb}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := encode(t, md)
	qf, err := formats.OpenReaderAt(bytes.NewReader(q), int64(len(q)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Replace(bytes.NewReader(q), int64(len(q)), qf, []Table{tb}, Options{})
	if !errors.Is(err, ErrExported) || !strings.Contains(err.Error(), `"user.weight"`) {
		t.Fatalf("an exported graph given again: %v", err)
	}
}

// DefaultOpset reads the default domain's version, as a graph's export
// needs it (MinOpset), and 1 of a model importing none.
func TestDefaultOpset(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(models(t), "torch.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := DefaultOpset(bytes.NewReader(b), int64(len(b))); err != nil || v < MinOpset {
		t.Fatalf("torch.onnx: opset %d, %v", v, err)
	}
	tiny := tinyModel()
	if v, err := DefaultOpset(bytes.NewReader(tiny), int64(len(tiny))); err != nil || v != 1 {
		t.Fatalf("a model importing no opset: %d, %v", v, err)
	}
}

// A lookup of every tier whose metadata lies about its blocks (none, or
// another size than its block parameters' tensors hold) is refused as
// corrupt, as is a table handed to the writer with block-tier rows but no
// blocks.
func TestLaterTiersMetaChecked(t *testing.T) {
	a, _ := synthTiers("t", 40, 6, formats.F32, 1, NumTiers, 4)
	md, err := Lookups([]Table{a}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := encode(t, md)
	for _, lie := range []string{"block=0", "block=3", "block=9"} {
		bad := bytes.Replace(b, []byte("block=4"), []byte(lie), 1)
		if bytes.Equal(bad, b) {
			t.Fatal("no block=4 in the metadata")
		}
		if _, err := formats.OpenReaderAt(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, formats.ErrCorrupt) {
			t.Fatalf("%s: %v", lie, err)
		}
	}
	a.Block = 0
	if _, err := Lookups([]Table{a}, Options{}); !errors.Is(err, formats.ErrCorrupt) {
		t.Fatalf("block-tier rows without blocks: %v", err)
	}
}
