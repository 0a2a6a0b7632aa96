package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/core/kernels"
	"shark/formats"
	"shark/internal/numfmt"
)

// A model shark exported (writer.go) names each quantized lookup in its
// metadata_props; the reader gives the lookup's parts back as the one
// compressed table they are: rows per tier, the bytes they take, and rows
// that read back dequantized as float32, as a .shark table's do.

// maxLookupDim bounds a lookup's width as its metadata states it.
const maxLookupDim = 1 << 20

// metaEntry reads one StringStringEntryProto of metadata_props.
func (m *model) metaEntry(s *scanner) error {
	var kv [2]string
	for {
		f, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if (f.num == 1 || f.num == 2) && f.typ == protowire.BytesType {
			b, err := s.bytes(f, maxName)
			if err != nil {
				return err
			}
			kv[f.num-1] = string(b)
		}
	}
	if t, ok := strings.CutPrefix(kv[0], MetaPrefix); ok && t != "" {
		m.lookups[t] = kv[1]
	}
	return nil
}

// lookupSpec is what a lookup's metadata states.
type lookupSpec struct {
	rows   int64
	dim    int
	dtype  string
	counts [NumTiers]int64
	block  int64 // rows per block of the block tiers, when they hold rows
}

// maxLookupBlock bounds a lookup's rows per block, as a .shark table's.
const maxLookupBlock = 1 << 24

// parseLookup reads a lookup's metadata: four tiers' counts (fp32 to
// int4), or eight and the rows per block.
func parseLookup(v string) (lookupSpec, error) {
	var s lookupSpec
	c := &s.counts
	n, err := fmt.Sscanf(v, "rows=%d dim=%d dtype=%s tiers=%d/%d/%d/%d/%d/%d/%d/%d block=%d", &s.rows, &s.dim, &s.dtype,
		&c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6], &c[7], &s.block)
	if n != 12 || err != nil {
		s = lookupSpec{}
		n, err = fmt.Sscanf(v, "rows=%d dim=%d dtype=%s tiers=%d/%d/%d/%d", &s.rows, &s.dim, &s.dtype, &c[0], &c[1], &c[2], &c[3])
		if n != 7 || err != nil || strings.Contains(v, " block=") {
			return s, fmt.Errorf("%q is not rows=R dim=D dtype=T tiers=a/b/c/d (or eight tiers and block=B)", v)
		}
	}
	var sum int64
	for _, k := range c {
		if k < 0 || k > math.MaxInt32 {
			return s, fmt.Errorf("a tier of %d rows", k)
		}
		sum += k
	}
	if s.rows <= 0 || sum != s.rows || s.rows > math.MaxInt32 || s.dim <= 0 || s.dim > maxLookupDim {
		return s, fmt.Errorf("%d rows of width %d in tiers of %d", s.rows, s.dim, sum)
	}
	if c[5]+c[6]+c[7] > 0 && (s.block < 1 || s.block > maxLookupBlock) {
		return s, fmt.Errorf("block-tier rows in blocks of %d rows", s.block)
	}
	return s, nil
}

// blocks is the lookup's blocks of its block tiers.
func (s lookupSpec) blocks() int64 { return (s.rows + s.block - 1) / s.block }

// part is one initializer of a lookup, read in place.
type lookupPart struct {
	r   io.ReaderAt
	off int64
}

// quantized is a lookup's parts, checked against its metadata.
type quantized struct {
	name   string
	spec   lookupSpec
	index  lookupPart
	start  [NumTiers]int64
	rows   [NumTiers]lookupPart // each tier's rows (codes for the quantized tiers)
	scale  [NumTiers]lookupPart // a row's, or a block's for the block tiers
	bias   [NumTiers]lookupPart
	stored int64
}

