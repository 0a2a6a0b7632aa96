package formats

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
)

// Tensor is one named array of a file, read lazily.
type Tensor struct {
	Name  string
	DType DType
	Shape []int64
	Bytes int64 // size of the raw data, = elements * DType.Size()

	// Tiers is set for a compressed table of a .shark file: rows per tier
	// (fp32, fp16, int8, int4, int2, int8-block, int4-block, int2-block:
	// core.NumTiers, which this package does not import). Its data reads
	// back dequantized as F32.
	Tiers *[8]int64
	// Stored is the bytes such a table takes in a file other than a
	// .shark file (an ONNX model's quantized lookup), when known.
	Stored int64

	// GatheredBy names the graph nodes that look rows up in the tensor (an
	// ONNX model's Gather nodes): the mark of an embedding table.
	GatheredBy []string

	// OptimizerState marks a training checkpoint's optimizer state (Adam's
	// exp_avg and exp_avg_sq, momentum buffers): shaped like the tables
	// whose moments they are, but no table, and their values (exp_avg_sq
	// near 1e-9) do not survive the lossy tiers. Kept bit for bit unless
	// named explicitly.
	OptimizerState bool

	// SameAs names an earlier tensor of the file whose data this one is
	// (tied weights: one storage under two names, as a model whose output
	// layer reuses its embedding saves them). Its own data reads the same;
	// writers that can share store it once.
	SameAs string

	// at/off give random access to raw little-endian data in the file, when
	// the data is stored contiguously and uncompressed.
	at  io.ReaderAt
	off int64
	// open streams the raw little-endian data otherwise.
	open func() (io.ReadCloser, error)
	// crc checks a zip member's CRC-32 over reads of the data at.
	crc *crcCheck
}

// NewTensorAt describes data stored contiguously at off in r.
func NewTensorAt(name string, d DType, shape []int64, nbytes int64, r io.ReaderAt, off int64) *Tensor {
	return &Tensor{Name: name, DType: d, Shape: shape, Bytes: nbytes, at: r, off: off}
}

// CheckMember makes the reads of t's data, which lies inside a stored zip
// member, count towards the member's CRC-32 (see Verify).
func (t *Tensor) CheckMember(want MemberCRC) {
	if t.at != nil {
		t.crc = &crcCheck{want: want, r: t.at, off: t.off, n: t.Bytes}
	}
}

// Verify checks the tensor's data against the checksum its format keeps
// (a zip member's CRC-32): from the reads already made when they covered
// the data, else by reading it. Formats without one have nothing to check.
func (t *Tensor) Verify() error {
	if t.crc == nil {
		return nil
	}
	if err := t.crc.verify(); err != nil {
		return fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	return nil
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

// Open streams the raw little-endian, C-order data, checked against the
// format's checksum, if it keeps one, when the end is read.
func (t *Tensor) Open() (io.ReadCloser, error) {
	if t.open != nil {
		return t.open()
	}
	sec := io.NewSectionReader(t.at, t.off, t.Bytes)
	if t.crc == nil {
		return io.NopCloser(sec), nil
	}
	return io.NopCloser(&crcReader{r: sec, t: t}), nil
}

// crcReader adds what it reads to the tensor's checksum, and checks it at
// the end.
type crcReader struct {
	r   io.Reader
	t   *Tensor
	sum uint32
	n   int64
}

func (cr *crcReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.sum = crc32.Update(cr.sum, crc32.IEEETable, p[:n])
	cr.n += int64(n)
	if err == io.EOF {
		cr.t.crc.addSum(0, cr.n, cr.sum)
		if verr := cr.t.Verify(); verr != nil {
			return n, verr
		}
	}
	return n, err
}

// IsTable reports whether t is a candidate embedding table (TableReason):
// a 2-D float tensor with rows that a graph's Gather node reads, or named
// as an embedding module's weight, whatever its size, or with at least
// minRows rows; never an optimizer's state.
func (t *Tensor) IsTable(minRows int64) bool {
	ok, _ := t.TableReason(minRows)
	return ok
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
	Format string
	Size   int64
	// Beside is the bytes of the files beside this one that its tensors
	// are read from (an ONNX model's external data), which a model's size
	// on disk includes: see InputBytes.
	Beside  int64
	Tensors []*Tensor
	// Meta holds free-form metadata (safetensors __metadata__, .shark provenance).
	Meta map[string]string
	// Structure, if set, is how the file nests its tensors among other
	// values (a training checkpoint's dicts, lists and scalars); nil for a
	// flat set of named tensors.
	Structure *Node
	// Reader is the format's own reader of the file, for callers that need
	// more than its tensors (a .shark file's *sharkfile.Reader), as
	// image.Decode hands back the concrete image: nobody opens a file twice.
	Reader any

	closers []io.Closer // files the format opened beside this one
}

// Close closes the files the format opened beside this one (an ONNX
// model's external data); the file itself belongs to whoever opened it.
func (f *File) Close() error {
	var first error
	for _, c := range f.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	f.closers = nil
	return first
}

// InputBytes is the bytes the model takes on disk: the file and the files
// beside it its tensors are read from.
func (f *File) InputBytes() int64 { return f.Size + f.Beside }

// AddCloser makes Close close c.
func (f *File) AddCloser(c io.Closer) { f.closers = append(f.closers, c) }

// Tensor finds a tensor by name.
func (f *File) Tensor(name string) (*Tensor, error) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
}
