package onnx

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"shark/formats"
)

// check says what keeps a table from being written.
func (t *Table) check() error {
	var sum int64
	for _, c := range t.Counts {
		if c < 0 {
			return fmt.Errorf("%w: table %q: a tier of %d rows", formats.ErrCorrupt, t.Name, c)
		}
		sum += c
	}
	switch {
	case t.Rows <= 0 || t.Dim <= 0:
		return fmt.Errorf("%w: table %q of %d × %d: no rows to look up", formats.ErrUnsupported, t.Name, t.Rows, t.Dim)
	case sum != t.Rows:
		return fmt.Errorf("%w: table %q: tiers of %d rows in all, of a table of %d", formats.ErrCorrupt, t.Name, sum, t.Rows)
	case t.Rows > math.MaxInt32:
		return fmt.Errorf("%w: table %q: %d rows, beyond the int32 index of a quantized lookup", formats.ErrTooLarge, t.Name, t.Rows)
	case !t.DType.IsFloat():
		return fmt.Errorf("%w: table %q of %s", formats.ErrUnsupported, t.Name, t.DType)
	case len(t.blockTiers()) > 0 && (t.Block < 1 || t.Params == nil):
		return fmt.Errorf("%w: table %q has block-tier rows but blocks of %d rows and no parameters", formats.ErrCorrupt, t.Name, t.Block)
	}
	return nil
}

// blockTiers is the block tiers holding rows, in tier order: those whose
// parameters Params streams.
func (t *Table) blockTiers() []int {
	var out []int
	for tier, n := range t.Counts {
		if n > 0 && blockTier(tier) {
			out = append(out, tier)
		}
	}
	return out
}

// blocks is the table's blocks of Block rows (the last may be short).
func (t *Table) blocks() int64 { return (t.Rows + int64(t.Block) - 1) / int64(t.Block) }

// parts are the table's initializers: its index, each non-empty tier's
// rows (and scale and bias), and the small constants its lookups use.
func (t *Table) parts() []tensorSpec {
	p := Prefix(t.Name)
	specs := []tensorSpec{{p + ".index", typeInt32, []int64{t.Rows}, 4 * t.Rows, t.Index},
		int32Scalar(p+".zero", 0), int64Vector(p+".axes", []int64{-1})}
	var start int64
	for tier, n := range t.Counts {
		if n == 0 {
			continue
		}
		q := p + "." + TierNames[tier]
		specs = append(specs, int32Scalar(q+".start", start), int32Scalar(q+".last", n-1))
		if start+n < t.Rows { // the last tier's end is never compared with
			specs = append(specs, int32Scalar(q+".end", start+n))
		}
		specs = append(specs, t.tierParts(tier, q, n)...)
		start += n
	}
	if len(t.blockTiers()) > 0 { // a row's block: Mod(id, rows) / block
		specs = append(specs, int64Scalar(p+".rows", t.Rows), int64Scalar(p+".block", int64(t.Block)))
	}
	return specs
}

// codeBytes is the bytes of codes in a row of a quantized tier (int8 D,
// int4 ceil(D/2), int2 ceil(D/4), and the block tiers alike).
func codeBytes(tier, dim int) int {
	per := 8 / tierBits[tier]
	return (dim + per - 1) / per
}

func (t *Table) tierParts(tier int, q string, n int64) []tensorSpec {
	d := int64(t.Dim)
	switch tier {
	case 0:
		return []tensorSpec{{q, typeFloat, []int64{n, d}, 4 * n * d, t.Tiers[0]}}
	case 1:
		return []tensorSpec{{q, typeFloat16, []int64{n, d}, 2 * n * d, t.Tiers[1]}}
	}
	cb := codeBytes(tier, t.Dim)
	var specs []tensorSpec
	if blockTier(tier) { // codes alone; scale and bias a block
		i := slices.Index(t.blockTiers(), tier)
		k, nb := 4*len(t.blockTiers()), t.blocks()
		specs = []tensorSpec{
			{q, typeUint8, []int64{n, int64(cb)}, n * int64(cb), t.Tiers[tier]},
			{q + ".scale", typeFloat16, []int64{nb, 1}, 2 * nb, columns(t.Params, k, 4*i, 4*i+2)},
			{q + ".bias", typeFloat16, []int64{nb, 1}, 2 * nb, columns(t.Params, k, 4*i+2, 4*i+4)},
		}
	} else {
		rb := cb + 4
		specs = []tensorSpec{
			{q, typeUint8, []int64{n, int64(cb)}, n * int64(cb), columns(t.Tiers[tier], rb, 0, cb)},
			{q + ".scale", typeFloat16, []int64{n, 1}, 2 * n, columns(t.Tiers[tier], rb, cb, cb+2)},
			{q + ".bias", typeFloat16, []int64{n, 1}, 2 * n, columns(t.Tiers[tier], rb, cb+2, cb+4)},
		}
	}
	if bits := tierBits[tier]; bits < 8 {
		// Column j is code j%per of byte j/per, of the codes split into
		// per planes of cb columns side by side (plane k: bits k*bits up).
		per := 8 / bits
		perm := make([]int64, t.Dim)
		for j := range perm {
			perm[j] = int64(j/per + (j%per)*cb)
		}
		specs = append(specs, int64Vector(q+".perm", perm))
		for _, w := range planes(bits) {
			specs = append(specs, floatScalar(q+".inv"+strconv.Itoa(w), 1/float32(w)), floatScalar(q+".mul"+strconv.Itoa(w), float32(w)))
		}
	}
	return specs
}

