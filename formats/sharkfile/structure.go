package sharkfile

import (
	"fmt"

	"shark/formats"
)

// SetStructure records how the source nested its tensors (see
// formats.File.Structure); Close checks that it names only tensors
// written. A nil structure records none.
func (w *Writer) SetStructure(n *formats.Node) {
	w.h.Structure = nil
	if n != nil {
		w.h.Structure = n.Flatten()
	}
}

// Structure is how the source nested the file's tensors, or nil.
func (rd *Reader) Structure() *formats.Node { return rd.structure }

// checkStructure rebuilds the header's structure, refusing one that does
// not hold together or names a tensor the file lacks.
func (rd *Reader) checkStructure(hoff int64) error {
	names := make(map[string]bool, len(rd.Header.Tensors))
	for _, e := range rd.Header.Tensors {
		names[e.Name] = true
	}
	n, err := structureOf(rd.Header.Structure, names)
	if err != nil {
		return corrupt(hoff, "header: %v", err)
	}
	rd.structure = n
	return nil
}

// structureOf rebuilds a flat structure whose tensors are among names.
func structureOf(fl []formats.FlatNode, names map[string]bool) (*formats.Node, error) {
	if len(fl) == 0 {
		return nil, nil
	}
	n, err := formats.Unflatten(fl)
	if err != nil {
		return nil, err
	}
	for _, t := range n.Tensors() {
		if !names[t] {
			return nil, fmt.Errorf("%w: the structure names tensor %q, which the file does not hold", formats.ErrCorrupt, t)
		}
	}
	return n, nil
}
