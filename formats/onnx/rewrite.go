package onnx

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
)

// Replace makes the model read through r (size bytes, opened as f) with
// each table's initializer replaced by its quantized lookup's parts and
// each Gather reading it, in the graph or in a subgraph (a Loop's body),
// by the lookup's nodes giving the same output. Every other field of the
// model is copied as it was, initializers' data streamed from r; an
// initializer whose data is in an external file beside the source is
// written into the model (or the model's own external data file).
func Replace(r io.ReaderAt, size int64, f *formats.File, tables []Table, opt Options) (*Model, error) {
	if err := NotExported(f); err != nil {
		return nil, err
	}
	rw := &rewriter{r: r, size: size, f: f, tables: map[string]*Table{}}
	for i := range tables {
		t := &tables[i]
		if err := t.check(); err != nil {
			return nil, err
		}
		if err := matchInitializer(f, t); err != nil {
			return nil, err
		}
		rw.tables[t.Name] = t
		rw.order = append(rw.order, t)
	}
	if err := rw.checkNames(); err != nil {
		return nil, err
	}
	if err := rw.checkOpset(); err != nil {
		return nil, err
	}
	return build(opt, func(ext *extData) (*msg, error) {
		rw.ext, rw.lookups = ext, 0
		return rw.model(tables)
	})
}

// ErrExported: the graph given is a model shark exported already, its
// tables quantized lookups: rewriting it would add each lookup's parts a
// second time.
var ErrExported = errors.New("the graph is already compressed by shark")

// NotExported refuses a graph holding a quantized lookup shark wrote (the
// reader gives it back as a table with tiers).
func NotExported(f *formats.File) error {
	for _, t := range f.Tensors {
		if t.Tiers != nil {
			return fmt.Errorf("%w (%q is a quantized lookup shark wrote): the graph must be the .onnx model the .shark file was made from, not an export of it", ErrExported, t.Name)
		}
	}
	return nil
}

// matchInitializer checks that the model holds the table: an initializer
// of its name, shape and dtype.
func matchInitializer(f *formats.File, t *Table) error {
	ft, err := f.Tensor(t.Name)
	if err != nil {
		return fmt.Errorf("%w: the graph has no initializer %q: is it the model the .shark file was made from?", formats.ErrNotFound, t.Name)
	}
	if !slices.Equal(ft.Shape, []int64{t.Rows, int64(t.Dim)}) || ft.DType != t.DType {
		return fmt.Errorf("%w: the graph's %q is %s %v; the compressed table is %s [%d %d]: is it the model the .shark file was made from?",
			formats.ErrUnsupported, t.Name, ft.DType, ft.Shape, t.DType, t.Rows, t.Dim)
	}
	return nil
}

type rewriter struct {
	r       io.ReaderAt
	size    int64
	f       *formats.File
	tables  map[string]*Table
	order   []*Table
	ext     *extData
	lookups int    // Gathers replaced so far
	opset   uint64 // the default domain's opset
}

// checkNames refuses a model already holding a name the lookups would
// add, so that no name is defined twice.
func (rw *rewriter) checkNames() error {
	for _, t := range rw.f.Tensors {
		for _, tb := range rw.order {
			if strings.HasPrefix(t.Name, Prefix(tb.Name)+".") {
				return fmt.Errorf("%w: the graph already has %q, a name the quantized lookup of %q takes (was it exported by shark already?)", formats.ErrUnsupported, t.Name, tb.Name)
			}
		}
	}
	return nil
}

func (rw *rewriter) model(tables []Table) (*msg, error) {
	s := newScanner(rw.r, 0, rw.size)
	m := newMsg()
	graphs := 0
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch {
		case f.num == modelGraph && f.typ == protowire.BytesType:
			g, err := rw.graph(s.sub(f), 0)
			if err != nil {
				return nil, err
			}
			m.add(modelGraph, g)
			graphs++
		default:
			m.copyField(s, f)
		}
	}
	if graphs != 1 {
		return nil, corrupt(0, "%d graphs in the model", graphs)
	}
	return addMeta(m, tables), nil
}

