package onnx

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"shark/formats"
)

// file makes the File of the initializers found.
func (m *model) file() (*formats.File, error) {
	f := &formats.File{Meta: m.meta}
	var skipped []string
	seen := map[string]bool{}
	for _, in := range m.inits {
		if seen[in.name] {
			return nil, in.errorf(formats.ErrCorrupt, "a second initializer of this name")
		}
		seen[in.name] = true
		d, ok := dataTypes[in.dataType]
		if !ok {
			// A model's constants may be strings or unsigned: they are not
			// tables, and the rest of the model is still worth reading.
			skipped = append(skipped, fmt.Sprintf("%s (%s)", in.name, typeName(in.dataType)))
			continue
		}
		t, err := m.tensor(in, d)
		if err != nil {
			return nil, err
		}
		t.GatheredBy = m.gathers[in.name]
		f.Tensors = append(f.Tensors, t)
	}
	if len(skipped) > 0 {
		sort.Strings(skipped)
		m.meta["onnx.skipped"] = strings.Join(skipped, ", ")
	}
	if m.sparse > 0 {
		m.meta["onnx.sparse_initializers"] = strconv.Itoa(m.sparse) + " (not read)"
	}
	if err := m.quantizedTables(f); err != nil {
		return nil, err
	}
	for _, o := range m.opened { // the external data files, each once
		f.Beside += o.size
	}
	return f, nil
}

func typeName(dt uint64) string {
	if n, ok := dataTypeNames[dt]; ok {
		return n
	}
	return "data type " + strconv.FormatUint(dt, 10)
}

// tensor locates an initializer's data: external, raw_data, packed
// float/double data, or the typed values decoded.
func (m *model) tensor(in *initializer, d formats.DType) (*formats.Tensor, error) {
	if in.segment {
		return nil, in.errorf(formats.ErrUnsupported, "a segmented tensor")
	}
	elems, nbytes, err := formats.ShapeBytes(in.dims, d)
	if err != nil {
		return nil, in.errorf(formats.ErrTooLarge, "%v", err)
	}
	switch {
	case in.external["location"] != "":
		return m.external(in, d, nbytes)
	case in.raw != nil:
		if in.raw.n != nbytes {
			return nil, in.errorf(formats.ErrCorrupt, "raw_data of %d bytes; dims %v of %s need %d", in.raw.n, in.dims, d, nbytes)
		}
		return formats.NewTensorAt(in.name, d, in.dims, nbytes, m.src.R, in.raw.off), nil
	case in.packed != nil && in.values == nil:
		if in.packed.n != nbytes || (d != formats.F32 && d != formats.F64) {
			return nil, in.errorf(formats.ErrCorrupt, "packed data of %d bytes; dims %v of %s need %d", in.packed.n, in.dims, d, nbytes)
		}
		return formats.NewTensorAt(in.name, d, in.dims, nbytes, m.src.R, in.packed.off), nil
	}
	if in.nvalues != elems || int64(len(in.values)) != nbytes {
		return nil, in.errorf(formats.ErrCorrupt, "%d values; dims %v need %d", in.nvalues, in.dims, elems)
	}
	return formats.NewTensorAt(in.name, d, in.dims, nbytes, bytes.NewReader(in.values), 0), nil
}

// external opens the data file beside the model that holds the tensor.
func (m *model) external(in *initializer, d formats.DType, nbytes int64) (*formats.Tensor, error) {
	loc := in.external["location"]
	if m.src.Siblings == nil {
		return nil, in.errorf(formats.ErrUnsupported, "its data is in %q beside the model, which was opened alone: open the model from its folder", loc)
	}
	off, err1 := parseSize(in.external["offset"])
	length, err2 := parseSize(in.external["length"])
	if err1 != nil || err2 != nil {
		return nil, in.errorf(formats.ErrCorrupt, "external data offset %q, length %q", in.external["offset"], in.external["length"])
	}
	r, size, err := m.sibling(loc)
	if err != nil {
		return nil, in.errorf(formats.ErrUnsupported, "external data %q: %v", loc, err)
	}
	off = max(off, 0)
	if length < 0 {
		length = size - off
	}
	if length != nbytes || off > size || length > size-off {
		return nil, in.errorf(formats.ErrCorrupt, "external data %q: %d bytes at %d of a %d-byte file; dims %v of %s need %d", loc, length, off, size, in.dims, d, nbytes)
	}
	return formats.NewTensorAt(in.name, d, in.dims, nbytes, r, off), nil
}

// sibling opens an external data file once for all its tensors.
func (m *model) sibling(loc string) (io.ReaderAt, int64, error) {
	if o, ok := m.opened[loc]; ok {
		return o.r, o.size, nil
	}
	r, size, err := m.src.Siblings.Open(loc)
	if err != nil {
		return nil, 0, err
	}
	m.opened[loc] = openedFile{r, size}
	return r, size, nil
}

type openedFile struct {
	r    io.ReaderAt
	size int64
}

// parseSize reads an external_data number; "" is absent (-1).
func parseSize(s string) (int64, error) {
	if s == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n < 0 {
		err = fmt.Errorf("negative")
	}
	return n, err
}