// quantizedTables replaces the parts of each lookup the metadata names by
// the table they are.
func (m *model) quantizedTables(f *formats.File) error {
	tables := make([]string, 0, len(m.lookups))
	for t := range m.lookups {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	for _, t := range tables {
		spec, err := parseLookup(m.lookups[t])
		if err != nil {
			return formats.Errorf(name, 0, formats.ErrCorrupt, "metadata of the quantized lookup %q: %v", t, err)
		}
		if _, err := f.Tensor(t); err == nil {
			return formats.Errorf(name, 0, formats.ErrCorrupt, "an initializer has the name of the quantized lookup %q", t)
		}
		q, err := findParts(f, t, spec)
		if err != nil {
			return err
		}
		m.replaceParts(f, q)
	}
	return nil
}

// findParts locates a lookup's initializers, each of the shape and dtype
// its metadata makes it.
func findParts(f *formats.File, table string, spec lookupSpec) (*quantized, error) {
	q := &quantized{name: table, spec: spec}
	p := Prefix(table)
	get := func(nm string, d formats.DType, shape ...int64) (lookupPart, error) {
		t, err := f.Tensor(nm)
		if err != nil {
			return lookupPart{}, formats.Errorf(name, 0, formats.ErrCorrupt, "the quantized lookup %q has no %q", table, nm)
		}
		r, off, ok := t.ReaderAt()
		if t.DType != d || !slices.Equal(t.Shape, shape) || !ok {
			return lookupPart{}, formats.Errorf(name, 0, formats.ErrCorrupt, "the quantized lookup %q: %q is %s %v, not %s %v", table, nm, t.DType, t.Shape, d, shape)
		}
		return lookupPart{r, off}, nil
	}
	var err error
	if q.index, err = get(p+".index", formats.I32, spec.rows); err != nil {
		return nil, err
	}
	d := int64(spec.dim)
	var start int64
	for tier, n := range spec.counts {
		q.start[tier] = start
		start += n
		if n == 0 {
			continue
		}
		nm := p + "." + TierNames[tier]
		switch tier {
		case 0:
			q.rows[0], err = get(nm, formats.F32, n, d)
		case 1:
			q.rows[1], err = get(nm, formats.F16, n, d)
		default:
			params := n // a scale and bias a row, or a block
			if blockTier(tier) {
				params = spec.blocks()
			}
			if q.rows[tier], err = get(nm, formats.U8, n, int64(codeBytes(tier, spec.dim))); err == nil {
				if q.scale[tier], err = get(nm+".scale", formats.F16, params, 1); err == nil {
					q.bias[tier], err = get(nm+".bias", formats.F16, params, 1)
				}
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

// replaceParts puts the table where its first part was, and the parts'
// bytes in its stored size.
func (m *model) replaceParts(f *formats.File, q *quantized) {
	p := Prefix(q.name) + "."
	at := -1
	kept := f.Tensors[:0]
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, p) {
			kept = append(kept, t)
			continue
		}
		q.stored += t.Bytes
		if at < 0 {
			at = len(kept)
		}
	}
	s := q.spec
	t := formats.NewTensorStream(q.name, formats.F32, []int64{s.rows, int64(s.dim)}, s.rows*int64(s.dim)*4,
		func() (io.ReadCloser, error) { return io.NopCloser(&lookupReader{q: q}), nil })
	tiers := q.spec.counts // formats.Tensor's tiers are core's, as a lookup's
	t.Tiers = &tiers
	t.Stored = q.stored
	t.GatheredBy = m.gathers[Prefix(q.name)+".index"]
	f.Tensors = slices.Insert(kept, at, t)
	fp32 := s.rows * int64(s.dim) * 4
	m.meta["onnx.quantized_lookup."+q.name] = fmt.Sprintf("%s × %d %s, tiers %s: %s bytes, %.1f%% of %s at fp32",
		numfmt.Count(s.rows), s.dim, s.dtype, s.tierText(), numfmt.Count(q.stored), 100*float64(q.stored)/float64(fp32), numfmt.Count(fp32))
}

// tierText is the rows per tier, "fp32/fp16/int8/int4 a/b/c/d", with the
// later tiers and the blocks when they hold rows.
func (s lookupSpec) tierText() string {
	n := 4
	if s.counts[4]+s.counts[5]+s.counts[6]+s.counts[7] > 0 {
		n = NumTiers
	}
	counts := make([]string, n)
	for i := range counts {
		counts[i] = strconv.FormatInt(s.counts[i], 10)
	}
	v := strings.Join(TierNames[:n], "/") + " " + strings.Join(counts, "/")
	if s.counts[5]+s.counts[6]+s.counts[7] > 0 {
		v += fmt.Sprintf(" in blocks of %d rows", s.block)
	}
	return v
}

// lookupReader streams a lookup's rows decoded, as float32.
type lookupReader struct {
	q     *quantized
	row   int64
	index []byte // the index's next rows, read ahead
	out   []byte
	buf   []byte
	dst   []float32
}

const indexChunk = 4096

func (lr *lookupReader) Read(p []byte) (int, error) {
	for len(lr.out) == 0 {
		if lr.row >= lr.q.spec.rows {
			return 0, io.EOF
		}
		if err := lr.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, lr.out)
	lr.out = lr.out[n:]
	return n, nil
}

// next decodes the next row into out.
func (lr *lookupReader) next() error {
	q, dim := lr.q, lr.q.spec.dim
	if len(lr.index) == 0 { // the index a few thousand rows at a time
		lr.index = make([]byte, 4*min(indexChunk, q.spec.rows-lr.row))
		if err := readPart(q.index, lr.index, 4*lr.row); err != nil {
			return err
		}
	}
	g := int64(int32(binary.LittleEndian.Uint32(lr.index)))
	lr.index = lr.index[4:]
	tier := -1
	for t := range NumTiers {
		if g >= q.start[t] && g < q.start[t]+q.spec.counts[t] {
			tier = t
		}
	}
	if tier < 0 {
		return formats.Errorf(name, q.index.off+4*lr.row, formats.ErrCorrupt, "the quantized lookup %q: row %d's index %d is outside [0, %d)", q.name, lr.row, g, q.spec.rows)
	}
	slot := g - q.start[tier]
	if lr.dst == nil {
		lr.dst = make([]float32, dim)
	}
	if err := q.decode(tier, slot, lr.row, lr.dst, &lr.buf); err != nil {
		return err
	}
	lr.out = lr.out[:0]
	for _, v := range lr.dst {
		lr.out = binary.LittleEndian.AppendUint32(lr.out, math.Float32bits(v))
	}
	lr.row++
	return nil
}

// decode reads row slot of a tier into dst, as shark decodes it; a block
// tier's scale and bias are row's block's.
func (q *quantized) decode(tier int, slot, row int64, dst []float32, buf *[]byte) error {
	dim := len(dst)
	rb := 4 * dim
	switch tier {
	case 0:
	case 1:
		rb = 2 * dim
	default:
		rb = codeBytes(tier, dim)
	}
	b := slices.Grow((*buf)[:0], rb+4)[:rb]
	if err := readPart(q.rows[tier], b, slot*int64(rb)); err != nil {
		return err
	}
	switch tier {
	case 0:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case 1:
		kernels.HalfBytesToFloats(dst, b)
	default:
		at := slot
		if blockTier(tier) {
			at = row / q.spec.block
		}
		b = b[:rb+4] // the fused row: codes, fp16 scale, fp16 bias
		if err := readPart(q.scale[tier], b[rb:rb+2], 2*at); err != nil {
			return err
		}
		if err := readPart(q.bias[tier], b[rb+2:], 2*at); err != nil {
			return err
		}
		kernels.DequantizeRow(tierBits[tier], dst, b)
	}
	*buf = b
	return nil
}

func readPart(p lookupPart, b []byte, at int64) error {
	if n, err := p.r.ReadAt(b, p.off+at); n < len(b) {
		return formats.Errorf(name, p.off+at, formats.ErrCorrupt, "reading: %v", err)
	}
	return nil
}