// MinOpset is the default domain's opset a quantized lookup needs
// (Unsqueeze's axes an input, Clip of any type), so that a graph must
// import to be exported with its tables as lookups.
const MinOpset = 13

// checkOpset refuses a model importing the default domain's operators
// before MinOpset.
func (rw *rewriter) checkOpset() error {
	v, err := DefaultOpset(rw.r, rw.size)
	if err != nil {
		return err
	}
	rw.opset = v
	if v < MinOpset {
		return fmt.Errorf("%w: the model imports the default opset %d; a quantized lookup needs %d or later (torch.onnx.export(..., opset_version=%d))", formats.ErrUnsupported, v, MinOpset, MinOpset)
	}
	return nil
}

// DefaultOpset is the version of the default operator domain the model
// read through r (size bytes) imports; 1 when it imports none.
func DefaultOpset(r io.ReaderAt, size int64) (uint64, error) {
	var o opsetReader
	s := newScanner(r, 0, size)
	for {
		f, ok, err := s.next()
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		if f.num == modelOpset && f.typ == protowire.BytesType {
			if err := o.entry(s.sub(f)); err != nil {
				return 0, err
			}
		}
	}
	return max(o.opset, 1), nil
}

type opsetReader struct{ opset uint64 }

// entry notes the version of the default domain ("" or "ai.onnx").
func (rw *opsetReader) entry(s *scanner) error {
	var domain string
	var version uint64
	for {
		f, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		switch {
		case f.num == 1 && f.typ == protowire.BytesType:
			b, err := s.bytes(f, maxName)
			if err != nil {
				return err
			}
			domain = string(b)
		case f.num == opsetVersion && f.typ == protowire.VarintType:
			version = f.v
		}
	}
	if domain == "" || domain == "ai.onnx" {
		rw.opset = version
	}
	return nil
}

// graph copies a graph, replacing the Gathers of tables; at depth 0 (the
// model's graph) it also drops the tables' initializers and inputs and
// adds the lookups' parts.
func (rw *rewriter) graph(s *scanner, depth int) (*msg, error) {
	if depth > maxDepth {
		return nil, formats.Errorf(name, s.pos, formats.ErrUnsupported, "graphs nested more than %d deep", maxDepth)
	}
	g := newMsg()
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if f.typ != protowire.BytesType {
			g.copyField(s, f)
			continue
		}
		switch {
		case f.num == graphNode:
			nodes, err := rw.node(s.sub(f), depth)
			if err != nil {
				return nil, err
			}
			for _, n := range nodes {
				g.add(graphNode, n)
			}
		case f.num == graphInit && depth == 0:
			if err := rw.initializer(g, s, f); err != nil {
				return nil, err
			}
		case f.num == graphInput && depth == 0:
			nm, err := valueInfoNameOf(s.sub(f))
			if err != nil {
				return nil, err
			}
			if rw.tables[nm] == nil { // an IR 3 model lists initializers as inputs
				g.copyField(s, f)
			}
		default:
			g.copyField(s, f)
		}
	}
	if depth == 0 {
		for _, t := range rw.order {
			for _, ts := range t.parts() {
				g.add(graphInit, ts.proto(rw.ext))
			}
		}
	}
	return g, nil
}

func valueInfoNameOf(s *scanner) (string, error) {
	for {
		f, ok, err := s.next()
		if err != nil || !ok {
			return "", err
		}
		if f.num == valueInfoName && f.typ == protowire.BytesType {
			b, err := s.bytes(f, maxName)
			return string(b), err
		}
	}
}

// initializer copies a model's initializer, drops a table's, and writes
// one whose data is outside the model (or must go outside) anew.
func (rw *rewriter) initializer(g *msg, s *scanner, f field) error {
	in, err := readInitializer(s.sub(f))
	if err != nil {
		return err
	}
	if rw.tables[in.name] != nil {
		return nil
	}
	external := in.external["location"] != ""
	moved := rw.ext != nil && in.raw != nil && in.raw.n >= rw.ext.min
	if !external && !moved {
		g.copyField(s, f)
		return nil
	}
	t := newMsg()
	ts := s.sub(f)
	for {
		tf, ok, err := ts.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if tf.num != tensorRaw && tf.num != tensorExternal && tf.num != tensorLocation {
			t.copyField(ts, tf)
		}
	}
	n, open, err := rw.initializerData(in)
	if err != nil {
		return err
	}
	if rw.ext != nil && n >= rw.ext.min {
		rw.ext.place(t, n, open)
	} else {
		t.stream(tensorRaw, n, open)
	}
	g.add(graphInit, t)
	return nil
}

