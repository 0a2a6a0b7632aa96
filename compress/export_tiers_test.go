package compress

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/core/kernels"
	"shark/formats"
	"shark/formats/sharkfile"
	"shark/internal/pyref"
)

// laterTable is a table whose rows take every tier in tiers, and its
// float32 values as PyTorch reads them.
type laterTable struct {
	name  string
	tb    *core.Table
	tiers []core.Tier
}

// writeLaterTiers writes a .shark file of tables of widths 16 and 10 whose
// rows take the given tiers at random, and returns its path and tables.
func writeLaterTiers(t *testing.T, dir string, tiers []core.Tier) (string, []laterTable) {
	r := rand.New(rand.NewPCG(24, 2))
	var tables []laterTable
	path := filepath.Join(dir, "later.shark")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := sharkfile.NewWriter(f) // a file: made version 2 by its first wide table
	if err != nil {
		t.Fatal(err)
	}
	for i, dim := range []int{16, 10} {
		lt := laterTable{name: []string{"emb.weight", "odd.weight"}[i], tb: &core.Table{R: 2000, D: dim, Data: make([]float32, 2000*dim)}}
		for k := range lt.tb.Data {
			lt.tb.Data[k] = float32(r.NormFloat64() * (1 + float64(k/dim%7)))
		}
		for range lt.tb.R {
			lt.tiers = append(lt.tiers, tiers[r.IntN(len(tiers))])
		}
		if err := w.WriteTable(lt.name, lt.tb, lt.tiers, sharkfile.TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, lt)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tables
}

// torchBag is a batch of bags of one tier's rows and their sums, pooled as
// PyTorch's quantized operator pools them (kernels.AddRowNBitTorch), as
// float32 bits.
type torchBag struct {
	Table   string   `json:"table"`
	Tier    string   `json:"tier"`
	Bits    int      `json:"bits"`
	Ranks   []int64  `json:"ranks"`
	Offsets []int64  `json:"offsets"`
	Sums    []uint32 `json:"sums"`
}

// torchBags pools random bags of each table's rows of each quantized tier
// below 8 bits, from shark's rows made rowwise, in PyTorch's order.
func torchBags(t *testing.T, rd *sharkfile.Reader, tiers []core.Tier) []torchBag {
	r := rand.New(rand.NewPCG(5, 5))
	var out []torchBag
	for _, tbl := range rd.Tables() {
		for _, tier := range tiers {
			bits := tier.Bits()
			if bits != 2 && bits != 4 {
				continue
			}
			ids := tbl.IDs(tier)
			if len(ids) == 0 {
				t.Fatalf("table %s: no %v rows", tbl.Name(), tier)
			}
			c := torchBag{Table: tbl.Name(), Tier: tier.String(), Bits: bits}
			dim := tbl.Dim()
			for range 50 {
				c.Offsets = append(c.Offsets, int64(len(c.Ranks)))
				sum := make([]float32, dim)
				for range r.IntN(12) {
					k := r.IntN(len(ids))
					c.Ranks = append(c.Ranks, int64(k))
					rt, row, err := tbl.RowwiseRow(int(ids[k]), nil)
					if err != nil || rt != tier.Rowwise() {
						t.Fatalf("row %d: %v %v", ids[k], rt, err)
					}
					kernels.AddRowNBitTorch(bits, sum, row)
				}
				for _, v := range sum {
					c.Sums = append(c.Sums, math.Float32bits(v))
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// int2 rows exported for PyTorch are embedding_bag_2bit_prepack's rows of
// the source rows, and embedding_bag_2bit_rowwise_offsets pools them to
// the sums of shark's rows, bit for bit.
func TestTorchServesInt2(t *testing.T) {
	pyref.Require(t, "torch", "numpy")
	tiers := []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2}
	testTorchServes(t, tiers)
}

// The block tiers' rows, expanded to rowwise rows (each row's codes with
// its block's scale and bias), are served by PyTorch's 4- and 2-bit
// operators exactly too.
func TestTorchServesBlockTiers(t *testing.T) {
	pyref.Require(t, "torch", "numpy")
	testTorchServes(t, allTiers)
}

var allTiers = []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2, core.INT8B, core.INT4B, core.INT2B}

func testTorchServes(t *testing.T, tiers []core.Tier) {
	dir := t.TempDir()
	path, tables := writeLaterTiers(t, dir, tiers)
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	exported := filepath.Join(dir, "tiers.pt")
	if err := ExportFile(in, "pt", Torch, exported); err != nil {
		t.Fatal(err)
	}
	rd, _ := in.Shark()
	b, _ := json.Marshal(torchBags(t, rd, tiers))
	os.WriteFile(filepath.Join(dir, "bags.json"), b, 0o644)
	var names []string
	for _, lt := range tables {
		var raw []byte
		for _, v := range lt.tb.Data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		os.WriteFile(filepath.Join(dir, lt.name+".f32"), raw, 0o644)
		names = append(names, lt.name+":"+strings.Repeat("x", lt.tb.D))
	}
	out := pyref.RunWith(t, []string{"torch", "numpy"}, `
import sys, os, json, warnings, numpy as np, torch
warnings.simplefilter("error")
d, exported = sys.argv[1], sys.argv[2]
sd = torch.load(exported, weights_only=True)
ops = {2: torch.ops.quantized.embedding_bag_2bit_rowwise_offsets, 4: torch.ops.quantized.embedding_bag_4bit_rowwise_offsets}
n = 0
for b in json.load(open(os.path.join(d, "bags.json"))):
    w = sd[b["table"] + "." + b["tier"] + ".rows"]
    got = ops[b["bits"]](w, torch.tensor(b["ranks"], dtype=torch.int64), torch.tensor(b["offsets"], dtype=torch.int64), False, 0, False, None, None, False)
    want = torch.from_numpy(np.array(b["sums"], dtype=np.uint32).view(np.float32)).reshape(got.shape[0], -1)
    got = got[:, :want.shape[1]].contiguous()  # a width short of a whole byte of codes gives more columns
    same = (got.view(torch.int32) == want.view(torch.int32)) | (torch.isnan(got) & torch.isnan(want))
    assert bool(same.all()), (b["table"], b["tier"], (~same).sum().item())
    n += 1
for spec in sys.argv[3:]:
    name, dim = spec.split(":")[0], len(spec.split(":")[1])
    x = torch.from_numpy(np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4").reshape(-1, dim))
    if dim % 4 == 0 and name + ".int2.rows" in sd:  # the 2-bit prepack takes widths that are a multiple of 4 alone
        packed = torch.ops.quantized.embedding_bag_2bit_prepack(x[sd[name + ".int2.ids"]])
        assert torch.equal(packed, sd[name + ".int2.rows"]), name + ": int2 rows differ from embedding_bag_2bit_prepack"
        n += 1
print(n)
`, append([]string{dir, exported}, names...)...)
	if strings.TrimSpace(out) == "0" {
		t.Fatal("PyTorch compared nothing")
	}
	t.Logf("PyTorch's operators checked %s batches and prepacks", strings.TrimSpace(out))
}

// Every layout decodes the later tiers: the dequantized export holds
// shark's rows, the tiers export each tier's rows as rowwise rows (a block
// tier's codes with its block's scale and bias) under their ids, and the
// torch export the same rows but int8's widened.
func TestExportLaterTiers(t *testing.T) {
	testExportTiers(t, []core.Tier{core.FP32, core.FP16, core.INT8, core.INT4, core.INT2})
	testExportTiers(t, allTiers)
}

func testExportTiers(t *testing.T, tiers []core.Tier) {
	dir := t.TempDir()
	path, _ := writeLaterTiers(t, dir, tiers)
	in, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rd, _ := in.Shark()
	opened := map[Layout]*Input{}
	for _, l := range []Layout{Dequantized, Tiers, Torch} {
		out := filepath.Join(dir, string(l)+".npz")
		if err := ExportFile(in, "npz", l, out); err != nil {
			t.Fatal(err)
		}
		if opened[l], err = Open(out); err != nil {
			t.Fatal(err)
		}
		defer opened[l].Close()
	}
	for _, tbl := range rd.Tables() {
		dq, err := opened[Dequantized].File.Tensor(tbl.Name())
		if err != nil {
			t.Fatal(err)
		}
		vals, err := dq.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]float32, tbl.Dim())
		for r := range tbl.Rows() {
			tbl.Row(r, row)
			for j, v := range row {
				if math.Float32bits(vals[r*tbl.Dim()+j]) != math.Float32bits(v) {
					t.Fatalf("%s row %d: dequantized export %v, shark %v", tbl.Name(), r, vals[r*tbl.Dim():(r+1)*tbl.Dim()], row)
				}
			}
		}
		for _, tier := range tiers {
			checkTierExport(t, tbl, tier, opened[Tiers].File, opened[Torch].File)
		}
	}
}

// checkTierExport compares a tier's ids and rows in the tiers and torch
// exports with shark's.
func checkTierExport(t *testing.T, tbl *sharkfile.Table, tier core.Tier, tiersFile, torchFile *formats.File) {
	prefix := tbl.Name() + "." + tier.String()
	ids := tbl.IDs(tier)
	var wantIDs, wantRows []byte
	for _, id := range ids {
		wantIDs = binary.LittleEndian.AppendUint64(wantIDs, uint64(id))
		var err error
		if _, wantRows, err = tbl.RowwiseRow(int(id), wantRows); err != nil {
			t.Fatal(err)
		}
	}
	if got := tensorBytes(t, tiersFile, prefix+".ids"); string(got) != string(wantIDs) {
		t.Fatalf("%s.ids: not shark's ids", prefix)
	}
	if got := tensorBytes(t, tiersFile, prefix+".rows"); string(got) != string(wantRows) {
		t.Fatalf("%s.rows: %d bytes, not shark's %d bytes of rowwise rows", prefix, len(got), len(wantRows))
	}
	if tier.Rowwise() == core.INT8 {
		return // widened: TestTorchLayoutNPZ
	}
	if got := tensorBytes(t, torchFile, prefix+".rows"); string(got) != string(wantRows) {
		t.Fatalf("%s.rows in the torch layout: not the tiers layout's rows", prefix)
	}
}

func tensorBytes(t *testing.T, f *formats.File, name string) []byte {
	tn, err := f.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := tn.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
