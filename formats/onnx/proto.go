package onnx

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg is a protobuf message being written: its fields in order, each a
// literal, a nested message or a stream of bytes whose length is known
// before it is read. A model's tensors are streamed into place: the whole
// message tree is sized first (a length prefix comes before its bytes),
// then written in one pass, so no initializer is ever held whole.
type msg struct {
	parts []part
	size  int64 // -1 until sized
}

type part struct {
	lit  []byte // a whole field, tag included
	num  protowire.Number
	sub  *msg                      // a nested message under num
	n    int64                     // a stream of n bytes under num
	open func() (io.Reader, error) // the stream's bytes
}

func newMsg() *msg { return &msg{size: -1} }

func (m *msg) varint(num protowire.Number, v uint64) *msg {
	b := protowire.AppendTag(nil, num, protowire.VarintType)
	m.parts = append(m.parts, part{lit: protowire.AppendVarint(b, v)})
	return m
}

func (m *msg) fixed32(num protowire.Number, v uint32) *msg {
	b := protowire.AppendTag(nil, num, protowire.Fixed32Type)
	m.parts = append(m.parts, part{lit: protowire.AppendFixed32(b, v)})
	return m
}

func (m *msg) fixed64(num protowire.Number, v uint64) *msg {
	b := protowire.AppendTag(nil, num, protowire.Fixed64Type)
	m.parts = append(m.parts, part{lit: protowire.AppendFixed64(b, v)})
	return m
}

func (m *msg) bytes(num protowire.Number, v []byte) *msg {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	m.parts = append(m.parts, part{lit: protowire.AppendBytes(b, v)})
	return m
}

func (m *msg) str(num protowire.Number, s string) *msg { return m.bytes(num, []byte(s)) }

// add nests sub under num.
func (m *msg) add(num protowire.Number, sub *msg) *msg {
	m.parts = append(m.parts, part{num: num, sub: sub})
	return m
}

// stream puts n bytes that open yields under num.
func (m *msg) stream(num protowire.Number, n int64, open func() (io.Reader, error)) *msg {
	m.parts = append(m.parts, part{num: num, n: n, open: open})
	return m
}

// copyField puts a field of the source message read by s as it was: a
// bytes field is streamed from the source, not read now.
func (m *msg) copyField(s *scanner, f field) *msg {
	switch f.typ {
	case protowire.VarintType:
		return m.varint(f.num, f.v)
	case protowire.Fixed32Type:
		return m.fixed32(f.num, uint32(f.v))
	case protowire.Fixed64Type:
		return m.fixed64(f.num, f.v)
	}
	r := s.r
	return m.stream(f.num, f.n, func() (io.Reader, error) { return io.NewSectionReader(r, f.off, f.n), nil })
}

// Size is the message's encoded size, without its own tag and length.
func (m *msg) Size() int64 {
	if m.size >= 0 {
		return m.size
	}
	var n int64
	for _, p := range m.parts {
		switch {
		case p.lit != nil:
			n += int64(len(p.lit))
		case p.sub != nil:
			s := p.sub.Size()
			n += int64(protowire.SizeTag(p.num)+protowire.SizeVarint(uint64(s))) + s
		default:
			n += int64(protowire.SizeTag(p.num)+protowire.SizeVarint(uint64(p.n))) + p.n
		}
	}
	m.size = n
	return n
}

// writeTo writes the message's fields.
func (m *msg) writeTo(w io.Writer) error {
	for _, p := range m.parts {
		if p.lit != nil {
			if _, err := w.Write(p.lit); err != nil {
				return err
			}
			continue
		}
		n := p.n
		if p.sub != nil {
			n = p.sub.Size()
		}
		head := protowire.AppendVarint(protowire.AppendTag(nil, p.num, protowire.BytesType), uint64(n))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if p.sub != nil {
			if err := p.sub.writeTo(w); err != nil {
				return err
			}
			continue
		}
		if err := copyN(w, p.open, n); err != nil {
			return err
		}
	}
	return nil
}

// copyN writes the n bytes open yields, failing if it yields fewer.
func copyN(w io.Writer, open func() (io.Reader, error), n int64) error {
	r, err := open()
	if err != nil {
		return err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	got, err := io.CopyN(w, r, n)
	if err == io.EOF {
		return fmt.Errorf("%w: %d of its %d bytes", ErrShortData, got, n)
	}
	return err
}

// ErrShortData is a tensor whose data ended before the bytes its shape needs.
var ErrShortData = errors.New("onnx: a tensor's data ended early")
