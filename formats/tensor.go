package formats

import (
	"bufio"
	"fmt"
	"io"
)

// Tensor is one named array of a file, read lazily.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Bytes int64 // size of the raw data, = elements * DType.Size()

	// Tiers is set for a compressed table of a .shark file: rows per tier
	// (fp32, fp16, int8, int4). Its data reads back dequantized as F32.
	Tiers *[4]int64

	// at/off give random access to raw little-endian data in the file, when
	// the data is stored contiguously and uncompressed.
	at  io.ReaderAt
	off int64
	// open streams the raw little-endian data otherwise.
	open func() (io.ReadCloser, error)
}

// NewTensorAt describes data stored contiguously at off in r.
func NewTensorAt(name string, d DType, shape []int64, nbytes int64, r io.ReaderAt, off int64) *Tensor {
	return &Tensor{Name: name, DType: d, Shape: shape, Bytes: nbytes, at: r, off: off}
}

// NewTensorStream describes data that can only be streamed.
func NewTensorStream(name string, d DType, shape []int64, nbytes int64, open func() (io.ReadCloser, error)) *Tensor {
	return &Tensor{Name: name, DType: d, Shape: shape, Bytes: nbytes, open: open}
}

// ReaderAt returns random access to the raw data, if the file offers it.
func (t *Tensor) ReaderAt() (io.ReaderAt, int64, bool) {
	if t.at == nil {
		return nil, 0, false
	}
	return t.at, t.off, true
}

// Open streams the raw little-endian, C-order data.
func (t *Tensor) Open() (io.ReadCloser, error) {
	if t.open != nil {
		return t.open()
	}
	return io.NopCloser(io.NewSectionReader(t.at, t.off, t.Bytes)), nil
}

// IsTable reports whether t is a candidate embedding table: a 2-D float
// tensor with at least minRows rows.
func (t *Tensor) IsTable(minRows int64) bool {
	return len(t.Shape) == 2 && t.DType.IsFloat() && t.Shape[0] >= minRows && t.Shape[1] > 0
}

// Float32s reads the whole tensor converted to float32. The caller is
// expected to have checked that the tensor fits in memory; the size was
// checked against the file when it was opened.
func (t *Tensor) Float32s() ([]float32, error) {
	rc, err := t.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	elems := t.Bytes / int64(t.DType.Size())
	out := make([]float32, 0, elems)
	br := bufio.NewReaderSize(rc, 1<<16)
	buf := make([]byte, 1<<16-(1<<16)%8)
	left := t.Bytes
	for left > 0 {
		n := int64(len(buf))
		if n > left {
			n = left
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return nil, fmt.Errorf("tensor %q: reading data: %w", t.Name, err)
		}
		out = DecodeFloat32(out, t.DType, buf[:n])
		left -= n
	}
	return out, nil
}

// File is an opened model file.
type File struct {
	Format  string
	Size    int64
	Tensors []*Tensor
	// Meta holds free-form metadata (safetensors __metadata__, .shark provenance).
	Meta map[string]string
	// Reader is the format's own reader of the file, for callers that need
	// more than its tensors (a .shark file's *sharkfile.Reader), as
	// image.Decode hands back the concrete image: nobody opens a file twice.
	Reader any
}

// Tensor finds a tensor by name.
func (f *File) Tensor(name string) (*Tensor, error) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}
