// Package npz reads and writes NumPy's .npz archives (np.savez and
// np.savez_compressed): a zip of .npy members, stored or deflated. Stored
// members are read in place through io.ReaderAt; deflated ones are streamed.
package npz

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"

	"shark/formats"
	"shark/formats/npy"
)

const name = "npz"

// maxDeflateRatio bounds how much a deflate stream can expand (about 1032:1
// for the format); a member declaring more is refused before allocation.
const maxDeflateRatio = 1032

func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: formats.IsZip,
		Claim: claim,
		Open:  func(src formats.Source) (*formats.File, error) { return Open(src.R, src.Size) },
	})
}

// claim takes zips whose members are all .npy arrays (an empty zip too:
// np.savez of nothing). A zip it cannot read is an .npz's to refuse.
func claim(r io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return true
	}
	for _, m := range zr.File {
		if !strings.HasSuffix(m.Name, ".npy") && !strings.HasSuffix(m.Name, "/") {
			return false
		}
	}
	return true
}

// Open reads the archive's directory and each member's .npy header.
func Open(r io.ReaderAt, size int64) (*formats.File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "reading zip directory: %v", err)
	}
	f := &formats.File{}
	seen := map[string]bool{}
	for _, m := range zr.File {
		if strings.HasSuffix(m.Name, "/") {
			continue
		}
		tname, ok := strings.CutSuffix(m.Name, ".npy")
		if !ok {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "member %q is not a .npy array", m.Name)
		}
		if seen[tname] {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "member %q appears twice", m.Name)
		}
		seen[tname] = true
		t, err := member(r, size, m, tname)
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
	return f, nil
}

func member(r io.ReaderAt, size int64, m *zip.File, tname string) (*formats.Tensor, error) {
	wrap := func(err error) error {
		var fe *formats.Error
		if errors.As(err, &fe) {
			fe.Format, fe.Tensor = name, tname
			return fe
		}
		return &formats.Error{Format: name, Tensor: tname, Offset: -1, Msg: err.Error(), Err: formats.ErrCorrupt}
	}
	if m.Flags&0x1 != 0 {
		return nil, wrap(formats.Errorf(name, -1, formats.ErrUnsupported, "member %q is encrypted; shark reads unencrypted archives", m.Name))
	}
	switch m.Method {
	case zip.Store:
		off, err := m.DataOffset()
		if err != nil {
			return nil, wrap(err)
		}
		msize := int64(m.CompressedSize64)
		if m.CompressedSize64 != m.UncompressedSize64 || off < 0 || msize < 0 || off > size || msize > size-off {
			return nil, wrap(formats.Errorf(name, off, formats.ErrTooLarge, "stored member of %d bytes does not fit in the file", m.CompressedSize64))
		}
		h, err := npy.ReadHeader(io.NewSectionReader(r, off, msize), msize)
		if err != nil {
			return nil, wrap(err)
		}
		t := h.Tensor(tname, r, off)
		t.CheckMember(formats.MemberCRC{Member: m.Name, Off: off, Size: msize, Sum: m.CRC32})
		return t, nil
	case zip.Deflate:
		usize := m.UncompressedSize64
		if usize > m.CompressedSize64*maxDeflateRatio+1024 || m.CompressedSize64 > uint64(size) {
			return nil, wrap(formats.Errorf(name, -1, formats.ErrTooLarge, "deflated member claims %d bytes from %d compressed", usize, m.CompressedSize64))
		}
		rc, err := m.Open()
		if err != nil {
			return nil, wrap(err)
		}
		h, err := npy.ReadHeaderStream(rc, int64(usize))
		rc.Close()
		if err != nil {
			return nil, wrap(err)
		}
		if h.BigEndian && h.DType.Size() > 1 {
			return nil, wrap(formats.Errorf(name, -1, formats.ErrUnsupported, "big-endian arrays in a compressed .npz"))
		}
		return formats.NewTensorStream(tname, h.DType, h.Shape, h.Bytes, func() (io.ReadCloser, error) {
			rc, err := m.Open()
			if err != nil {
				return nil, wrap(err)
			}
			if _, err := io.CopyN(io.Discard, rc, h.DataOff); err != nil {
				rc.Close()
				return nil, wrap(err)
			}
			return &checked{rc: rc, left: h.Bytes}, nil
		}), nil
	}
	return nil, wrap(formats.Errorf(name, -1, formats.ErrUnsupported, "zip method %d (np.savez stores, np.savez_compressed deflates)", m.Method))
}

// checked yields exactly left bytes, then reads the member to its end so
// that archive/zip verifies its CRC-32.
type checked struct {
	rc   io.ReadCloser
	left int64
}

func (c *checked) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	if err == io.EOF && c.left > 0 {
		return n, io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		return 0, err // withheld, see below
	}
	if c.left == 0 {
		// The data is complete: read on to the member's end, where
		// archive/zip compares the CRC-32, before handing over the last bytes.
		var rest [64]byte
		for {
			// On failure the final bytes are withheld (n = 0): io.ReadFull
			// and bufio drop an error that comes with the last bytes asked for.
			k, err := c.rc.Read(rest[:])
			if k > 0 {
				return 0, formats.Errorf(name, -1, formats.ErrCorrupt, "member has bytes past its array's data")
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *checked) Close() error { return c.rc.Close() }

// Writer writes an .npz member by member, streaming.
type Writer struct {
	zw      *zip.Writer
	deflate bool
}

// NewWriter writes to w; deflate selects np.savez_compressed's method.
func NewWriter(w io.Writer, deflate bool) *Writer {
	return &Writer{zw: zip.NewWriter(w), deflate: deflate}
}

// Write adds the array name of dtype d and shape, its little-endian data
// read from data. A name that would be a path when the archive is unpacked
// (a slash, "..", a control character) is refused.
func (w *Writer) Write(tname string, d formats.DType, shape []int64, data io.Reader) error {
	if err := SafeName(tname); err != nil {
		return err
	}
	method := zip.Store
	if w.deflate {
		method = zip.Deflate
	}
	zf, err := w.zw.CreateHeader(&zip.FileHeader{Name: tname + ".npy", Method: method})
	if err != nil {
		return err
	}
	if err := npy.Write(zf, d, shape, data); err != nil {
		return fmt.Errorf("npz member %q: %w", tname, err)
	}
	return nil
}

// SafeName refuses a tensor name that is no plain file name inside a zip:
// whoever unpacks the archive would otherwise write outside its folder.
func SafeName(tname string) error {
	bad := tname == "" || tname == "." || tname == ".." || strings.ContainsAny(tname, "/\\") ||
		strings.IndexFunc(tname, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
	if bad {
		return formats.Errorf(name, -1, formats.ErrUnsupported, "tensor name %q is not a plain file name (a slash, a backslash, \"..\" or a control character would unpack outside the archive's folder); export to safetensors, whose names are not paths", tname)
	}
	return nil
}

// Close writes the zip directory.
func (w *Writer) Close() error { return w.zw.Close() }
