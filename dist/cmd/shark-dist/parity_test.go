package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"shark/core"
	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
	"shark/formats/sharkfile"
)

// unevenTable writes a table of rows x dim as three .npy shards of uneven
// rows, the whole as joined.npy, and access counts of the whole (two
// periods, most rows never accessed: a long tie at priority 0) as
// counts.npz under the name "joined".
func unevenTable(t *testing.T, dir string, sizes []int, dim int) []string {
	t.Helper()
	rows := 0
	for _, n := range sizes {
		rows += n
	}
	r := rand.New(rand.NewPCG(3, 9))
	vals := make([]float32, rows*dim)
	for i := range rows {
		s := 0.02 * math.Exp(r.NormFloat64())
		for j := range dim {
			vals[i*dim+j] = float32(r.NormFloat64() * s)
		}
	}
	write := func(path string, v []float32) {
		var b bytes.Buffer
		if err := npy.Write(&b, formats.F32, []int64{int64(len(v) / dim), int64(dim)}, bytes.NewReader(formats.EncodeFloat32(nil, v))); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path, b.Bytes(), 0o644)
	}
	write(filepath.Join(dir, "joined.npy"), vals)
	var shards []string
	at := 0
	for k, n := range sizes {
		p := filepath.Join(dir, fmt.Sprintf("shard-%d.npy", k))
		write(p, vals[at*dim:(at+n)*dim])
		shards = append(shards, p)
		at += n
	}
	var buf bytes.Buffer
	zw := npz.NewWriter(&buf, false)
	z := rand.NewZipf(r, 1.3, 1, uint64(rows-1))
	cnt := make([]int64, 4*rows) // pos then neg, two periods each
	for range 2 * rows {
		cnt[r.IntN(4)*rows+int(z.Uint64())]++
	}
	for i, suffix := range []string{".pos", ".neg"} {
		var c []byte
		for _, v := range cnt[2*i*rows : 2*(i+1)*rows] {
			c = binary.LittleEndian.AppendUint64(c, uint64(v))
		}
		zw.Write("joined"+suffix, formats.I64, []int64{2, int64(rows)}, bytes.NewReader(c))
	}
	zw.Close()
	os.WriteFile(filepath.Join(dir, "counts.npz"), buf.Bytes(), 0o644)
	return shards
}

// shark-dist quantize takes shark quantize's flags, and with each set
// gives every row of shards of uneven rows the tier and the bytes shark
// quantize gives it in the joined table: fixed fractions (cut across
// shards inside a tie of thousands of rows at priority 0), thresholds, a
// budget without int4, each with priority weights and a decay of the
// counts other than the defaults; and tiers restricted by --tiers.
func TestQuantizeFlagsEqualTheCLIs(t *testing.T) {
	dir := t.TempDir()
	shards := unevenTable(t, dir, []int{7001, 9000, 7999}, 16)
	counts := filepath.Join(dir, "counts.npz")
	for i, flags := range [][]string{
		{"--fp32", "0.05", "--fp16", "0.15", "--int8", "0.3", "--int4", "0.5", "--counts", counts, "--gamma", "0.5", "--w-pos", "3"},
		{"--fp16", "0.5", "--int8", "0.5"},
		{"--fp32", "0.1", "--int4", "0.9", "--counts", counts, "--w-neg", "0"},
		{"--thresholds", "4,1,0.2", "--counts", counts, "--w-neg", "0.5", "--gamma", "0.8"},
		{"--budget", "40%", "--no-int4", "--counts", counts, "--gamma", "0.9", "--w-pos", "2"},
		{"--budget", "30%", "--tiers", "fp16,int8,int4", "--counts", counts},
		{"--fp16", "0.25", "--int8", "0.75", "--tiers", "fp16,int8"},
	} {
		name := strings.Join(flags, " ")
		single := filepath.Join(dir, fmt.Sprintf("single-%d.shark", i))
		args := append([]string{"quantize", filepath.Join(dir, "joined.npy"), "-o", single}, flags...)
		if out, err := exec.Command(bins.shark, args...).CombinedOutput(); err != nil {
			t.Fatalf("shark %s: %v\n%s", name, err, out)
		}
		out := filepath.Join(dir, fmt.Sprintf("parts-%d", i))
		args = append(append([]string{"quantize"}, shards...), "-o", out, "--table", "joined")
		code, stdout, e := runDist(t, append(args, flags...)...)
		if code != 0 {
			t.Fatalf("shark-dist %s: exit %d\n%s", name, code, e)
		}
		sameTiers(t, name, single, filepath.Join(out, "joined.manifest"))
		t.Logf("%s: %s", name, strings.TrimSpace(stdout))
	}
}

// sameTiers compares the parts with the single file, tier by tier: the
// rows' ids and their bytes.
func sameTiers(t *testing.T, name, single, manifest string) {
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
