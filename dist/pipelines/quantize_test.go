package pipelines

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/compress"
	"shark/core"
	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
	"shark/formats/sharkfile"
)

// shardedTable writes a rows x dim table of Gaussian rows of varied scale
// as n .npy shards, and the whole as joined.npy, with access counts of the
// whole (two periods) as counts.npz; it returns the shards.
func shardedTable(t *testing.T, dir string, rows, dim, n int) []string {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 5))
	vals := make([]float32, rows*dim)
	for i := range rows {
		s := 0.02 * math.Exp(r.NormFloat64())
		for j := range dim {
			vals[i*dim+j] = float32(r.NormFloat64() * s)
		}
	}
	write := func(path string, v []float32) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := npy.Write(f, formats.F32, []int64{int64(len(v) / dim), int64(dim)}, bytes.NewReader(formats.EncodeFloat32(nil, v))); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "joined.npy"), vals)
	var shards []string
	per := rows / n
	for k := range n {
		p := filepath.Join(dir, fmt.Sprintf("shard-%02d.npy", k))
		write(p, vals[k*per*dim:min(rows, (k+1)*per)*dim])
		shards = append(shards, p)
	}
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	for _, suffix := range []string{".pos", ".neg"} {
		c := make([]byte, 0, 2*rows*8)
		z := rand.NewZipf(r, 1.2, 1, uint64(rows-1))
		cnt := make([]int64, 2*rows)
		for range 20 * rows {
			cnt[r.IntN(2)*rows+int(z.Uint64())]++
		}
		for _, v := range cnt {
			c = binary.LittleEndian.AppendUint64(c, uint64(v))
		}
		zw.Write("joined"+suffix, formats.I64, []int64{2, int64(rows)}, bytes.NewReader(c))
	}
	zw.Close()
	os.WriteFile(filepath.Join(dir, "counts.npz"), buf.Bytes(), 0o644)
	return shards
}

// A 64 MiB table in 8 shards, quantized on prism under one budget, has
// every row at the tier, and every tier's rows in the bytes, that shark
// quantize gives the joined table: at 20%, 30% and 50%, with and without
// counts. The parts open as one table and verify.
func TestQuantizeEqualsTheCLIs(t *testing.T) {
	dir := t.TempDir()
	const rows, dim = 262144, 64
	shards := shardedTable(t, dir, rows, dim, 8)
	for _, counts := range []bool{false, true} {
		for _, pct := range []int{20, 30, 50} {
			name := fmt.Sprintf("%d%%, counts %v", pct, counts)
			single := filepath.Join(dir, fmt.Sprintf("single-%d-%v.shark", pct, counts))
			args := []string{"quantize", filepath.Join(dir, "joined.npy"), "-o", single, "--budget", fmt.Sprintf("%d%%", pct)}
			o := QuantizeOptions{Shards: shards, Settings: budget(float64(pct) / 100), Table: "joined",
				Out: filepath.Join(dir, fmt.Sprintf("parts-%d-%v", pct, counts)), Work: t.TempDir()}
			if counts {
				args = append(args, "--counts", filepath.Join(dir, "counts.npz"))
				o.Counts = filepath.Join(dir, "counts.npz")
			}
			cli(t, args...)
			res, err := Quantize(context.Background(), o, prismRun)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameRows(t, name, single, res.Manifest)
			t.Logf("%s: %d passes, %d bytes of summaries crossed", name, res.Passes, res.SummaryByte)
		}
	}
}

// budget is shark quantize's settings at a budget of share, each shard's
// table its only 2-D float tensor (as shark-dist quantize's defaults).
func budget(share float64) compress.Settings {
	s := compress.DefaultSettings()
	s.Budget, s.MinRows = share, 1
	return s
}

// sameRows compares the parts with the single file, tier by tier.
func sameRows(t *testing.T, name, single, manifest string) {
	t.Helper()
	a, err := sharkfile.Open(single)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := sharkfile.Open(manifest)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer b.Close()
	if err := b.Verify(); err != nil {
		t.Fatalf("%s: the parts do not verify: %v", name, err)
	}
	ta, tb := a.Tables()[0], b.Tables()[0]
	if ta.Counts() != tb.Counts() {
		t.Fatalf("%s: tiers %v, shark quantize %v", name, tb.Counts(), ta.Counts())
	}
	for tier := core.Tier(0); tier < core.NumTiers; tier++ {
		ra, _ := io.ReadAll(ta.TierReader(tier))
		rb, _ := io.ReadAll(tb.TierReader(tier))
		if !bytes.Equal(ra, rb) || fmt.Sprint(ta.IDs(tier)) != fmt.Sprint(tb.IDs(tier)) {
			t.Fatalf("%s: the %v rows differ from shark quantize's", name, tier)
		}
	}
}

// A shard that cannot be read fails the job, naming the shard, and leaves
// no manifest and no part behind.
func TestQuantizeFailsOnABadShard(t *testing.T) {
	dir := t.TempDir()
	shards := shardedTable(t, dir, 8000, 16, 4)
	// A zip whose member's bytes do not match its CRC: its header reads,
	// its rows do not.
	bad := filepath.Join(dir, "shard-bad.npz")
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	zw.Write("rows", formats.F32, []int64{2000, 16}, bytes.NewReader(make([]byte, 2000*16*4)))
	zw.Close()
	b := buf.Bytes()
	b[len(b)/2] ^= 0xff
	os.WriteFile(bad, b, 0o644)
	shards[2] = bad
	out := filepath.Join(dir, "out")
	_, err := Quantize(context.Background(), QuantizeOptions{Shards: shards, Settings: budget(0.3), Out: out, Work: t.TempDir()}, prismRun)
	if err == nil || !strings.Contains(err.Error(), "shard-bad.npz") {
		t.Fatalf("%v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) > 0 {
		t.Fatalf("left behind: %v", ents)
	}
}
