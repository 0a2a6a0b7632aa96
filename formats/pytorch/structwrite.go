package pytorch

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"shark/formats"
)

// SetStructure makes Close pickle n instead of an OrderedDict of the
// tensors by name: a checkpoint's own dicts, lists, tuples and scalars
// around its tensors, each tensor leaf naming one written. Every tensor
// written must be in n, or Close fails rather than drop it.
func (w *Writer) SetStructure(n *formats.Node) { w.structure = n }

// pickle is the checkpoint's data.pkl.
func (w *Writer) pickle() ([]byte, error) {
	if w.structure == nil {
		return stateDict(w.entries), nil
	}
	s := &structPickler{byName: map[string]entry{}, used: map[string]bool{}}
	for _, e := range w.entries {
		s.byName[e.name] = e
	}
	s.b = append(s.b, opProto, 2)
	if err := s.node(w.structure, 0); err != nil {
		return nil, err
	}
	s.op(opStop)
	for _, e := range w.entries {
		if !s.used[e.name] {
			return nil, fmt.Errorf("%w: tensor %q is not in the checkpoint's structure", formats.ErrCorrupt, e.name)
		}
	}
	return s.b, nil
}

// structPickler writes a structure with the opcodes torch.save uses.
// Floats are BINFLOAT, as torch.save writes them: PyTorch 1.13's
// weights-only unpickler lacks that opcode (it refuses torch.save's own
// {"lr": 0.5}), later ones read it.
type structPickler struct {
	pickler
	byName map[string]entry
	used   map[string]bool
}

func (s *structPickler) node(n *formats.Node, depth int) error {
	if depth > formats.MaxStructureDepth {
		return fmt.Errorf("%w: the structure nests deeper than %d levels", formats.ErrCorrupt, formats.MaxStructureDepth)
	}
	switch n.Kind {
	case formats.NodeTensor:
		e, ok := s.byName[n.Str]
		if !ok {
			return fmt.Errorf("%w: the structure names tensor %q, which was not written", formats.ErrNotFound, n.Str)
		}
		s.used[n.Str] = true
		s.tensor(e)
	case formats.NodeDict:
		s.op(opEmptyDict)
		return s.items(n, depth, opSetItems)
	case formats.NodeOrderedDict:
		s.orderedDict()
		return s.items(n, depth, opSetItems)
	case formats.NodeList:
		s.op(opEmptyList)
		return s.items(n, depth, opAppends)
	case formats.NodeTuple:
		s.op(opMark)
		if err := s.children(n, depth); err != nil {
			return err
		}
		s.op(opTuple)
	case formats.NodeGlobal:
		return s.value(n.Str)
	default:
		return s.scalar(n)
	}
	return nil
}

// items adds a dict's or list's children after MARK, then op.
func (s *structPickler) items(n *formats.Node, depth int, op byte) error {
	if op == opSetItems && len(n.Keys) != len(n.Items) {
		return fmt.Errorf("%w: a dict of %d keys and %d values", formats.ErrCorrupt, len(n.Keys), len(n.Items))
	}
	if len(n.Items) == 0 {
		return nil
	}
	s.op(opMark)
	if err := s.children(n, depth); err != nil {
		return err
	}
	s.op(op)
	return nil
}

func (s *structPickler) children(n *formats.Node, depth int) error {
	for i, it := range n.Items {
		if i < len(n.Keys) {
			if err := s.scalar(n.Keys[i]); err != nil {
				return err
			}
		}
		if err := s.node(it, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func (s *structPickler) scalar(n *formats.Node) error {
	switch n.Kind {
	case formats.NodeInt:
		s.int(n.Int)
	case formats.NodeFloat:
		s.op(opBinFloat)
		s.b = binary.BigEndian.AppendUint64(s.b, math.Float64bits(n.Float))
	case formats.NodeStr:
		s.str(n.Str)
	case formats.NodeBool:
		if n.Bool {
			s.op(opNewTrue)
		} else {
			s.op(opNewFalse)
		}
	case formats.NodeNone:
		s.op(opNone)
	default:
		return fmt.Errorf("%w: a %q where a key or scalar belongs", formats.ErrCorrupt, n.Kind)
	}
	return nil
}

// value writes a global that is a value (torch.float32), and only one
// torch.load(weights_only=True) allows: a structure is data, and shark
// writes no call into a checkpoint.
func (s *structPickler) value(full string) error {
	i := strings.LastIndexByte(full, '.')
	if i < 0 || !allowedValue(full) {
		return fmt.Errorf("%w: global %q is not a value torch.load(weights_only=True) allows", formats.ErrUnsupported, full)
	}
	s.global(full[:i], full[i+1:])
	return nil
}