// initializerData is where an initializer's raw bytes are read from.
func (rw *rewriter) initializerData(in *initializer) (int64, func() (io.Reader, error), error) {
	if in.raw != nil {
		raw := *in.raw
		return raw.n, func() (io.Reader, error) { return io.NewSectionReader(rw.r, raw.off, raw.n), nil }, nil
	}
	ft, err := rw.f.Tensor(in.name)
	if err != nil {
		return 0, nil, in.errorf(formats.ErrUnsupported, "its data is outside the model and of a type shark does not copy")
	}
	return ft.Bytes, func() (io.Reader, error) { return ft.Open() }, nil
}

// node copies a node, following the graphs its attributes hold, or
// replaces it by a lookup when it is a Gather of a table.
func (rw *rewriter) node(s *scanner, depth int) ([]*msg, error) {
	var op, domain string
	var ins, outs []string
	axis := int64(0)
	m := newMsg()
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if f.typ != protowire.BytesType {
			m.copyField(s, f)
			continue
		}
		if f.num == nodeAttribute {
			a, ax, err := rw.attribute(s.sub(f), depth)
			if err != nil {
				return nil, err
			}
			if ax != nil {
				axis = *ax
			}
			m.add(nodeAttribute, a)
			continue
		}
		m.copyField(s, f)
		if f.num != nodeInput && f.num != nodeOutput && f.num != nodeOpType && f.num != nodeDomain {
			continue
		}
		b, err := s.bytes(f, maxName)
		if err != nil {
			return nil, err
		}
		switch f.num {
		case nodeInput:
			ins = append(ins, string(b))
		case nodeOutput:
			outs = append(outs, string(b))
		case nodeOpType:
			op = string(b)
		case nodeDomain:
			domain = string(b)
		}
	}
	return rw.replace(m, op, domain, ins, outs, axis)
}

// replace gives the lookup's nodes for a Gather of a table on axis 0, the
// node itself for any node reading no table.
func (rw *rewriter) replace(m *msg, op, domain string, ins, outs []string, axis int64) ([]*msg, error) {
	gather := op == "Gather" && (domain == "" || domain == "ai.onnx")
	for i, in := range ins {
		t := rw.tables[in]
		if t == nil {
			continue
		}
		if !gather || i != 0 || axis != 0 || len(ins) != 2 || len(outs) != 1 {
			return nil, fmt.Errorf("%w: the table %q is read by a %s node (input %d), not only by Gather on axis 0: only its rows can be looked up from the compressed table", formats.ErrUnsupported, in, op, i)
		}
		rw.lookups++
		return t.lookupNodes(rw.lookups, ins[1], outs[0]), nil
	}
	return []*msg{m}, nil
}

// attribute copies an attribute, rewriting the graphs it holds; axis is
// its value when it is an int attribute named "axis".
func (rw *rewriter) attribute(s *scanner, depth int) (*msg, *int64, error) {
	a := newMsg()
	var nm string
	var iv *int64
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		switch {
		case (f.num == attrGraph || f.num == attrGraphs) && f.typ == protowire.BytesType:
			g, err := rw.graph(s.sub(f), depth+1)
			if err != nil {
				return nil, nil, err
			}
			a.add(f.num, g)
			continue
		case f.num == attrName && f.typ == protowire.BytesType:
			b, err := s.bytes(f, maxName)
			if err != nil {
				return nil, nil, err
			}
			nm = string(b)
		case f.num == attrInt && f.typ == protowire.VarintType:
			v := int64(f.v)
			iv = &v
		}
		a.copyField(s, f)
	}
	if nm != "axis" {
		iv = nil
	}
	return a, iv, nil
}
