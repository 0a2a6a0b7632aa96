package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/compress"
	"shark/core"
	"shark/formats"
	"shark/formats/npy"
	"shark/formats/npz"
)

// rangeTable writes an .npy table of ordinary rows but one scaled past
// binary16's +-65504 (bigRow) and ten of values near 3e-9, as an Adam
// exp_avg_sq holds (tinyRows); and counts that give bigRow priority 0.
func rangeTable(t *testing.T, dir string) (table, counts string, vals []float32) {
	const rows, dim = 1500, 8
	vals = make([]float32, rows*dim)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i)*0.7)) * 0.1
	}
	for j := range dim {
		vals[bigRow*dim+j] = float32(math.Sin(float64(j)*0.7)) * 1e5 // one row scaled by 1e6
		for r := tinyRows; r < tinyRows+10; r++ {
			vals[r*dim+j] = 3e-9 * float32(1+j%3)
		}
	}
	table = filepath.Join(dir, "big.npy")
	var b bytes.Buffer
	if err := npy.Write(&b, formats.F32, []int64{rows, dim}, bytes.NewReader(formats.EncodeFloat32(nil, vals))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(table, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pos, neg := make([]float32, rows), make([]float32, rows)
	for r := range rows {
		pos[r], neg[r] = float32(r%7), float32(1+r%5)
	}
	pos[bigRow], neg[bigRow] = 0, 0
	b.Reset()
	w := npz.NewWriter(&b, false)
	w.Write("big.pos", formats.F32, []int64{rows}, bytes.NewReader(formats.EncodeFloat32(nil, pos)))
	w.Write("big.neg", formats.F32, []int64{rows}, bytes.NewReader(formats.EncodeFloat32(nil, neg)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	counts = filepath.Join(dir, "counts.npz")
	if err := os.WriteFile(counts, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return table, counts, vals
}

const bigRow, tinyRows = 3, 10

// A row past binary16's range stays at fp32 whatever the flags ask (the
// whole table at fp16; a budget with the row at priority 0, which put it
// in int4 with an infinite scale), and is counted; rows that round to zero
// are counted and warned of; the errors are numbers, --json works, verify
// passes, and the file holds no infinity the source did not.
func TestRowsPastBinary16StayFP32(t *testing.T) {
	dir := t.TempDir()
	table, counts, vals := rangeTable(t, dir)
	for name, flags := range map[string][]string{
		"fp16":   {"--fp32", "0", "--fp16", "1", "--int8", "0", "--int4", "0"},
		"budget": {"--counts", counts, "--budget", "30%"},
	} {
		out := filepath.Join(dir, name+".shark")
		code, stdout, stderr := shark(t, append([]string{"quantize", table, "-o", out, "--json"}, flags...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		var res struct {
			Tables []struct {
				Tiers      map[string]int64
				RMSE       *float64 `json:"rmse"`
				Unfit      int64    `json:"unfit_rows"`
				Zeroed     int64    `json:"zeroed_rows"`
				MaxAbsErr  *float64 `json:"max_abs_err"`
				BytesAfter int64    `json:"bytes_after"`
			}
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || len(res.Tables) != 1 {
			t.Fatalf("%s: --json: %v\n%s", name, err, stdout)
		}
		tb := res.Tables[0]
		if tb.Unfit != 1 || tb.Tiers["fp32"] < 1 || tb.RMSE == nil || math.IsInf(*tb.RMSE, 0) || tb.MaxAbsErr == nil || *tb.MaxAbsErr > 1 {
			t.Fatalf("%s: %+v (rmse %v, max %v), want 1 unfit row at fp32 and finite small errors", name, tb, tb.RMSE, tb.MaxAbsErr)
		}
		if name == "fp16" && (tb.Zeroed != 10 || tb.Tiers["fp32"] != 1 || !strings.Contains(stderr, "rounds to zero")) {
			t.Fatalf("fp16: %+v; warnings %s", tb, stderr)
		}
		if !strings.Contains(stderr, "65504") {
			t.Fatalf("%s: no warning of the row past binary16: %s", name, stderr)
		}
		if code, _, stderr := shark(t, "verify", out); code != 0 {
			t.Fatalf("%s: verify: %s", name, stderr)
		}
		back := readTable(t, out)
		for i, v := range back {
			if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) || (i/8 == bigRow && v != vals[i]) {
				t.Fatalf("%s: value %d (row %d) is %v, source %v", name, i, i/8, v, vals[i])
			}
		}
	}
}

// readTable decodes the one table of a .shark file.
func readTable(t *testing.T, path string) []float32 {
	in, err := compress.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rows, err := compress.Rows(in.File, in.File.Tensors[0])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, rows.Rows()*rows.Dim())
	if err := core.ReadRows(rows, 0, rows.Rows(), out); err != nil {
		t.Fatal(err)
	}
	return out
}
