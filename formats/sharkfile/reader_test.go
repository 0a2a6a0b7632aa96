package sharkfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"shark/core"
	"shark/formats"
	"shark/internal/fuzzcap"
)

// Flipping any byte, or truncating anywhere, must make Open or Verify fail,
// and no read may return a wrong row.
func TestCorruption(t *testing.T) {
	// The wide layout of the first four tiers alone adds no case the
	// others lack, and each layout takes seconds.
	for _, l := range []layout{narrowLayout, int2Layout, allTiers} {
		t.Run(l.name, func(t *testing.T) { testCorruption(t, l) })
	}
}

func testCorruption(t *testing.T, l layout) {
	data, cases, dense := buildLayout(t, 2, l)
	good := make([][][]float32, len(cases))
	rd0, _ := NewReader(bytes.NewReader(data), int64(len(data)))
	for i, tbl := range rd0.Tables() {
		for r := 0; r < tbl.Rows(); r++ {
			row := make([]float32, tbl.Dim())
			tbl.Row(r, row)
			good[i] = append(good[i], row)
		}
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	mut := make([]byte, len(data))
	for off := 0; off < len(data); off += step {
		copy(mut, data)
		mut[off] ^= 0x5a
		rd, err := NewReader(bytes.NewReader(mut), int64(len(mut)))
		if err != nil {
			if !errors.Is(err, formats.ErrCorrupt) && !errors.Is(err, formats.ErrChecksum) && !errors.Is(err, formats.ErrUnsupported) {
				t.Fatalf("flip at %d: unexpected error kind: %v", off, err)
			}
			continue
		}
		if err := rd.Verify(); err == nil {
			t.Fatalf("flip at %d: Verify passed", off)
		}
		failed := false
		for i, tbl := range rd.Tables() {
			row := make([]float32, tbl.Dim())
			for r := 0; r < tbl.Rows(); r++ {
				if err := tbl.Row(r, row); err != nil {
					failed = true
					continue
				}
				for j := range row {
					if math.Float32bits(row[j]) != math.Float32bits(good[i][r][j]) {
						t.Fatalf("flip at %d: table %d row %d read wrong without an error", off, i, r)
					}
				}
			}
		}
		if _, dr, err := rd.Dense("bias"); err == nil {
			b, err := io.ReadAll(dr)
			if err != nil {
				failed = true
			} else if !bytes.Equal(b, dense) {
				t.Fatalf("flip at %d: dense read wrong without an error", off)
			}
		}
		if !failed {
			t.Fatalf("flip at %d: every read succeeded", off)
		}
	}
	for n := 0; n < len(data); n += step {
		if _, err := NewReader(bytes.NewReader(data[:n]), int64(n)); err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
	}
}

// The seed is small because the fuzzer minimizes every new input it finds
// interesting, and minimizing inputs the size of build's file took the
// whole run.
func FuzzShark(f *testing.F) {
	f.Add(fileOf(f, 12, 3))
	f.Add(fileOfLayout(f, int2Layout, 12, 3))
	f.Add(fileOfLayout(f, allTiers, 12, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return
			}
			verr := rd.Verify()
			for _, tbl := range rd.Tables() {
				row := make([]float32, tbl.Dim())
				for r := 0; r < tbl.Rows() && r < 2000; r++ {
					if err := tbl.Row(r, row); err != nil && verr == nil {
						t.Fatalf("verified file, row %d unreadable: %v", r, err)
					}
				}
			}
		})
	})
}

