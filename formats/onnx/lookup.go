package onnx

import (
	"fmt"
	"io"
	"math"
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
	}
	return nil
}

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
	return specs
}

// codeBytes is the bytes of codes in an int8 (tier 2) or int4 (tier 3) row.
func codeBytes(tier, dim int) int {
	if tier == 2 {
		return dim
	}
	return (dim + 1) / 2
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
	rb := cb + 4
	specs := []tensorSpec{
		{q, typeUint8, []int64{n, int64(cb)}, n * int64(cb), columns(t.Tiers[tier], rb, 0, cb)},
		{q + ".scale", typeFloat16, []int64{n, 1}, 2 * n, columns(t.Tiers[tier], rb, cb, cb+2)},
		{q + ".bias", typeFloat16, []int64{n, 1}, 2 * n, columns(t.Tiers[tier], rb, cb+2, cb+4)},
	}
	if tier == 3 {
		// Column j is byte j/2's low nibble (j even) or high (j odd), of
		// the low nibbles [0, cb) and high nibbles [cb, 2cb) side by side.
		perm := make([]int64, t.Dim)
		for j := range perm {
			perm[j] = int64(j/2 + (j%2)*cb)
		}
		specs = append(specs, int64Vector(q+".perm", perm), floatScalar(q+".sixteenth", 1.0/16), floatScalar(q+".sixteen", 16))
	}
	return specs
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
		rows = append(rows, t.decode(b, tier, q, s))
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

// decode looks up the rows at slots s of one tier, as float32.
func (t *Table) decode(b *nodeList, tier int, q, s string) string {
	toFloat := intAttr("to", typeFloat)
	x := b.op("Gather", q, s)
	switch tier {
	case 0:
		return x
	case 1:
		return b.opA("Cast", []string{x}, toFloat)
	}
	c := b.opA("Cast", []string{x}, toFloat)
	if tier == 3 {
		hi := b.op("Floor", b.op("Mul", c, q+".sixteenth"))
		lo := b.op("Sub", c, b.op("Mul", hi, q+".sixteen"))
		both := b.opA("Concat", []string{lo, hi}, intAttr("axis", -1))
		c = b.opA("Gather", []string{both, q + ".perm"}, intAttr("axis", -1))
	}
	scale := b.opA("Cast", []string{b.op("Gather", q+".scale", s)}, toFloat)
	bias := b.opA("Cast", []string{b.op("Gather", q+".bias", s)}, toFloat)
	return b.op("Add", b.op("Mul", c, scale), bias)
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
// "rows=R dim=D dtype=F32 tiers=n0/n1/n2/n3".
func (t *Table) metaValue() string {
	c := t.Counts
	return fmt.Sprintf("rows=%d dim=%d dtype=%s tiers=%d/%d/%d/%d", t.Rows, t.Dim, t.DType, c[0], c[1], c[2], c[3])
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