// planes is the weights of the codes above the lowest in a byte of
// bits-bit codes, highest first: 16 for int4, 64, 16, 4 for int2.
func planes(bits int) []int {
	var out []int
	for w := 1 << (8 - bits); w > 1; w >>= bits {
		out = append(out, w)
	}
	return out
}

// nodeList collects the nodes of one lookup, naming each node and its
// output after the lookup.
type nodeList struct {
	pre   string
	nodes []*msg
}

func (b *nodeList) op(op string, ins ...string) string { return b.opA(op, ins) }

func (b *nodeList) opA(op string, ins []string, attrs ...*msg) string {
	out := b.pre + "/" + strconv.Itoa(len(b.nodes))
	b.nodes = append(b.nodes, node(op, out, ins, out, attrs...))
	return out
}

// lookupNodes are the nodes of the k-th lookup of ids in the table,
// giving out: rows of the table's source dtype, shaped ids.shape + [Dim].
func (t *Table) lookupNodes(k int, ids, out string) []*msg {
	p := Prefix(t.Name)
	b := &nodeList{pre: p + "/lookup" + strconv.Itoa(k)}
	g := b.op("Gather", p+".index", ids)
	blk := ""
	if len(t.blockTiers()) > 0 { // each id's block, counting negative ids from the end
		id := b.opA("Cast", []string{ids}, intAttr("to", typeInt64))
		blk = b.op("Div", b.op("Mod", id, p+".rows"), p+".block")
	}
	var tiers []int
	var rows []string
	for tier, n := range t.Counts {
		if n > 0 {
			tiers = append(tiers, tier)
		}
	}
	for _, tier := range tiers {
		q := p + "." + TierNames[tier]
		s := g
		if len(tiers) > 1 {
			s = b.op("Clip", b.op("Sub", g, q+".start"), p+".zero", q+".last")
		}
		rows = append(rows, t.decode(b, tier, q, s, blk))
	}
	acc := rows[len(rows)-1]
	for i := len(rows) - 2; i >= 0; i-- {
		c := b.op("Unsqueeze", b.op("Less", g, p+"."+TierNames[tiers[i]]+".end"), p+".axes")
		acc = b.op("Where", c, rows[i], acc)
	}
	last := node("Identity", b.pre+"/out", []string{acc}, out)
	if t.DType != formats.F32 {
		dt, _ := onnxType(t.DType)
		last = node("Cast", b.pre+"/out", []string{acc}, out, intAttr("to", int64(dt)))
	}
	return append(b.nodes, last)
}

// decode looks up the rows at slots s of one tier, as float32; a block
// tier's scale and bias at the ids' blocks blk.
func (t *Table) decode(b *nodeList, tier int, q, s, blk string) string {
	toFloat := intAttr("to", typeFloat)
	x := b.op("Gather", q, s)
	switch tier {
	case 0:
		return x
	case 1:
		return b.opA("Cast", []string{x}, toFloat)
	}
	c := b.opA("Cast", []string{x}, toFloat)
	if bits := tierBits[tier]; bits < 8 {
		c = unpack(b, q, bits, c)
	}
	at := s
	if blockTier(tier) {
		at = blk
	}
	scale := b.opA("Cast", []string{b.op("Gather", q+".scale", at)}, toFloat)
	bias := b.opA("Cast", []string{b.op("Gather", q+".bias", at)}, toFloat)
	return b.op("Add", b.op("Mul", c, scale), bias)
}

