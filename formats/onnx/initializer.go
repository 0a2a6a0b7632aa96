package onnx

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
)

// TensorProto's field numbers.
const (
	tensorDims     = 1
	tensorDataType = 2
	tensorSegment  = 3
	tensorFloats   = 4
	tensorInt32s   = 5
	tensorInt64s   = 7
	tensorName     = 8
	tensorRaw      = 9
	tensorDoubles  = 10
	tensorUint64s  = 11
	tensorExternal = 13
)

// dataTypes maps TensorProto.DataType to shark's dtypes.
var dataTypes = map[uint64]formats.DType{
	1: formats.F32, 2: formats.U8, 3: formats.I8, 5: formats.I16, 6: formats.I32,
	7: formats.I64, 9: formats.BOOL, 10: formats.F16, 11: formats.F64, 16: formats.BF16,
}

var dataTypeNames = map[uint64]string{
	4: "UINT16", 8: "STRING", 12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128",
}

// initializer is a TensorProto as found: where its data is, not the data.
type initializer struct {
	name     string
	at       int64 // the TensorProto's offset, for errors
	dims     []int64
	dataType uint64
	raw      *field // raw_data
	packed   *field // float_data or double_data, packed: raw little-endian
	values   []byte // typed fields decoded to little-endian elements
	nvalues  int64
	external map[string]string
	segment  bool
}

func readInitializer(s *scanner) (*initializer, error) {
	in := &initializer{at: s.pos}
	for {
		f, ok, err := s.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return in, nil
		}
		if err := in.field(s, f); err != nil {
			return nil, err
		}
	}
}

func (in *initializer) field(s *scanner, f field) error {
	switch f.num {
	case tensorDims:
		return in.varints(s, f, func(v uint64) { in.dims = append(in.dims, int64(v)) })
	case tensorDataType:
		in.dataType = f.v
	case tensorSegment:
		in.segment = true
	case tensorName:
		b, err := s.bytes(f, maxName)
		in.name = string(b)
		return err
	case tensorRaw:
		in.raw = &f
	case tensorFloats, tensorDoubles:
		return in.fixed(s, f)
	case tensorInt32s, tensorInt64s, tensorUint64s:
		return in.varints(s, f, in.appendValue)
	case tensorExternal:
		return in.externalEntry(s.sub(f))
	}
	return nil
}

// fixed takes float_data or double_data: packed, it is the raw
// little-endian elements in place; unpacked, each element is its own field.
func (in *initializer) fixed(s *scanner, f field) error {
	switch f.typ {
	case protowire.BytesType:
		in.packed = &f
	case protowire.Fixed32Type:
		in.values = binary.LittleEndian.AppendUint32(in.values, uint32(f.v))
		in.nvalues++
	case protowire.Fixed64Type:
		in.values = binary.LittleEndian.AppendUint64(in.values, f.v)
		in.nvalues++
	}
	return nil
}

// varints calls fn with each value of a varint field, packed or not. The
// values made are bounded by the field's bytes, one at least each.
func (in *initializer) varints(s *scanner, f field, fn func(uint64)) error {
	if f.typ == protowire.VarintType {
		fn(f.v)
		return nil
	}
	if f.typ != protowire.BytesType {
		return nil
	}
	b, err := s.bytes(f, f.n)
	if err != nil {
		return err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return corrupt(f.off, "packed field %d: %v", f.num, protowire.ParseError(n))
		}
		fn(v)
		b = b[n:]
	}
	return nil
}

// appendValue stores one int32_data/int64_data/uint64_data value as an
// element of the tensor's dtype (set before the data in onnx's writers;
// checked again in tensor).
func (in *initializer) appendValue(v uint64) {
	switch dataTypes[in.dataType].Size() {
	case 1:
		in.values = append(in.values, byte(v))
	case 2:
		in.values = binary.LittleEndian.AppendUint16(in.values, uint16(v))
	case 4:
		in.values = binary.LittleEndian.AppendUint32(in.values, uint32(v))
	default:
		in.values = binary.LittleEndian.AppendUint64(in.values, v)
	}
	in.nvalues++
}

// externalEntry reads one StringStringEntryProto of external_data.
func (in *initializer) externalEntry(s *scanner) error {
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
	if in.external == nil {
		in.external = map[string]string{}
	}
	in.external[kv[0]] = kv[1]
	return nil
}

func (in *initializer) errorf(kind error, format string, args ...any) error {
	return &formats.Error{Format: name, Offset: in.at, Tensor: in.name, Msg: fmt.Sprintf(format, args...), Err: kind}
}
