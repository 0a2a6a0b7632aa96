package sharkfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"shark/core"
	"shark/formats"
)

// A table quantized as row shards (a distributed quantize) is stored as
// parts: .shark files that each hold the table's rows of a range, and a
// manifest naming them in row order. Opened through the manifest, the
// parts are one table: a row is found in its part in O(1) (parts of equal
// rows, as a distributed quantize writes them but the last) or O(log
// parts), and read as in a single file.

// ManifestMagic begins a parts manifest; JSON follows.
const ManifestMagic = "SHARKPARTS 1\n"

// maxManifest bounds a manifest's size: it names parts, not rows.
const maxManifest = 16 << 20

// Manifest names a table's parts.
type Manifest struct {
	Table      string            `json:"table"`
	Rows       int64             `json:"rows"`
	Dim        int               `json:"dim"`
	Parts      []ManifestPart    `json:"parts"`
	Method     *Method           `json:"method,omitempty"`
	Provenance map[string]string `json:"provenance,omitempty"`
}

// ManifestPart is a part file, by its name beside the manifest, and its
// rows.
type ManifestPart struct {
	File string `json:"file"`
	Rows int64  `json:"rows"`
}

// WriteManifest writes m.
func WriteManifest(w io.Writer, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(append([]byte(ManifestMagic), b...), '\n'))
	return err
}

// ReadManifest reads a manifest of size bytes.
func ReadManifest(r io.ReaderAt, size int64) (*Manifest, error) {
	if size > maxManifest {
		return nil, formats.Errorf(name, 0, formats.ErrTooLarge, "a manifest of %d bytes (at most %d)", size, maxManifest)
	}
	b := make([]byte, size)
	if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	body, ok := bytes.CutPrefix(b, []byte(ManifestMagic))
	if !ok {
		return nil, formats.Errorf(name, 0, formats.ErrCorrupt, "not a parts manifest")
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, formats.Errorf(name, int64(len(ManifestMagic)), formats.ErrCorrupt, "manifest: %v", err)
	}
	var sum int64
	for _, p := range m.Parts {
		if p.Rows < 0 || p.File == "" {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "manifest part %q of %d rows", p.File, p.Rows)
		}
		sum += p.Rows
	}
	if sum != m.Rows || m.Dim < 1 || len(m.Parts) == 0 {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "manifest of %d rows x %d in parts of %d rows", m.Rows, m.Dim, sum)
	}
	return &m, nil
}

// NewPartsReader opens the parts a manifest names, each through open (a
// file beside the manifest, as formats' Siblings open them), as one Reader
// holding the one table.
func NewPartsReader(m *Manifest, open func(file string) (io.ReaderAt, int64, error)) (*Reader, error) {
	return readParts(m, func(file string) (*Reader, error) {
		r, size, err := open(file)
		if err != nil {
			return nil, fmt.Errorf("%w (%w)", ErrPartOutside, err)
		}
		if err := notManifest(r); err != nil {
			return nil, err
		}
		return NewReader(r, size)
	})
}

// readParts reads each part of m through read, in order, and joins them:
// the one loop of every opener of parts.
func readParts(m *Manifest, read func(file string) (*Reader, error)) (*Reader, error) {
	var parts []*Reader
	for _, p := range m.Parts {
		rd, err := read(p.File)
		if err != nil {
			return nil, fmt.Errorf("part %q: %w", p.File, err)
		}
		parts = append(parts, rd)
	}
	return joinParts(m, parts)
}

// joinParts makes the Reader of the parts' tables as one.
func joinParts(m *Manifest, parts []*Reader) (*Reader, error) {
	t := &Table{rows: int(m.Rows), dim: m.Dim, nt: narrowTiers}
	var counts [core.NumTiers]int64
	var stored [core.NumTiers]int64
	start := 0
	for i, rd := range parts {
		pt, err := rd.Table(m.Table)
		if err != nil {
			return nil, fmt.Errorf("part %s: %w", m.Parts[i].File, err)
		}
		if pt.dim != m.Dim || int64(pt.rows) != m.Parts[i].Rows {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "part %s holds %d x %d, the manifest says %d x %d", m.Parts[i].File, pt.rows, pt.dim, m.Parts[i].Rows, m.Dim)
		}
		for tier, c := range pt.Counts() {
			counts[tier] += c
			if b := pt.blocks[tier]; b != nil {
				stored[tier] += b.Len
			}
		}
		t.nt = max(t.nt, pt.nt)
		t.parts, t.starts = append(t.parts, pt), append(t.starts, start)
		start += pt.rows
	}
	t.even = true // every part but the last of the first's rows: r / rows finds r's
	for _, p := range t.parts[:len(t.parts)-1] {
		t.even = t.even && p.rows == t.parts[0].rows
	}
	e := &Entry{Name: m.Table, Kind: KindTable, DType: string(formats.F32), Shape: []int64{m.Rows, int64(m.Dim)}, Counts: counts[:t.nt]}
	for tier, s := range stored[:t.nt] {
		e.Rows = append(e.Rows, &Block{Len: s}) // the sizes alone: the parts hold the blocks
		t.blocks[tier] = e.Rows[tier]
	}
	t.e, t.counts = e, counts
	major := MajorNarrow
	if t.nt != narrowTiers {
		major = Major
	}
	rd := &Reader{Header: Header{Major: major, Minor: Minor, Codec: Codec, Method: m.Method, Provenance: m.Provenance, Tensors: []Entry{*e}},
		tables: map[string]*Table{m.Table: t}, parts: parts}
	t.rd = rd
	return rd, nil
}

