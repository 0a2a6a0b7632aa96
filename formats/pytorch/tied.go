package pytorch

import (
	"fmt"

	"shark/formats"
)

// Tied weights: torch.save(model.state_dict()) of a model whose output
// layer reuses its embedding's weight pickles one storage, viewed the same
// way, under two keys. The reader says so (formats.Tensor.SameAs), so that
// the table is compressed and stored once; the writer writes it back as
// one storage under both names, as torch.save did.

// view is what makes two tensors one: the same storage, seen from the same
// offset with the same shape and strides.
type view struct {
	storage       *storage
	offset        int64
	shape, stride string
}

// markTied sets SameAs on each tensor of out that is the same view as an
// earlier one (out[i] is ts[i]'s description).
func markTied(out []*formats.Tensor, ts []named) {
	first := map[view]string{}
	for i, nt := range ts {
		v := view{nt.t.st, nt.t.offset, fmt.Sprint(nt.t.shape), fmt.Sprint(nt.t.stride)}
		if name, ok := first[v]; ok {
			out[i].SameAs = name
			continue
		}
		first[v] = nt.path
	}
}

// WriteAlias adds tensor tname as another name of the tensor of already
// written: both keys of the checkpoint refer to one storage, which
// torch.load loads once.
func (w *Writer) WriteAlias(tname, of string) error {
	if w.names[tname] {
		return fmt.Errorf("%w: tensor %q written twice", formats.ErrCorrupt, tname)
	}
	for _, e := range w.entries {
		if e.name == of {
			e.name = tname
			w.names[tname] = true
			w.entries = append(w.entries, e)
			return nil
		}
	}
	return fmt.Errorf("%w: tensor %q is the same as %q, which is not written before it", formats.ErrCorrupt, tname, of)
}