// The serving path: a memory-mapped file read from many goroutines at once.
func TestOpenConcurrentRows(t *testing.T) {
	data, cases, _ := build(t, 4)
	path := t.TempDir() + "/m.shark"
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tbl := f.Tables()[0]
	c := cases[0]
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 1))
			row, want := make([]float32, c.tb.D), make([]float32, c.tb.D)
			enc := make([]byte, 4*c.tb.D+4)
			for i := 0; i < 2000; i++ {
				id := r.IntN(c.tb.R)
				if err := tbl.Row(id, row); err != nil {
					errs <- err
					return
				}
				core.EncodeRow(c.tiers[id], enc, c.tb.Data[id*c.tb.D:(id+1)*c.tb.D])
				core.DecodeRow(c.tiers[id], want, enc)
				for j := range row {
					if row[j] != want[j] {
						errs <- fmt.Errorf("row %d differs", id)
						return
					}
				}
			}
		}(uint64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := tbl.Row(c.tb.R, make([]float32, c.tb.D)); err == nil {
		t.Fatal("row past the end read")
	}
}

// rewriteHeader replaces a file's msgpack header and seals it again with
// valid checksums, as an attacker who knows the format would.
func rewriteHeader(t testing.TB, file []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	tr := file[len(file)-TrailerSize:]
	hoff := int64(binary.LittleEndian.Uint64(tr[0:]))
	hlen := int64(binary.LittleEndian.Uint64(tr[8:]))
	var h map[string]any
	if err := msgpack.Unmarshal(file[hoff:hoff+hlen], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hb, err := msgpack.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return seal(file[:hoff], hb)
}

// seal appends header hb and a valid trailer to the data area.
func seal(data, hb []byte) []byte {
	out := append(append([]byte{}, data...), hb...)
	var tr [TrailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(len(data)))
	binary.LittleEndian.PutUint64(tr[8:], uint64(len(hb)))
	binary.LittleEndian.PutUint32(tr[16:], crc32.Checksum(hb, castagnoli))
	binary.LittleEndian.PutUint32(tr[20:], crc32.Checksum(tr[:20], castagnoli))
	copy(tr[24:], EndMagic)
	return append(out, tr[:]...)
}

// A header that declares more values than its bytes can hold (2^32
// tensors, 2^31 checksums) is refused before anything is allocated for
// them, and so are duplicate names and an unknown codec.
func TestHostileHeaders(t *testing.T) {
	file, _, _ := build(t, 3)
	tr := file[len(file)-TrailerSize:]
	hoff := int64(binary.LittleEndian.Uint64(tr[0:]))
	hlen := int64(binary.LittleEndian.Uint64(tr[8:]))
	hb := file[hoff : hoff+hlen]
	// Patch the length of the first array (the tensors) to 2^32-1 in place.
	i := bytes.Index(hb, []byte("tensors"))
	huge := append(append(append([]byte{}, hb[:i+7]...), 0xdd, 0xff, 0xff, 0xff, 0xff), hb[i+8:]...)
	crcs := bytes.Replace(hb, []byte("crc\x91"), []byte("crc\xdd\x7f\xff\xff\xff"), 1)
	cases := map[string][]byte{
		"2^32 tensors": seal(file[:hoff], huge),
		"2^31 crcs":    seal(file[:hoff], crcs),
		"duplicate names": rewriteHeader(t, file, func(h map[string]any) {
			ts := h["tensors"].([]any)
			ts[1].(map[string]any)["name"] = ts[0].(map[string]any)["name"]
		}),
		"unknown codec": rewriteHeader(t, file, func(h map[string]any) { h["codec"] = "int2-magic" }),
		"deep nesting":  seal(file[:hoff], append(bytes.Repeat([]byte{0x91}, 100000), 0x00)),
	}
	for name, b := range cases {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		_, err := NewReader(bytes.NewReader(b), int64(len(b)))
		runtime.ReadMemStats(&ms)
		if err == nil || !errors.Is(err, formats.ErrCorrupt) && !errors.Is(err, formats.ErrUnsupported) {
			t.Errorf("%s: %v", name, err)
		}
		if grew := ms.TotalAlloc - before; grew > 64<<20 {
			t.Errorf("%s: %d MB allocated", name, grew>>20)
		}
	}
}

// verify refuses non-zero padding, a quantized row whose scale is not a
// finite number, and an fp16 row holding an infinity (a writer keeps a row
// out of a tier that cannot hold it), wherever the checksums are made to
// match.
func TestVerifyPaddingAndScales(t *testing.T) {
	file, cases, _ := build(t, 4)
	rd, err := NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	var padAt, scaleAt, halfAt int64 = -1, -1, -1
	for _, tb := range rd.Tables() {
		e := tb.Entry()
		for tier, b := range e.Rows {
			if b.padded() > b.Len && padAt < 0 {
				padAt = b.Off + b.Len
			}
			if core.Tier(tier) == core.INT8 && b.Len > 0 && scaleAt < 0 {
				scaleAt = b.Off + int64(core.INT8.RowBytes(tb.Dim())) - 4
			}
			if core.Tier(tier) == core.FP16 && b.Len > 0 && halfAt < 0 {
				halfAt = b.Off + 2 // the row's second value
			}
		}
	}
	_ = cases
	if padAt < 0 || scaleAt < 0 || halfAt < 0 {
		t.Fatal("no padding, int8 or fp16 row to spoil")
	}
	for name, at := range map[string]int64{"padding": padAt, "scale": scaleAt, "fp16": halfAt} {
		b := append([]byte{}, file...)
		if name == "padding" {
			b[at] = 1
		} else {
			binary.LittleEndian.PutUint16(b[at:], 0x7c00) // +Inf
		}
		b = reseal(t, b)
		r, err := NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(); err == nil || !strings.Contains(err.Error(), map[string]string{"padding": "padding", "scale": "finite", "fp16": "fp16 row's value is not a finite"}[name]) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// reseal recomputes every block checksum of a file after its data changed.
func reseal(t testing.TB, file []byte) []byte {
	return rewriteHeader(t, file, func(h map[string]any) {
		for _, tn := range h["tensors"].([]any) {
			e := tn.(map[string]any)
			var blocks []any
			for _, k := range []string{"data", "codes", "dir", "params"} {
				if b, ok := e[k]; ok && b != nil {
					blocks = append(blocks, b)
				}
			}
			if rows, ok := e["rows"].([]any); ok {
				blocks = append(blocks, rows...)
			}
			for _, bl := range blocks {
				m := bl.(map[string]any)
				off, n := toInt(m["off"]), toInt(m["len"])
				padded := (n + Align - 1) &^ (Align - 1)
				var crcs []any
				for c := int64(0); c < padded; c += ChunkSize {
					crcs = append(crcs, crc32.Checksum(file[off+c:off+min(c+ChunkSize, padded)], castagnoli))
				}
				if crcs == nil {
					crcs = []any{}
				}
				m["crc"] = crcs
			}
		}
	})
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	}
	panic(fmt.Sprintf("not an integer: %T", v))
}

// A mapped file shrunk under the reader (another program truncating it)
// gives an error, not a SIGBUS that kills the process.
func TestMappedFileShrinks(t *testing.T) {
	file, _, _ := build(t, 5)
	path := filepath.Join(t.TempDir(), "m.shark")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Truncate(path, int64(len(file)/3)&^4095); err != nil {
		t.Fatal(err)
	}
	if err := f.Verify(); err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("verify: %v", err)
	}
	tbl := f.Tables()[len(f.Tables())-1]
	row := make([]float32, tbl.Dim())
	if err := tbl.Row(tbl.Rows()-1, row); err == nil {
		t.Fatal("a row past the new end was read")
	}
	out := make([]float32, tbl.Dim())
	if err := tbl.PoolBags([]int{tbl.Rows() - 1}, []int{0, 1}, false, out); err == nil {
		t.Fatal("a lookup past the new end succeeded")
	}
}

// splitFile splits a .shark file into its data area and its header.
func splitFile(b []byte) (data, header []byte) {
	tr := b[len(b)-TrailerSize:]
	hoff := binary.LittleEndian.Uint64(tr[0:])
	hlen := binary.LittleEndian.Uint64(tr[8:])
	return b[:hoff], b[hoff : hoff+hlen]
}

// fileOf writes a file with a mixed table of each number of rows (width 5)
// and a dense tensor.
func fileOf(t testing.TB, tableRows ...int) []byte {
	return fileOfLayout(t, narrowLayout, tableRows...)
}

// fileOfLayout is fileOf with the layout's tiers.
func fileOfLayout(t testing.TB, l layout, tableRows ...int) []byte {
	var buf bytes.Buffer
	w := l.writer(t, &buf)
	r := rand.New(rand.NewPCG(3, 3))
	for i, rows := range tableRows {
		tb := &core.Table{R: rows, D: 5, Data: make([]float32, rows*5)}
		tiers := make([]core.Tier, rows)
		for j := range tb.Data {
			tb.Data[j] = float32(r.NormFloat64())
		}
		for j := range tiers {
			tiers[j] = l.tiers[r.IntN(len(l.tiers))]
		}
		if err := w.WriteTable(fmt.Sprintf("t%d", i), tb, tiers, TableInfo{SourceDType: formats.F32}, nil); err != nil {
			t.Fatal(err)
		}
	}
	w.WriteDense("d", formats.U8, []int64{7}, bytes.NewReader([]byte("seven b")))
	w.Close()
	return buf.Bytes()
}

// FuzzSharkHeader mutates the msgpack header alone and seals the file with
// valid checksums, so that every case reaches the header's checks (FuzzShark
// rarely gets past the checksum). Whatever the header declares, the reader
// refuses it or reads rows from it, within the allocation limit.
//
// The first byte of an input picks the data area: 0, a version-1 file's;
// 1, a version-2 file's of every tier (block parameters in its header).
func FuzzSharkHeader(f *testing.F) {
	var datas [2][]byte
	for i, b := range [][]byte{fileOf(f, 300, 9), fileOfLayout(f, allTiers, 300, 9)} {
		data, header := splitFile(b)
		datas[i] = data
		f.Add(append([]byte{byte(i)}, header...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		data, h := datas[in[0]&1], in[1:]
		file := seal(data, h)
		fuzzcap.Run(t, len(file), func() {
			rd, err := NewReader(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				return
			}
			verr := rd.Verify()
			for _, tbl := range rd.Tables() {
				row := make([]float32, tbl.Dim())
				for r := 0; r < tbl.Rows() && r < 500; r++ {
					if err := tbl.Row(r, row); err != nil && verr == nil {
						t.Fatalf("verified file, row %d unreadable: %v", r, err)
					}
				}
			}
		})
	})
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.n.Add(int64(len(p)))
	return c.r.ReadAt(p, off)
}

// Reading every row of a table whose chunk is damaged hashes the chunk once,
// not once per row (the fuzzer found 600 rows reading 2 MB of a 16 KB file).
func TestDamagedChunkReadOnce(t *testing.T) {
	data, _, _ := build(t, 1)
	rd, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var big *Block
	for _, b := range rd.Header.Tensors[1].Rows {
		if big == nil || b.Len > big.Len {
			big = b
		}
	}
	data[big.Off] ^= 1
	cr := &countingReader{r: bytes.NewReader(data)}
	rd, err = NewReader(cr, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	tbl := rd.Tables()[0]
	row := make([]float32, tbl.Dim())
	before, failed := cr.n.Load(), 0
	for r := range tbl.Rows() {
		if err := tbl.Row(r, row); errors.Is(err, formats.ErrChecksum) {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no row read failed its checksum")
	}
	if read := cr.n.Load() - before; read > int64(2*len(data)) {
		t.Fatalf("%d rows failed their checksum and read %d bytes of a %d-byte file", failed, read, len(data))
	}
}