// unpack splits bytes c (as floats) of bits-bit codes into the codes, in
// column order: the highest code of each byte peeled off first (hi =
// Floor(x / w), x -= w * hi, every step exact), the planes laid side by
// side lowest first, then one Gather over the last axis (perm).
func unpack(b *nodeList, q string, bits int, c string) string {
	var hi []string // the planes above the lowest, highest first
	for _, w := range planes(bits) {
		k := strconv.Itoa(w)
		h := b.op("Floor", b.op("Mul", c, q+".inv"+k))
		c = b.op("Sub", c, b.op("Mul", h, q+".mul"+k))
		hi = append(hi, h)
	}
	codes := []string{c}
	for i := len(hi) - 1; i >= 0; i-- {
		codes = append(codes, hi[i])
	}
	both := b.opA("Concat", codes, intAttr("axis", -1))
	return b.opA("Gather", []string{both, q + ".perm"}, intAttr("axis", -1))
}

// columns streams bytes [from, to) of each rb-byte row open yields.
func columns(open func() (io.Reader, error), rb, from, to int) func() (io.Reader, error) {
	return func() (io.Reader, error) {
		r, err := open()
		if err != nil {
			return nil, err
		}
		return &columnReader{r: r, rb: rb, from: from, to: to, buf: make([]byte, rb*max(1, 1<<16/rb))}, nil
	}
}

type columnReader struct {
	r            io.Reader
	rb, from, to int
	buf, out     []byte
}

func (c *columnReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		n, err := io.ReadFull(c.r, c.buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return 0, err
		}
		if n == 0 {
			return 0, io.EOF
		}
		if n%c.rb != 0 {
			return 0, io.ErrUnexpectedEOF
		}
		w := 0
		for i := 0; i < n; i += c.rb { // in place: w never passes i+from
			w += copy(c.buf[w:], c.buf[i+c.from:i+c.to])
		}
		c.out = c.buf[:w]
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *columnReader) Close() error {
	if cl, ok := c.r.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// metaValue describes a table's lookup for the reader:
// "rows=R dim=D dtype=F32 tiers=n0/n1/n2/n3" when only the first four
// tiers hold rows (as every reader before the later tiers takes it), else
// "rows=R dim=D dtype=F32 tiers=n0/.../n7 block=B".
func (t *Table) metaValue() string {
	c := t.Counts
	v := fmt.Sprintf("rows=%d dim=%d dtype=%s tiers=%d/%d/%d/%d", t.Rows, t.Dim, t.DType, c[0], c[1], c[2], c[3])
	if c[4]+c[5]+c[6]+c[7] == 0 {
		return v
	}
	return v + fmt.Sprintf("/%d/%d/%d/%d block=%d", c[4], c[5], c[6], c[7], t.Block)
}

// Lookups makes a model of the tables' lookups alone: per table an input
// "<name>.ids" (a 1-D list of int64 ids; ONNX Gather counts negative ones
// from the end) and an output "<name>.rows" ([len(ids), Dim], in the
// table's source dtype).
func Lookups(tables []Table, opt Options) (*Model, error) {
	for i := range tables {
		if err := tables[i].check(); err != nil {
			return nil, err
		}
	}
	return build(opt, func(ext *extData) (*msg, error) {
		g := newMsg().str(graphName, "shark_lookups")
		for i := range tables {
			t := &tables[i]
			for _, n := range t.lookupNodes(0, t.Name+".ids", t.Name+".rows") {
				g.add(graphNode, n)
			}
		}
		for i := range tables {
			for _, ts := range tables[i].parts() {
				g.add(graphInit, ts.proto(ext))
			}
		}
		for i := range tables {
			t := &tables[i]
			dt, _ := onnxType(t.DType)
			n := t.Name + ".n" // each table's own count of ids
			g.add(graphInput, valueInfo(t.Name+".ids", typeInt64, n))
			g.add(graphOutput, valueInfo(t.Name+".rows", dt, n, int64(t.Dim)))
		}
		m := newMsg().varint(modelIRVersion, 8).str(modelProducer, "shark")
		m.add(modelGraph, g)
		m.add(modelOpset, newMsg().str(1, "").varint(opsetVersion, 17))
		return addMeta(m, tables), nil
	})
}

// valueInfo is a ValueInfoProto of a tensor: each dim an int64 (a size)
// or a string (a size named).
func valueInfo(name string, elem uint64, dims ...any) *msg {
	shape := newMsg()
	for _, dim := range dims {
		d := newMsg()
		if v, ok := dim.(int64); ok {
			d.varint(dimValue, uint64(v))
		} else {
			d.str(dimParam, dim.(string))
		}
		shape.add(shapeDim, d)
	}
	tt := newMsg().varint(tensorElemType, elem).add(tensorShape, shape)
	return newMsg().str(valueInfoName, name).add(valueInfoType, newMsg().add(typeTensor, tt))
}

// addMeta records each table's lookup in the model's metadata_props.
func addMeta(m *msg, tables []Table) *msg {
	for i := range tables {
		m.add(modelMeta, newMsg().str(1, MetaPrefix+tables[i].Name).str(2, tables[i].metaValue()))
	}
	return m
}
