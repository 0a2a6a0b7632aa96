package pytorch

import (
	"archive/zip"
	"fmt"
	"math"
	"math/bits"

	"shark/formats"
)

// file builds the File of the tensors found in root.
func (c *checkpoint) file(root any, meta map[string]string, pickleBytes int) (*formats.File, error) {
	w := &walker{meta: meta, open: map[any]bool{}, budget: pickleBytes + 1}
	if err := w.walk(root, "", 0); err != nil {
		return nil, err
	}
	wrapper, ts := unwrap(w.tensors)
	if wrapper != "" {
		meta["pytorch.wrapper"] = wrapper
	}
	f := &formats.File{Meta: meta}
	seen := map[string]bool{}
	for _, nt := range ts {
		if seen[nt.path] {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "two tensors named %q", nt.path)
		}
		seen[nt.path] = true
		t, err := c.tensor(nt.path, nt.t)
		if err != nil {
			return nil, err
		}
		t.OptimizerState = nt.opt
		f.Tensors = append(f.Tensors, t)
	}
	markTied(f.Tensors, ts)
	keepStructure(f, root, w.tensors, ts)
	return f, nil
}

// keepStructure records how root nests the tensors, found at the paths of
// found and named as in named, for an export to write back.
func keepStructure(f *formats.File, root any, found, named []named) {
	names := make(map[string]string, len(found))
	for i, nt := range found {
		names[nt.path] = named[i].path
	}
	var why string
	if f.Structure, why = structure(root, names); why != "" {
		f.Meta["pytorch.structure"] = "not kept for export: " + why
	}
}

// tensor describes a tensor's data in its storage record: in place when it
// is contiguous, gathered in row order when it is a strided view.
func (c *checkpoint) tensor(path string, t *tensor) (*formats.Tensor, error) {
	fail := func(kind error, format string, args ...any) error {
		return &formats.Error{Format: name, Offset: -1, Tensor: path, Msg: fmt.Sprintf(format, args...), Err: kind}
	}
	esize := int64(t.st.dtype.Size())
	elems, nbytes, err := formats.ShapeBytes(t.shape, t.st.dtype)
	if err != nil {
		return nil, fail(formats.ErrTooLarge, "%v", err)
	}
	rec, off, err := c.storageRecord(t.st, fail)
	if err != nil {
		return nil, err
	}
	if elems > 0 {
		last, ok := lastIndex(t)
		if !ok || last >= t.st.numel {
			return nil, fail(formats.ErrCorrupt, "size %v, stride %v at offset %d reach past storage %q of %d elements", t.shape, t.stride, t.offset, t.st.key, t.st.numel)
		}
	}
	if nbytes > t.st.numel*esize {
		// An expanded view (a stride of 0) repeats its storage: read in row
		// order it would be larger than the file, as large as a file says.
		return nil, fail(formats.ErrUnsupported, "a view of %d elements over a storage of %d (an expanded tensor); save t.contiguous() instead", elems, t.st.numel)
	}
	crc := formats.MemberCRC{Member: rec.Name, Off: off, Size: int64(rec.CompressedSize64), Sum: rec.CRC32}
	if contiguous(t) {
		ft := formats.NewTensorAt(path, t.st.dtype, t.shape, nbytes, c.r, off+t.offset*esize)
		ft.CheckMember(crc)
		return ft, nil
	}
	sv := &strided{r: c.r, base: off, esize: esize, t: t, crc: crc}
	return formats.NewTensorStream(path, t.st.dtype, t.shape, nbytes, sv.open), nil
}

// storageRecord finds a storage's record, stored and long enough, and its
// data's offset in the file.
func (c *checkpoint) storageRecord(st *storage, fail func(error, string, ...any) error) (*zip.File, int64, error) {
	rec := c.records[c.dir+"data/"+st.key]
	if rec == nil {
		return nil, 0, fail(formats.ErrCorrupt, "storage %q has no record %sdata/%s in the zip", st.key, c.dir, st.key)
	}
	if rec.Flags&0x1 != 0 {
		return nil, 0, fail(formats.ErrUnsupported, "record %q is encrypted", rec.Name)
	}
	if rec.Method != zip.Store {
		return nil, 0, fail(formats.ErrUnsupported, "record %q is compressed (zip method %d); torch.save stores storages uncompressed", rec.Name, rec.Method)
	}
	off, err := rec.DataOffset()
	msize := int64(rec.CompressedSize64)
	if err != nil || rec.CompressedSize64 != rec.UncompressedSize64 || msize < 0 || off < 0 || off > c.size || msize > c.size-off {
		return nil, 0, fail(formats.ErrTooLarge, "record %q of %d bytes does not fit in the file", rec.Name, rec.CompressedSize64)
	}
	esize := int64(st.dtype.Size())
	if st.numel > msize/esize {
		return nil, 0, fail(formats.ErrCorrupt, "storage %q of %d %s elements is longer than its record's %d bytes", st.key, st.numel, st.dtype, msize)
	}
	return rec, off, nil
}

// lastIndex is the storage index of a non-empty tensor's last element,
// offset + sum((size-1)*stride), or false if it overflows.
func lastIndex(t *tensor) (int64, bool) {
	last := uint64(t.offset)
	for i, n := range t.shape {
		hi, lo := bits.Mul64(uint64(n-1), uint64(t.stride[i]))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		var carry uint64
		last, carry = bits.Add64(last, lo, 0)
		if carry != 0 || last > math.MaxInt64 {
			return 0, false
		}
	}
	return int64(last), true
}

// contiguous reports C order: each stride the product of the sizes after
// it, ignoring dimensions of one element (whose stride is never used).
func contiguous(t *tensor) bool {
	want := int64(1)
	for i := len(t.shape) - 1; i >= 0; i-- {
		if t.shape[i] == 0 {
			return true
		}
		if t.shape[i] != 1 && t.stride[i] != want {
			return false
		}
		want *= t.shape[i]
	}
	return true
}
