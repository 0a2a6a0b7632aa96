package onnx

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"shark/formats"
	"shark/internal/fuzzcap"
)

// tinyModel is a ModelProto with a Gather node and initializers stored
// each way: raw_data, packed float_data and int64_data, unpacked dims.
func tinyModel() []byte {
	str := func(b []byte, num protowire.Number, s string) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
	msg := func(b []byte, num protowire.Number, m []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, m)
	}
	tensor := func(nm string, dt uint64, dims []int64, data func([]byte) []byte) []byte {
		var t []byte
		for _, d := range dims {
			t = protowire.AppendTag(t, tensorDims, protowire.VarintType)
			t = protowire.AppendVarint(t, uint64(d))
		}
		t = protowire.AppendTag(t, tensorDataType, protowire.VarintType)
		t = protowire.AppendVarint(t, dt)
		t = data(t)
		return str(t, tensorName, nm)
	}
	raw := make([]byte, 0, 4*12)
	for i := range 12 {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(i)/3))
	}
	var g []byte
	var node []byte
	node = str(node, nodeInput, "table")
	node = str(node, nodeInput, "idx")
	node = str(node, nodeName, "lookup")
	node = str(node, nodeOpType, "Gather")
	g = msg(g, graphNode, node)
	g = str(g, graphName, "g")
	g = msg(g, graphInit, tensor("table", 1, []int64{4, 3}, func(t []byte) []byte { return msg(t, tensorRaw, raw) }))
	g = msg(g, graphInit, tensor("floats", 1, []int64{2}, func(t []byte) []byte { return msg(t, tensorFloats, raw[:8]) }))
	g = msg(g, graphInit, tensor("longs", 7, []int64{3}, func(t []byte) []byte {
		return msg(t, tensorInt64s, protowire.AppendVarint(protowire.AppendVarint(protowire.AppendVarint(nil, 1), 300), 1<<40))
	}))
	var m []byte
	m = protowire.AppendTag(m, modelIRVersion, protowire.VarintType)
	m = protowire.AppendVarint(m, 8)
	m = str(m, modelProducer, "shark")
	return msg(m, modelGraph, g)
}

func TestTinyModel(t *testing.T) {
	b := tinyModel()
	f, err := formats.OpenReaderAt(bytes.NewReader(b), int64(len(b)))
	if err != nil || f.Format != name || len(f.Tensors) != 3 {
		t.Fatalf("%v %+v", err, f)
	}
	l, _ := f.Tensor("longs")
	rc, _ := l.Open()
	got, _ := io.ReadAll(rc)
	want := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 1), 300), 1<<40)
	if !bytes.Equal(got, want) {
		t.Fatalf("longs %x", got)
	}
	if tb, _ := f.Tensor("table"); len(tb.GatheredBy) != 1 {
		t.Fatal("the Gather node is lost")
	}
}

// FuzzOnnx opens models and reads every tensor: errors are fine, panics,
// hangs and allocations beyond the cap are not.
func FuzzOnnx(f *testing.F) {
	f.Add(tinyModel())
	lookups, _, _ := lookupModel(f) // shark's quantized lookups, read back as tables
	f.Add(lookups)
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzcap.Run(t, len(b), func() {
			file, err := Open(formats.Source{R: bytes.NewReader(b), Size: int64(len(b))})
			if err != nil {
				return
			}
			for _, ft := range file.Tensors {
				rc, err := ft.Open()
				if err != nil {
					continue
				}
				io.Copy(io.Discard, rc)
				rc.Close()
			}
		})
	})
}
