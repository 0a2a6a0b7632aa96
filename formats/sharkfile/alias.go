package sharkfile

import (
	"shark/formats"
)

// KindAlias is a tensor that is another one under a second name (tied
// weights, formats.Tensor.SameAs): it has no blocks; Entry.SameAs names the
// earlier tensor holding its data, and its dtype and shape are that one's.
// Files without tied weights have no such entry and are as before; readers
// from before it refuse a file that has one (an unknown kind), rather than
// read it without the tensor.
const KindAlias = "alias"

// WriteAlias records tensor tname as the tensor of already written.
func (w *Writer) WriteAlias(tname, of string) error {
	var target *Entry
	for i := range w.h.Tensors {
		if e := &w.h.Tensors[i]; e.Name == of && e.Kind != KindAlias {
			target = e
		}
	}
	if err := w.claim(tname); err != nil {
		return err
	}
	if target == nil {
		return formats.Errorf(name, -1, formats.ErrNotFound, "tensor %q is the same as %q, which is not written before it", tname, of)
	}
	w.h.Tensors = append(w.h.Tensors, Entry{Name: tname, Kind: KindAlias, DType: target.DType, Shape: target.Shape, SameAs: of})
	return nil
}

// alias checks an alias entry: no blocks, and the same dtype and shape as
// the earlier, non-alias tensor it names.
func (c *headerCheck) alias(e *Entry) error {
	if e.Data != nil || e.Codes != nil || e.Dir != nil || e.Rows != nil || e.Counts != nil {
		return corrupt(c.hoff, "tensor %q, the same as %q, has blocks of its own", e.Name, e.SameAs)
	}
	for i := range c.rd.Header.Tensors {
		t := &c.rd.Header.Tensors[i]
		if t == e {
			break // an alias names an earlier tensor
		}
		if t.Name != e.SameAs || t.Kind == KindAlias {
			continue
		}
		if t.DType != e.DType || !sameShape(t.Shape, e.Shape) {
			return corrupt(c.hoff, "tensor %q is %s %v, the same as %q, which is %s %v", e.Name, e.DType, e.Shape, t.Name, t.DType, t.Shape)
		}
		return nil
	}
	return corrupt(c.hoff, "tensor %q is the same as %q, no earlier tensor of the file", e.Name, e.SameAs)
}

func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// aliasTensor is alias entry e as a tensor of f: the data of the tensor it
// names (dequantized, if that is a compressed table), under its own name.
func aliasTensor(e *Entry, f *formats.File) *formats.Tensor {
	for _, t := range f.Tensors {
		if t.Name == e.SameAs {
			a := formats.NewTensorStream(e.Name, t.DType, t.Shape, t.Bytes, t.Open)
			a.SameAs = t.Name
			return a
		}
	}
	return nil // checked when the header was read: not reached
}
