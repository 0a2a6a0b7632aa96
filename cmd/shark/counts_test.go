package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	_ "shark/formats/npz"
)

// dayLogs writes a CSV model's training data and returns the model; each
// log row is user,item,day,clicked with day as given.
func dayModel(t *testing.T, dir string) string {
	t.Helper()
	data := filepath.Join(dir, "train.csv")
	writeDays(t, data, 2000, 1, func(int) string { return "0" })
	model := filepath.Join(dir, "model.shark")
	if code, _, e := shark(t, "train", data, "-o", model, "--label", "clicked", "--ignore", "day", "--epochs", "1", "--dim", "4"); code != 0 {
		t.Fatal(e)
	}
	return model
}

// writeDays writes n rows of user,item,day,clicked, each row's day from day(i).
func writeDays(t *testing.T, path string, n int, seed uint64, day func(int) string) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	b.WriteString("user,item,day,clicked\n")
	for i := range n {
		fmt.Fprintf(&b, "u%d,i%d,%s,%d\n", r.IntN(50), r.IntN(80), day(i), r.IntN(2))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// countsOf reads a counts .npz: each tensor's shape and int64 values.
func countsOf(t *testing.T, path string) map[string][]int64 {
	t.Helper()
	f, fh, err := formats.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string][]int64{}
	for _, ts := range f.Tensors {
		rc, err := ts.Open()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(rc)
		rc.Close()
		v := make([]int64, len(raw)/8)
		binary.Read(bytes.NewReader(raw), binary.LittleEndian, v)
		out[ts.Name] = append([]int64{ts.Shape[0], ts.Shape[1]}, v...)
	}
	return out
}

// A period column counts each row in the period it names: logs of three
// days in one file, by column, are the bytes of a file per day; dates
// count in days, a day with no rows is a period of zeros, and each
// period's counts add up to its samples.
func TestCountsByPeriodColumn(t *testing.T) {
	dir := t.TempDir()
	model := dayModel(t, dir)
	days := []string{"2026-11-01", "2026-11-02", "2026-11-03"}
	var perDay []string
	for d, day := range days {
		f := filepath.Join(dir, fmt.Sprintf("day%d.csv", d))
		writeDays(t, f, 700, uint64(10+d), func(int) string { return day })
		perDay = append(perDay, f)
	}
	joined := filepath.Join(dir, "all.csv")
	var all []byte
	for d, f := range perDay {
		b, _ := os.ReadFile(f)
		if d > 0 {
			b = b[bytes.IndexByte(b, '\n')+1:]
		}
		all = append(all, b...)
	}
	os.WriteFile(joined, all, 0o644)
	byFile, byColumn := filepath.Join(dir, "files.npz"), filepath.Join(dir, "column.npz")
	if code, _, e := shark(t, "counts", model, perDay[0], perDay[1], perDay[2], "-o", byFile); code != 0 {
		t.Fatal(e)
	}
	if code, o, e := shark(t, "counts", model, joined, "--period-column", "day", "-o", byColumn, "--json"); code != 0 || !strings.Contains(o, `"periods": 3`) {
		t.Fatalf("%d %s %s", code, o, e)
	}
	a, _ := os.ReadFile(byFile)
	b, _ := os.ReadFile(byColumn)
	if !bytes.Equal(a, b) {
		t.Fatalf("counts by column (%d bytes) differ from counts by file (%d bytes)", len(b), len(a))
	}

	gap := filepath.Join(dir, "gap.csv")
	writeDays(t, gap, 900, 3, func(i int) string { return []string{"2026-11-01", "2026-11-04"}[i%2] })
	out := filepath.Join(dir, "gap.npz")
	if code, _, e := shark(t, "counts", model, gap, "--period-column", "day", "-o", out); code != 0 {
		t.Fatal(e)
	}
	for name, v := range countsOf(t, out) {
		periods, rows := int(v[0]), int(v[1])
		if periods != 4 {
			t.Fatalf("%s: %d periods, want 4 (1 to 4 November)", name, periods)
		}
		sums := make([]int64, periods)
		for p := range periods {
			for _, x := range v[2+p*rows : 2+(p+1)*rows] {
				sums[p] += x
			}
		}
		if sums[1] != 0 || sums[2] != 0 || sums[0] == 0 || sums[3] == 0 || sums[0]+sums[3] > 900 {
			t.Fatalf("%s: samples per period %v", name, sums)
		}
	}
}

// A period column is refused where it cannot work, with the reason and
// nothing written: a format without named columns, a column not in the
// header, a value that is no period (its line named), a span of more
// than 10,000 periods, and --one-period with it.
func TestCountsPeriodColumnRefused(t *testing.T) {
	dir := t.TempDir()
	model := dayModel(t, dir)
	bad := func(name string, rows []string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("user,item,day,clicked\n"+strings.Join(rows, "\n")+"\n"), 0o644)
		return p
	}
	tsv := filepath.Join(dir, "c.tsv")
	os.WriteFile(tsv, []byte("1"+strings.Repeat("\tx", 39)+"\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{tsv, "--period-column", "day"}, 1, "needs CSV with a header"},
		{[]string{bad("a.csv", []string{"u1,i1,3,1"}), "--period-column", "hour"}, 1, `"hour" is not in the header`},
		{[]string{bad("b.csv", []string{"u1,i1,3,1", "u1,i1,yesterday,0"}), "--period-column", "day"}, 1, "line 3"},
		{[]string{bad("c.csv", []string{"u1,i1,3,1", "u1,i1,1700000000,0"}), "--period-column", "day"}, 1, "coarser"},
		{[]string{bad("d.csv", []string{"u1,i1,3,1"}), "--period-column", "day", "--one-period"}, 2, "one-period"},
	} {
		out := filepath.Join(dir, "out.npz")
		code, _, e := shark(t, append([]string{"counts", model, "-o", out}, c.args...)...)
		if code != c.code || !strings.Contains(e, c.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, e, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", c.args, out)
		}
	}
}
