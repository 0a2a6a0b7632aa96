package formats

import (
	"fmt"
	"math"
)

// Node is one value of the structure a file keeps its tensors in (a PyTorch
// training checkpoint: {"model": state_dict, "optimizer": {"state": ...,
// "param_groups": [...]}, "epoch": 3}): containers, the scalars beside the
// tensors, and the tensors themselves by name. An export writes it back, so
// that what the file held is where it was.
type Node struct {
	Kind NodeKind
	// Keys are a dict's keys (scalars), Items its values, one per key; a
	// list's or tuple's elements.
	Keys, Items []*Node
	// The leaves: Str is a string's value, a tensor's name in File.Tensors,
	// or a global's module.name (torch.float32).
	Int   int64
	Float float64
	Str   string
	Bool  bool
}

// NodeKind is what a Node is.
type NodeKind string

const (
	NodeDict        NodeKind = "dict"
	NodeOrderedDict NodeKind = "odict" // collections.OrderedDict, as state_dict returns
	NodeList        NodeKind = "list"
	NodeTuple       NodeKind = "tuple"
	NodeTensor      NodeKind = "tensor"
	NodeInt         NodeKind = "int"
	NodeFloat       NodeKind = "float"
	NodeStr         NodeKind = "str"
	NodeBool        NodeKind = "bool"
	NodeNone        NodeKind = "none"
	NodeGlobal      NodeKind = "global" // a dtype or storage type torch.load(weights_only=True) allows
)

// MaxStructureDepth bounds a structure's nesting, read or written.
const MaxStructureDepth = 64

// MaxStructureNodes bounds a structure's values (a state_dict of a million
// tensors has a few million), read or written.
const MaxStructureNodes = 1 << 22

// IsContainer reports dicts, lists and tuples.
func (k NodeKind) IsContainer() bool {
	return k == NodeDict || k == NodeOrderedDict || k == NodeList || k == NodeTuple
}

// isKey reports the kinds a dict's key may be.
func (k NodeKind) isKey() bool {
	return k == NodeInt || k == NodeStr || k == NodeBool || k == NodeNone || k == NodeFloat
}

func (k NodeKind) known() bool {
	return k.IsContainer() || k.isKey() || k == NodeTensor || k == NodeGlobal
}

// Tensors lists the names of the tensors the structure holds, in order.
func (n *Node) Tensors() []string {
	var out []string
	n.visit(func(m *Node) {
		if m.Kind == NodeTensor {
			out = append(out, m.Str)
		}
	})
	return out
}

func (n *Node) visit(f func(*Node)) {
	f(n)
	for i, it := range n.Items {
		if i < len(n.Keys) {
			n.Keys[i].visit(f)
		}
		it.visit(f)
	}
}

// FlatNode is a Node in a flat preorder list, as a .shark header keeps it:
// a container's Len children follow it (a dict's as key, value, key, ...),
// so that the header nests no deeper however deep the structure is.
type FlatNode struct {
	Kind string `msgpack:"k"`
	Len  int    `msgpack:"n,omitempty"`
	Int  int64  `msgpack:"i,omitempty"`
	// FloatBits keeps a float's bits: -0 and NaN payloads too.
	FloatBits uint64 `msgpack:"f,omitempty"`
	Str       string `msgpack:"s,omitempty"`
	Bool      bool   `msgpack:"b,omitempty"`
}

// Flatten lists n in preorder.
func (n *Node) Flatten() []FlatNode {
	var out []FlatNode
	n.visit(func(m *Node) {
		out = append(out, FlatNode{Kind: string(m.Kind), Len: len(m.Items), Int: m.Int,
			FloatBits: math.Float64bits(m.Float), Str: m.Str, Bool: m.Bool})
	})
	return out
}

// Unflatten rebuilds the Node that Flatten listed, checking every count
// against the nodes left, every kind, every key, and the depth.
func Unflatten(fl []FlatNode) (*Node, error) {
	if len(fl) > MaxStructureNodes {
		return nil, fmt.Errorf("%w: structure of %d values, more than %d", ErrCorrupt, len(fl), MaxStructureNodes)
	}
	u := &unflattener{fl: fl}
	n, err := u.node(0, false)
	if err != nil {
		return nil, err
	}
	if u.at != len(fl) {
		return nil, fmt.Errorf("%w: structure: %d nodes after its root's end", ErrCorrupt, len(fl)-u.at)
	}
	return n, nil
}

type unflattener struct {
	fl []FlatNode
	at int
}

func (u *unflattener) node(depth int, key bool) (*Node, error) {
	if u.at >= len(u.fl) {
		return nil, fmt.Errorf("%w: structure ends inside a container", ErrCorrupt)
	}
	if depth > MaxStructureDepth {
		return nil, fmt.Errorf("%w: structure nests deeper than %d levels", ErrCorrupt, MaxStructureDepth)
	}
	at, f := u.at, u.fl[u.at]
	u.at++
	k := NodeKind(f.Kind)
	switch {
	case !k.known():
		return nil, fmt.Errorf("%w: structure node %d is of kind %q", ErrCorrupt, at, f.Kind)
	case key && !k.isKey():
		return nil, fmt.Errorf("%w: structure node %d, a dict's key, is a %s", ErrCorrupt, at, k)
	case f.Len != 0 && !k.IsContainer():
		return nil, fmt.Errorf("%w: structure node %d, a %s, holds %d values", ErrCorrupt, at, k, f.Len)
	}
	n := &Node{Kind: k, Int: f.Int, Float: math.Float64frombits(f.FloatBits), Str: f.Str, Bool: f.Bool}
	if !k.IsContainer() {
		return n, nil
	}
	per := 1
	if k == NodeDict || k == NodeOrderedDict {
		per = 2
	}
	// Each child is a node of its own: a count beyond the nodes left is a lie.
	if f.Len < 0 || f.Len > (len(u.fl)-u.at)/per {
		return nil, fmt.Errorf("%w: structure node %d declares %d values, %d nodes left", ErrCorrupt, at, f.Len, len(u.fl)-u.at)
	}
	for i := 0; i < f.Len; i++ {
		if per == 2 {
			kn, err := u.node(depth+1, true)
			if err != nil {
				return nil, err
			}
			n.Keys = append(n.Keys, kn)
		}
		v, err := u.node(depth+1, false)
		if err != nil {
			return nil, err
		}
		n.Items = append(n.Items, v)
	}
	return n, nil
}
