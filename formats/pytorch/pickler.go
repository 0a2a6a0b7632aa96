package pytorch

import (
	"encoding/binary"
	"fmt"

	"shark/formats"
)

// pickler writes the protocol 2 pickle of a state_dict, using only the
// opcodes PyTorch 1.13's weights-only unpickler knows (no BINFLOAT, no
// memo), so that torch.load(path, weights_only=True) opens it.
type pickler struct{ b []byte }

func (p *pickler) op(code byte)       { p.b = append(p.b, code) }
func (p *pickler) global(m, n string) { p.b = append(append(p.b, opGlobal), m+"\n"+n+"\n"...) }

func (p *pickler) str(s string) {
	p.op(opBinUnicode)
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
}

// int writes n in the shortest opcode.
func (p *pickler) int(n int64) {
	switch {
	case n >= 0 && n < 1<<8:
		p.b = append(p.b, opBinInt1, byte(n))
	case n >= 0 && n < 1<<16:
		p.b = append(p.b, opBinInt2, byte(n), byte(n>>8))
	case n >= -1<<31 && n < 1<<31:
		p.op(opBinInt)
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(n))
	default:
		p.b = append(p.b, opLong1, 8)
		p.b = binary.LittleEndian.AppendUint64(p.b, uint64(n))
	}
}

func (p *pickler) tuple(v []int64) {
	p.op(opMark)
	for _, n := range v {
		p.int(n)
	}
	p.op(opTuple)
}

func (p *pickler) orderedDict() {
	p.global("collections", "OrderedDict")
	p.op(opEmptyTuple)
	p.op(opReduce)
}

// storageType names dtype d's typed storage, as torch.save does.
func storageType(d formats.DType) (string, error) {
	for typ, sd := range storageTypes {
		if sd == d {
			return typ, nil
		}
	}
	return "", fmt.Errorf("%w: PyTorch has no storage of %s", formats.ErrUnsupported, d)
}

// tensor writes _rebuild_tensor_v2 of storage key, C-contiguous.
func (p *pickler) tensor(e entry) {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op(opMark)
	p.op(opMark)
	p.str("storage")
	p.global("torch", e.storage[len("torch."):])
	p.str(e.key)
	p.str("cpu")
	p.int(e.numel)
	p.op(opTuple)
	p.op(opBinPersID)
	p.int(0)
	p.tuple(e.shape)
	p.tuple(cStrides(e.shape))
	p.op(opNewFalse)
	p.orderedDict()
	p.op(opTuple)
	p.op(opReduce)
}

func cStrides(shape []int64) []int64 {
	st := make([]int64, len(shape))
	s := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= max(shape[i], 1)
	}
	return st
}

// stateDict pickles an OrderedDict of the entries, in order.
func stateDict(entries []entry) []byte {
	p := &pickler{}
	p.b = append(p.b, opProto, 2)
	p.orderedDict()
	p.op(opMark)
	for _, e := range entries {
		p.str(e.name)
		p.tensor(e)
	}
	p.op(opSetItems)
	p.op(opStop)
	return p.b
}
