// Package onnx reads ONNX models (.onnx): the graph's initializers as
// tensors, in place where their bytes are stored raw (raw_data, packed
// float_data and double_data, external data files beside the model), and
// which Gather nodes look rows up in each, the mark of an embedding table.
package onnx

import (
	"io"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
)

const name = "onnx"

// Field numbers of onnx.proto's messages.
const (
	modelIRVersion  = 1
	modelProducer   = 2
	modelGraph      = 7
	graphNode       = 1
	graphName       = 2
	graphInit       = 5
	graphSparseInit = 15
	nodeInput       = 1
	nodeName        = 3
	nodeOpType      = 4
	nodeAttribute   = 5
	nodeDomain      = 7
	attrGraph       = 6  // AttributeProto.g: a Loop's or Scan's body, an If's branch
	attrGraphs      = 11 // AttributeProto.graphs
)

// maxDepth bounds how deep subgraphs (a Loop body inside an If branch...)
// are followed: exporters nest a few levels; a crafted model nesting
// thousands would cost a stack frame each.
const maxDepth = 64

// maxName bounds the names and strings read from a model.
const maxName = 1 << 16

func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: match,
		Claim: claim,
		Open:  Open,
	})
}

// match: a ModelProto as onnx writes it begins with ir_version (field 1,
// a varint).
func match(h []byte) bool {
	if len(h) < 2 || h[0] != 0x08 {
		return false
	}
	v, n := protowire.ConsumeVarint(h[1:])
	return n > 0 && v >= 1 && v <= 100
}

// claim checks that the top-level fields hold one graph: other protobuf
// files (a TensorFlow saved_model.pb) begin with a varint field 1 too. A
// model cut short in its graph is still claimed, for Open to say where.
func claim(r io.ReaderAt, size int64) bool {
	s := newScanner(r, 0, size)
	graphs := 0
	for {
		f, ok, err := s.next()
		if err != nil {
			return graphs == 1 || (graphs == 0 && s.last == modelGraph)
		}
		if !ok {
			return graphs == 1
		}
		if f.num == modelGraph && f.typ == protowire.BytesType {
			graphs++
		}
	}
}

// model is what Open gathers while scanning.
type model struct {
	src     formats.Source
	meta    map[string]string
	inits   []*initializer
	gathers map[string][]string // initializer name -> Gather nodes reading it
	sparse  int
	opened  map[string]openedFile // external data files, by location
	lookups map[string]string     // quantized lookups shark wrote: table -> metadata
}

// Open reads the model's graph: its initializers and nodes.
func Open(src formats.Source) (*formats.File, error) {
	m := &model{src: src, meta: map[string]string{}, gathers: map[string][]string{}, opened: map[string]openedFile{}, lookups: map[string]string{}}
	s := newScanner(src.R, 0, src.Size)
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := m.modelField(s, f); err != nil {
			return nil, err
		}
	}
	return m.file()
}

func (m *model) modelField(s *scanner, f field) error {
	switch {
	case f.num == modelIRVersion && f.typ == protowire.VarintType:
		m.meta["onnx.ir_version"] = strconv.FormatUint(f.v, 10)
	case f.num == modelProducer && f.typ == protowire.BytesType:
		b, err := s.bytes(f, maxName)
		if err != nil {
			return err
		}
		m.meta["onnx.producer"] = string(b)
	case f.num == modelGraph && f.typ == protowire.BytesType:
		return m.graph(s.sub(f))
	case f.num == modelMeta && f.typ == protowire.BytesType:
		return m.metaEntry(s.sub(f))
	}
	return nil
}

func (m *model) graph(s *scanner) error {
	for {
		f, ok, err := s.next()
		if err != nil || !ok {
			return err
		}
		if f.typ != protowire.BytesType {
			continue
		}
		switch f.num {
		case graphNode:
			err = m.node(s.sub(f), 0)
		case graphInit:
			var in *initializer
			if in, err = readInitializer(s.sub(f)); err == nil {
				m.inits = append(m.inits, in)
			}
		case graphSparseInit:
			m.sparse++
		case graphName:
			var b []byte
			if b, err = s.bytes(f, maxName); err == nil {
				m.meta["onnx.graph"] = string(b)
			}
		}
		if err != nil {
			return err
		}
	}
}

// subgraph notes the Gather nodes of a graph held by a node's attribute, at
// the given depth: a Loop body's Gather reads an embedding table of the
// outer graph by name (nn.EmbeddingBag with offsets, as torch.onnx.export
// writes it). Its own initializers are not the model's tensors.
func (m *model) subgraph(s *scanner, depth int) error {
	if depth > maxDepth {
		return formats.Errorf(name, s.pos, formats.ErrUnsupported, "graphs nested more than %d deep", maxDepth)
	}
	for {
		f, ok, err := s.next()
		if err != nil || !ok {
			return err
		}
		if f.num == graphNode && f.typ == protowire.BytesType {
			if err := m.node(s.sub(f), depth); err != nil {
				return err
			}
		}
	}
}

// attribute follows the graphs a node's attribute holds.
func (m *model) attribute(s *scanner, depth int) error {
	for {
		f, ok, err := s.next()
		if err != nil || !ok {
			return err
		}
		if (f.num == attrGraph || f.num == attrGraphs) && f.typ == protowire.BytesType {
			if err := m.subgraph(s.sub(f), depth+1); err != nil {
				return err
			}
		}
	}
}

// node notes a Gather node's data input (its first), in the graph at the
// given depth and in any graph its attributes hold.
func (m *model) node(s *scanner, depth int) error {
	var op, nm, domain, data string
	inputs := 0
	for {
		f, ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if f.num == nodeAttribute && f.typ == protowire.BytesType {
			if err := m.attribute(s.sub(f), depth); err != nil {
				return err
			}
			continue
		}
		if f.typ != protowire.BytesType || (f.num != nodeInput && f.num != nodeName && f.num != nodeOpType && f.num != nodeDomain) {
			continue
		}
		b, err := s.bytes(f, maxName)
		if err != nil {
			return err
		}
		switch f.num {
		case nodeInput:
			if inputs == 0 {
				data = string(b)
			}
			inputs++
		case nodeName:
			nm = string(b)
		case nodeOpType:
			op = string(b)
		case nodeDomain:
			domain = string(b)
		}
	}
	if op == "Gather" && (domain == "" || domain == "ai.onnx") && data != "" {
		if nm == "" {
			nm = "(unnamed Gather)"
		}
		m.gathers[data] = append(m.gathers[data], nm)
	}
	return nil
}