// part is the part holding row r, and r's row in it.
func (t *Table) part(r int) (*Table, int) {
	k := 0
	if t.even && t.parts[0].rows > 0 {
		k = min(r/t.parts[0].rows, len(t.parts)-1)
	} else {
		k = sort.Search(len(t.starts), func(i int) bool { return t.starts[i] > r }) - 1
	}
	return t.parts[k], r - t.starts[k]
}

// partsIDs is IDs across the parts.
func (t *Table) partsIDs(tier core.Tier) []int64 {
	var out []int64
	for k, p := range t.parts {
		for _, id := range p.IDs(tier) {
			out = append(out, id+int64(t.starts[k]))
		}
	}
	return out
}

// partsTierReader is TierReader across the parts, in row order.
func (t *Table) partsTierReader(tier core.Tier) io.Reader {
	var rs []io.Reader
	for _, p := range t.parts {
		rs = append(rs, p.TierReader(tier))
	}
	return io.MultiReader(rs...)
}

// eachPart runs fn on every part.
func (t *Table) eachPart(fn func(p *Table) error) error {
	for _, p := range t.parts {
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// poolParts is PoolBags across the parts: each row read from its part.
func (t *Table) poolParts(ids, offsets []int, mean bool, dst []float32) error {
	nb, err := checkBags(ids, offsets, t.dim, dst)
	if err != nil {
		return err
	}
	row := make([]float32, t.dim)
	for b := range nb {
		out := dst[b*t.dim : (b+1)*t.dim]
		clear(out)
		bag := ids[offsets[b]:offsets[b+1]]
		for _, id := range bag {
			if id < 0 || id >= t.rows {
				return fmt.Errorf("table %q: row %d out of range [0, %d)", t.e.Name, id, t.rows)
			}
			p, r := t.part(id)
			if err := p.Row(r, row); err != nil {
				return err
			}
			for j, v := range row {
				out[j] += v
			}
		}
		if mean && len(bag) > 0 {
			for j := range out {
				out[j] /= float32(len(bag))
			}
		}
	}
	return nil
}

// isManifest reports whether a file begins as a parts manifest.
func isManifest(head []byte) bool { return bytes.HasPrefix(head, []byte(ManifestMagic)) }

// openParts opens a manifest at path and its parts beside it, each
// memory-mapped where the system allows. Parts are opened through an
// os.Root of the manifest's folder, as formats opens a file's siblings: a
// part that names or links its way out of the folder is refused, and so is
// a part that is itself a manifest (one naming itself recursed until no
// file could be opened).
func openParts(path string, size int64, r io.ReaderAt) (*File, error) {
	m, err := ReadManifest(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var files []*File
	closeAll := func() error {
		var first error
		for _, f := range files {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	rd, err := readParts(m, func(file string) (*Reader, error) {
		f, err := openPart(root, file)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return f.Reader, nil
	})
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{Reader: rd, close: closeAll}, nil
}

// ErrPartOutside: a manifest's part is not a file of the manifest's folder.
var ErrPartOutside = errors.New("a part must be a regular .shark file in the manifest's folder")

// openPart opens the part file through root.
func openPart(root *os.Root, file string) (*File, error) {
	if !filepath.IsLocal(file) {
		return nil, formats.Errorf(name, -1, formats.ErrUnsupported, "%v", ErrPartOutside)
	}
	st, err := root.Stat(file) // links are followed only inside the folder
	if err != nil {
		return nil, fmt.Errorf("%w (%w)", ErrPartOutside, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %w", ErrPartOutside, formats.ErrNotRegular)
	}
	osf, err := root.Open(file)
	if err != nil {
		return nil, err
	}
	if err := notManifest(osf); err != nil {
		osf.Close()
		return nil, err
	}
	return openMapped(osf, st.Size())
}

// notManifest refuses a part that is a manifest: one naming itself, or
// two naming each other, would be opened without end.
func notManifest(r io.ReaderAt) error {
	head := make([]byte, len(ManifestMagic))
	if n, _ := r.ReadAt(head, 0); isManifest(head[:n]) {
		return fmt.Errorf("%w: it is a parts manifest itself", ErrPartOutside)
	}
	return nil
}
