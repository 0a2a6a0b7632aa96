package pytorch

import (
	"fmt"
	"strconv"

	"shark/formats"
)

// structure describes root for export: its dicts, lists, tuples and
// scalars, its tensors by the names the file gives them (names maps a
// tensor's dotted path to its name). It is nil, with no reason, for a flat
// dict of tensors under their own names (a state_dict), which the writer
// makes anyway; nil with a reason when root holds what cannot be written
// back as torch.load(weights_only=True) reads it.
func structure(root any, names map[string]string) (*formats.Node, string) {
	if flat(root, names) {
		return nil, ""
	}
	// Counting first costs a walk of the distinct values; building a
	// structure too large to keep cost 4 Mi Nodes (480 MB) before failing.
	if n := writtenSize(root, map[any]int{}); n > formats.MaxStructureNodes {
		return nil, fmt.Sprintf("more than %d values written out (a value shown more than once counts each time)", formats.MaxStructureNodes)
	}
	b := &structBuilder{names: names}
	n, err := b.node(root, "", 0)
	if err != nil {
		return nil, err.Error()
	}
	return n, ""
}

// writtenSize is how many values v is when written out, each container
// shown again counted again, up to MaxStructureNodes+1. sizes holds the
// containers' sizes, so each is counted once; v nests at most maxNesting
// deep. A container holding itself (under a key the walk does not follow,
// such as None) is too large: its size is that until it is counted.
func writtenSize(v any, sizes map[any]int) int {
	id := containerID(v)
	if n, ok := sizes[id]; ok && id != nil {
		return n
	}
	if id != nil {
		sizes[id] = formats.MaxStructureNodes + 1
	}
	var keys, vals []any
	switch v := v.(type) {
	case *pyDict:
		keys, vals = v.keys, v.vals
	case *pyList:
		vals = v.items
	case pyTuple:
		vals = v
	}
	n := 1 + len(keys)
	for _, c := range vals {
		if n += writtenSize(c, sizes); n > formats.MaxStructureNodes {
			n = formats.MaxStructureNodes + 1
			break
		}
	}
	if id != nil {
		sizes[id] = n
	}
	return n
}

// flat reports a dict of tensors, each named by its key.
func flat(root any, names map[string]string) bool {
	d, ok := root.(*pyDict)
	if !ok || len(d.keys) == 0 {
		return false
	}
	for i, k := range d.keys {
		ks, ok := k.(string)
		if _, isT := d.vals[i].(*tensor); !ok || !isT || names[ks] != ks {
			return false
		}
	}
	return true
}

// structBuilder builds a container shown twice (a memo reference) once:
// its Node is shared, as the walker named its tensors by its first path.
// A .shark header and a pt export write each reference out in full, so
// nodes counts the values written out: a shared Node's size each time.
type structBuilder struct {
	names   map[string]string
	nodes   int
	deepest int // the depth of the deepest value built so far
	built   map[any]builtNode
}

// builtNode is a container's Node, its size written out and how many
// levels it nests below itself.
type builtNode struct {
	n            *formats.Node
	size, height int
}

// count adds n values to those written out, failing beyond what a .shark
// header carries.
func (b *structBuilder) count(n int) error {
	if b.nodes += n; b.nodes > formats.MaxStructureNodes {
		return fmt.Errorf("more than %d values written out (a value shown more than once counts each time)", formats.MaxStructureNodes)
	}
	return nil
}

func (b *structBuilder) node(v any, path string, depth int) (*formats.Node, error) {
	id := containerID(v)
	if bn, ok := b.built[id]; ok && id != nil {
		if depth+bn.height > formats.MaxStructureDepth {
			return nil, fmt.Errorf("%q nests deeper than %d levels", path, formats.MaxStructureDepth)
		}
		return bn.n, b.count(bn.size)
	}
	start, outer := b.nodes, b.deepest
	b.deepest = depth
	n, err := b.build(v, path, depth)
	if err == nil && id != nil {
		if b.built == nil {
			b.built = map[any]builtNode{}
		}
		b.built[id] = builtNode{n, b.nodes - start, b.deepest - depth}
	}
	b.deepest = max(outer, b.deepest)
	return n, err
}

// containerID is a dict's, list's or non-empty tuple's identity, or nil.
func containerID(v any) any {
	switch v := v.(type) {
	case *pyDict, *pyList:
		return v
	case pyTuple:
		return tupleID(v)
	}
	return nil
}

func (b *structBuilder) build(v any, path string, depth int) (*formats.Node, error) {
	if err := b.count(1); err != nil {
		return nil, err
	}
	if depth > formats.MaxStructureDepth {
		return nil, fmt.Errorf("%q nests deeper than %d levels", path, formats.MaxStructureDepth)
	}
	b.deepest = max(b.deepest, depth)
	switch v := v.(type) {
	case *tensor:
		name, ok := b.names[path]
		if !ok {
			return nil, fmt.Errorf("the tensor at %q has no name", path)
		}
		return &formats.Node{Kind: formats.NodeTensor, Str: name}, nil
	case *pyDict:
		nk := formats.NodeDict
		if v.ordered {
			nk = formats.NodeOrderedDict
		}
		return b.container(nk, path, depth, v.keys, v.vals)
	case *pyList:
		return b.container(formats.NodeList, path, depth, nil, v.items)
	case pyTuple:
		return b.container(formats.NodeTuple, path, depth, nil, v)
	case pyGlobal:
		return &formats.Node{Kind: formats.NodeGlobal, Str: v.String()}, nil
	}
	if n, ok := scalarNode(v); ok {
		return n, nil
	}
	return nil, fmt.Errorf("%q is a %s", path, kind(v))
}

// scalarNode is the leaf of a string, number, bool or None.
func scalarNode(v any) (*formats.Node, bool) {
	switch v := v.(type) {
	case string:
		return &formats.Node{Kind: formats.NodeStr, Str: v}, true
	case int64:
		return &formats.Node{Kind: formats.NodeInt, Int: v}, true
	case float64:
		return &formats.Node{Kind: formats.NodeFloat, Float: v}, true
	case bool:
		return &formats.Node{Kind: formats.NodeBool, Bool: v}, true
	case nil:
		return &formats.Node{Kind: formats.NodeNone}, true
	}
	return nil, false
}

// container builds a dict (keys set) or a list or tuple, naming paths as
// the walker does.
func (b *structBuilder) container(nk formats.NodeKind, path string, depth int, keys, vals []any) (*formats.Node, error) {
	n := &formats.Node{Kind: nk}
	for i, v := range vals {
		key := strconv.Itoa(i)
		if keys != nil {
			kn, ok := scalarNode(keys[i])
			if !ok {
				return nil, fmt.Errorf("a key of %q is a %s", path, kind(keys[i]))
			}
			n.Keys = append(n.Keys, kn)
			if err := b.count(1); err != nil { // a key is a value of the flat structure too
				return nil, err
			}
			// A key the walker does not name (True, None, 0.5) names no
			// tensor: a tensor under it is found by no path.
			key = "\x00" + key
			if ks, ok := keyString(keys[i]); ok {
				key = ks
			}
		}
		if path != "" {
			key = path + "." + key
		}
		c, err := b.node(v, key, depth+1)
		if err != nil {
			return nil, err
		}
		n.Items = append(n.Items, c)
	}
	return n, nil
}
