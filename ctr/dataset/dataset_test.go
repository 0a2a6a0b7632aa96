package dataset

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"shark/internal/fuzzcap"
)

func readAll(t testing.TB, data string, opt Options) ([]*Record, error) {
	r, err := Open(strings.NewReader(data), opt)
	if err != nil {
		return nil, err
	}
	var out []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func criteoRow(label string, ints []string, cats []string) string {
	cols := append([]string{label}, ints...)
	return strings.Join(append(cols, cats...), "\t") + "\n"
}

func TestCriteo(t *testing.T) {
	ints := make([]string, 13)
	ints[0], ints[1] = "1", "100"
	cats := make([]string, 26)
	cats[0] = "68fd1e64"
	recs, err := readAll(t, criteoRow("1", ints, cats)+"\n"+criteoRow("0", make([]string, 13), make([]string, 26)), Options{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v %v", recs, err)
	}
	r := recs[0]
	if r.Label != 1 || r.Tokens[0] != "v1" || r.Tokens[1] != "b21" || r.Tokens[13] != "68fd1e64" || r.Tokens[2] != "" || recs[1].Line != 3 {
		t.Fatalf("parsed %+v line %d", r, recs[1].Line)
	}
	for name, row := range map[string]string{
		"short row":   "1\t2\t3\n",
		"bad integer": criteoRow("0", append([]string{"x1"}, make([]string, 12)...), make([]string, 26)),
		"bad label":   criteoRow("2", make([]string, 13), make([]string, 26)),
		"stray bytes": "\x00\xff\xfe garbage\n",
	} {
		_, err := readAll(t, criteoRow("0", make([]string, 13), make([]string, 26))+row, Options{Format: "criteo"})
		var re *RowError
		if !errors.As(err, &re) || re.Line != 2 || !errors.Is(err, ErrBadRow) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCSV(t *testing.T) {
	data := "user,item,rating,ts\r\n1,10,5,100\r\n2,\"1,1\",3,200\r\n"
	recs, err := readAll(t, data, Options{Format: "csv", Label: "rating>=4", Ignore: []string{"ts"}})
	if err != nil || len(recs) != 2 {
		t.Fatalf("%v %v", recs, err)
	}
	if recs[0].Label != 1 || recs[1].Label != 0 || recs[1].Tokens[1] != "1,1" || len(recs[0].Tokens) != 2 {
		t.Fatalf("%+v %+v", recs[0], recs[1])
	}
	recs, err = readAll(t, "y,x\n1,3.5\n0,\n", Options{Format: "csv", Label: "y", Numeric: []string{"x"}})
	if err != nil || recs[0].Tokens[0] != "b1" || recs[1].Tokens[0] != "" {
		t.Fatalf("numeric: %v %v", recs, err)
	}
	for name, c := range map[string]struct {
		data string
		opt  Options
	}{
		"bad number":    {"y,x\n1,abc\n", Options{Format: "csv", Label: "y", Numeric: []string{"x"}}},
		"short row":     {"y,x\n1\n", Options{Format: "csv", Label: "y"}},
		"bad label":     {"y,x\nyes,1\n", Options{Format: "csv", Label: "y"}},
		"stray quote":   {"y,x\n1,a\"b\n", Options{Format: "csv", Label: "y"}},
		"missing label": {"y,x\n1,2\n", Options{Format: "csv", Label: "z"}},
		"no label":      {"y,x\n1,2\n", Options{Format: "csv"}},
	} {
		_, err := readAll(t, c.data, c.opt)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLibSVMAndFFM(t *testing.T) {
	recs, err := readAll(t, "1 3:1 7:1\n0 4:1 7:1\n", Options{})
	if err != nil || recs[0].Label != 1 || recs[1].Label != 0 || recs[1].Tokens[0] != "4" {
		t.Fatalf("libsvm: %v %v", recs, err)
	}
	recs, err = readAll(t, "1 0:3:1 2:9:1\n0 1:5:1\n", Options{})
	if err != nil || !slices.Equal(recs[0].Fields, []int{0, 2}) || recs[0].Tokens[1] != "9" || recs[1].Fields[0] != 1 || recs[1].Tokens[0] != "5" {
		t.Fatalf("libffm: %v %v", recs, err)
	}
	for name, data := range map[string]string{
		"libsvm short":    "1 3:1 7:1\n0 3:1\n",
		"libsvm value":    "1 3:x\n",
		"libsvm no colon": "1 3:1 7\n",
		"libffm twice":    "1 0:3:1 0:4:1\n",
		"libffm field":    "1 a:3:1 0:1\n",
		"bad label":       "yes 3:1\n",
		"label 2":         "2 3:1\n",
		"labels 0 and -1": "1 3:1\n0 3:1\n-1 3:1\n",
	} {
		if _, err := readAll(t, data, Options{}); !errors.Is(err, ErrBadRow) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEncodingAndSkipBad(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d.csv")
	os.WriteFile(p, []byte("y,a,b\n1,x,p\n0,x,q\n1,y,p\nbroken,row\n0,x,\n"), 0o644)
	opt := Options{Format: "csv", Label: "y"}
	if _, _, err := Build(FileOpener(p, opt), opt, 2, false); !errors.Is(err, ErrBadRow) || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("bad row not reported by line: %v", err)
	}
	enc, st, err := Build(FileOpener(p, opt), opt, 2, true)
	if err != nil || st.Skipped != 1 || st.Rows != 4 {
		t.Fatalf("%v %+v", err, st)
	}
	// a: x seen 3 times gets row 2, y (once) is out of vocabulary.
	if enc.Values[0][0] != "x" || len(enc.Values[0]) != 1 || enc.Vocab()[1] != 3 {
		t.Fatalf("encoding %+v", enc.Values)
	}
	ds, _, err := enc.Encode(FileOpener(p, opt), true)
	if err != nil || ds.Validate() != nil {
		t.Fatal(err)
	}
	want := []int32{2, 2, 2, OOV, OOV, 2, 2, Empty}
	for i, id := range want {
		if ds.IDs[i] != id {
			t.Fatalf("ids %v want %v", ds.IDs, want)
		}
	}
}

func TestSynthReadsBack(t *testing.T) {
	var buf bytes.Buffer
	truth, err := Synth(&buf, 500, 6, 3)
	if err != nil {
		t.Fatal(err)
	}
	sig, noise := truth.Signal()
	if len(sig) != 4 || len(noise) != 2 {
		t.Fatalf("%v %v", sig, noise)
	}
	recs, err := readAll(t, buf.String(), Options{})
	if err != nil || len(recs) != 500 || recs[0].Tokens[13] == "" || recs[0].Tokens[13+6] != "" {
		t.Fatalf("%d %v", len(recs), err)
	}
}

func FuzzReaders(f *testing.F) {
	f.Add(byte(0), criteoRow("1", make([]string, 13), make([]string, 26)))
	f.Add(byte(1), "y,a\n1,x\n0,\"q\"\r\n")
	f.Add(byte(2), "1 3:1 7:1\n0 4:1 7:1\n")
	f.Add(byte(3), "1 0:3:1 2:9:1\n")
	f.Fuzz(func(t *testing.T, kind byte, data string) {
		fuzzcap.Run(t, len(data), func() {
			opt := Options{Format: []string{"criteo", "csv", "libsvm", "libffm"}[kind%4]}
			if opt.Format == "csv" {
				opt.Label = "y"
			}
			r, err := Open(strings.NewReader(data), opt)
			if err != nil {
				return
			}
			for i := 0; i < 10000; i++ {
				rec, err := r.Next()
				if err != nil {
					if err != io.EOF && !errors.Is(err, ErrBadRow) {
						t.Fatalf("error of no known kind: %v", err)
					}
					return
				}
				if rec.Label != 0 && rec.Label != 1 {
					t.Fatalf("label %v", rec.Label)
				}
			}
		})
	})
}

// Labels other than 0 and 1 (and, in the libSVM family, -1 and +1) are
// malformed rows in every format: a file of 2 or 0.5 does not become
// clicks silently (a threshold says how to count other values).
func TestLabelsAreZeroOrOne(t *testing.T) {
	for _, y := range []string{"2", "-1", "0.5", "nan", "1e300", "-2"} {
		for format, data := range map[string]string{
			"criteo": criteoRow(y, make([]string, 13), make([]string, 26)),
			"csv":    "y,x\n" + y + ",a\n",
			"libsvm": y + " 3:1\n",
			"libffm": y + " 0:3:1\n",
		} {
			opt := Options{Format: format}
			if format == "csv" {
				opt.Label = "y"
			}
			_, err := readAll(t, data, opt)
			if y == "-1" && (format == "libsvm" || format == "libffm") {
				if err != nil {
					t.Errorf("%s label -1: %v", format, err)
				}
				continue
			}
			var re *RowError
			if !errors.Is(err, ErrBadRow) || !errors.As(err, &re) || re.Line == 0 || !strings.Contains(err.Error(), "--label") {
				t.Errorf("%s label %q: %v", format, y, err)
			}
		}
	}
	recs, err := readAll(t, "y,x\n4.5,a\n", Options{Format: "csv", Label: "y>=4"})
	if err != nil || recs[0].Label != 1 {
		t.Fatalf("threshold: %v %v", recs, err)
	}
}

// A line over the limit is one malformed row, skipped in one pass; lines
// after it are read as usual.
func TestLongLine(t *testing.T) {
	long := "1 3:" + strings.Repeat("9", 5000) + "\n"
	data := "1 3:1\n" + long + "0 3:2\n"
	r, err := Open(strings.NewReader(data), Options{MaxLine: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var labels []float32
	var bad int
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrBadRow) {
			bad++
			if !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "--max-line") {
				t.Fatalf("error %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		labels = append(labels, rec.Label)
	}
	if bad != 1 || !slices.Equal(labels, []float32{1, 0}) {
		t.Fatalf("%d bad rows, labels %v", bad, labels)
	}
	// A line without end (a stream of zero bytes) ends as one bad row.
	for _, format := range []string{"criteo", "libsvm", "libffm"} {
		r, _ = Open(io.LimitReader(zeros{}, 50<<20), Options{Format: format, MaxLine: 1 << 20})
		if _, err := r.Next(); !errors.Is(err, ErrBadRow) {
			t.Fatalf("%s: endless line: %v", format, err)
		}
	}
	if _, err := Open(io.LimitReader(zeros{}, 50<<20), Options{Format: "csv", Label: "y"}); !errors.Is(err, ErrBadRow) {
		t.Fatalf("csv: an endless header: %v", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Skipped rows are counted exactly: each stray quote makes one bad row.
func TestUnterminatedQuotes(t *testing.T) {
	var b strings.Builder
	b.WriteString("y,x\n")
	for i := 0; i < 3000; i++ {
		if i%100 == 7 {
			b.WriteString("1,\"open\n")
		} else {
			b.WriteString("0,a\n")
		}
	}
	p := filepath.Join(t.TempDir(), "q.csv")
	os.WriteFile(p, []byte(b.String()), 0o644)
	opt := Options{Format: "csv", Label: "y"}
	_, st, err := Build(FileOpener(p, opt), opt, 1, true)
	if err != nil || st.Skipped != 30 || st.Rows != 2970 {
		t.Fatalf("%+v %v", st, err)
	}
}

// A byte order mark before a CSV header is not part of its first column.
func TestBOM(t *testing.T) {
	recs, err := readAll(t, "\xef\xbb\xbfclicked,x\n1,a\n", Options{Format: "csv", Label: "clicked"})
	if err != nil || len(recs) != 1 || recs[0].Label != 1 {
		t.Fatalf("%v %v", recs, err)
	}
}

// A libFFM field id of a million makes one table, not a million.
func TestLibFFMFieldIDs(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.ffm")
	os.WriteFile(p, []byte("1 0:3:1 1000000:9:1\n0 0:4:1 1000000:9:1\n1 7:1:1\n"), 0o644)
	opt := Options{Format: "libffm"}
	enc, _, err := Build(FileOpener(p, opt), opt, 1, false)
	if err != nil || !slices.Equal(enc.Fields, []string{"f0", "f7", "f1000000"}) {
		t.Fatalf("%v %v", enc, err)
	}
	ds, _, err := enc.Encode(FileOpener(p, opt), false)
	if err != nil || ds.Validate() != nil {
		t.Fatal(err)
	}
	// Row 0: f0=3, f7 empty, f1000000=9.
	if ds.IDs[0] < 2 || ds.IDs[1] != Empty || ds.IDs[2] < 2 {
		t.Fatalf("ids %v", ds.IDs)
	}
}

// A period is a whole number or a date counted in days, so that
// consecutive days are consecutive periods across a month's end.
func TestParsePeriod(t *testing.T) {
	a, err1 := ParsePeriod("2026-11-30")
	b, err2 := ParsePeriod(" 2026-12-01 ")
	n, err3 := ParsePeriod("17")
	if err1 != nil || err2 != nil || err3 != nil || b-a != 1 || n != 17 || a != 20787 {
		t.Fatalf("%d %d %d: %v %v %v", a, b, n, err1, err2, err3)
	}
	for _, s := range []string{"", "yesterday", "2026-13-01", "1.5"} {
		if _, err := ParsePeriod(s); err == nil {
			t.Errorf("%q read as a period", s)
		}
	}
}

// The libSVM family's own binary labels, -1 and +1 (also written 1), read
// as 0 and 1 as libFM and libSVM tools write them; --label takes a
// threshold in every format, and a column name only in CSV.
func TestSignedLabelsAndThresholds(t *testing.T) {
	for format, data := range map[string]string{
		"libsvm": "+1 3:1 7:1\n-1 4:1 7:1\n1 4:1 8:1\n-1.0 3:1 8:1\n",
		"libffm": "+1 0:3:1 1:7:1\n-1 0:4:1 1:7:1\n1 0:4:1\n-1 1:8:1\n",
	} {
		recs, err := readAll(t, data, Options{Format: format})
		var got []float32
		for _, r := range recs {
			got = append(got, r.Label)
		}
		if err != nil || !slices.Equal(got, []float32{1, 0, 1, 0}) {
			t.Errorf("%s: labels %v, %v", format, got, err)
		}
	}
	for format, data := range map[string]string{
		"libsvm": "5 3:1\n3 4:1\n4 3:1\n",
		"libffm": "5 0:3:1\n3 0:4:1\n4 1:3:1\n",
		"criteo": criteoRow("5", make([]string, 13), make([]string, 26)) + criteoRow("3", make([]string, 13), make([]string, 26)) + criteoRow("4", make([]string, 13), make([]string, 26)),
	} {
		recs, err := readAll(t, data, Options{Format: format, Label: ">=4"})
		if err != nil || len(recs) != 3 || recs[0].Label != 1 || recs[1].Label != 0 || recs[2].Label != 1 {
			t.Errorf("%s with a threshold: %v %v", format, recs, err)
		}
		if _, err := Open(strings.NewReader(data), Options{Format: format, Label: "rating>=4"}); !errors.Is(err, ErrFormat) {
			t.Errorf("%s with a column name: %v", format, err)
		}
	}
	_, err := readAll(t, "1 3:1\n0 3:1\n-1 3:1\n", Options{Format: "libsvm"})
	var re *RowError
	if !errors.As(err, &re) || re.Line != 3 || !strings.Contains(err.Error(), "line 2 has label 0") {
		t.Errorf("0 and -1 in one file: %v", err)
	}
}

// A RowSet holds every key added, and holds a key never added at about its
// false-positive rate.
func TestRowSet(t *testing.T) {
	s := NewRowSet(20000)
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]RowKey, 20000)
	for i := range keys {
		keys[i] = RowKey{r.Uint64(), r.Uint64()}
		s.Add(keys[i])
	}
	for _, k := range keys {
		if !s.Has(k) {
			t.Fatal("a key added is missing")
		}
	}
	fp := 0
	for i := 0; i < 200000; i++ {
		if s.Has(RowKey{r.Uint64(), r.Uint64()}) {
			fp++
		}
	}
	if fp > 2 || s.Check() != nil || len(s.Bits) > 20000*30/8+8 {
		t.Fatalf("%d false positives in 200,000; %d bytes; %v", fp, len(s.Bits), s.Check())
	}
}

// A row's key is its content: line ends, blanks around values and CSV
// quoting do not change it; a value or the label does.
func TestRowKey(t *testing.T) {
	key := func(data string, opt Options) RowKey {
		recs, err := readAll(t, data, opt)
		if err != nil || len(recs) != 1 {
			t.Fatalf("%q: %v", data, err)
		}
		return recs[0].Key
	}
	csv := Options{Format: "csv", Label: "y"}
	a := key("y,a,b\n1,x,p\n", csv)
	for _, same := range []string{"y,a,b\r\n1,x,p\r\n", "y,a,b\n1, x ,\"p\"\n", "a,y,b\nx,1,p\n"} {
		if key(same, csv) != a {
			t.Errorf("%q has another key", same)
		}
	}
	for _, other := range []string{"y,a,b\n0,x,p\n", "y,a,b\n1,x,q\n", "y,a,b\n1,p,x\n"} {
		if key(other, csv) == a {
			t.Errorf("%q has the same key", other)
		}
	}
	if key("1 0:3:1 2:9:1\n", Options{}) != key("1 2:9:1 0:3:1\n", Options{}) {
		t.Error("libFFM features in another order give another key")
	}
}
