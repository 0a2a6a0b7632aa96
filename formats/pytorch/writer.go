package pytorch

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"shark/formats"
)

// entry is one tensor written: its storage is record data/<key>.
type entry struct {
	name    string
	storage string // torch.FloatStorage
	key     string
	numel   int64
	shape   []int64
}

// Writer writes a checkpoint as torch.save does (PyTorch 1.6 and later):
// a zip of DIR/data/<key> storages, each stored and 64-byte aligned, then
// DIR/data.pkl, an OrderedDict of the tensors by name, DIR/byteorder and
// DIR/version. torch.load(path, weights_only=True) opens it. Storages are
// streamed, so the pickle comes after them; readers find records through
// the zip's directory.
type Writer struct {
	cw      *countWriter
	zw      *zip.Writer
	dir     string
	entries []entry
	names   map[string]bool
	// open is the size of the record being written, whose data descriptor
	// (16 bytes, 24 from 4 GiB) archive/zip writes when the next begins.
	open int64
	// structure, if set, is what data.pkl holds (see SetStructure).
	structure *formats.Node
}

// NewWriter writes to w, under the archive folder dir ("archive").
func NewWriter(w io.Writer, dir string) *Writer {
	cw := &countWriter{w: w}
	return &Writer{cw: cw, zw: zip.NewWriter(cw), dir: dir + "/", names: map[string]bool{}, open: -1}
}

// Write adds tensor tname of dtype d and shape, its little-endian C-order
// data read from data.
func (w *Writer) Write(tname string, d formats.DType, shape []int64, data io.Reader) error {
	if w.names[tname] {
		return fmt.Errorf("%w: tensor %q written twice", formats.ErrCorrupt, tname)
	}
	typ, err := storageType(d)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", tname, err)
	}
	elems, nbytes, err := formats.ShapeBytes(shape, d)
	if err != nil {
		return fmt.Errorf("tensor %q: %w", tname, err)
	}
	key := strconv.Itoa(len(w.entries))
	rec, err := w.record("data/"+key, true)
	if err != nil {
		return err
	}
	if n, err := io.CopyN(rec, data, nbytes); err != nil {
		return fmt.Errorf("tensor %q: %d of %d bytes: %w", tname, n, nbytes, err)
	}
	w.open = nbytes
	w.names[tname] = true
	w.entries = append(w.entries, entry{name: tname, storage: typ, key: key, numel: elems, shape: shape})
	return nil
}

// record starts a stored record; aligned ones have their data start on a
// 64-byte boundary, padded in the local header's extra field as
// torch.save pads it.
func (w *Writer) record(rec string, aligned bool) (io.Writer, error) {
	h := &zip.FileHeader{Name: w.dir + rec, Method: zip.Store}
	if aligned {
		if err := w.zw.Flush(); err != nil {
			return nil, err
		}
		// The local header is 30 bytes, the name, then the extra field.
		at := w.cw.n + descriptorLen(w.open) + 30 + int64(len(h.Name)) + 4
		pad := (64 - at%64) % 64
		h.Extra = binary.LittleEndian.AppendUint16([]byte("FB"), uint16(pad))
		h.Extra = append(h.Extra, make([]byte, pad)...)
	}
	return w.zw.CreateHeader(h)
}

// Close writes the pickle, the small records and the zip's directory.
func (w *Writer) Close() error {
	pkl, err := w.pickle()
	if err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		data []byte
	}{
		{"data.pkl", pkl},
		{"byteorder", []byte("little")},
		{"version", []byte("3\n")},
	} {
		rec, err := w.record(r.name, false)
		if err != nil {
			return err
		}
		if _, err := rec.Write(r.data); err != nil {
			return err
		}
		w.open = int64(len(r.data))
	}
	return w.zw.Close()
}

// descriptorLen is the data descriptor archive/zip writes after a stored
// record of n bytes; none before the first record.
func descriptorLen(n int64) int64 {
	switch {
	case n < 0:
		return 0
	case n >= 1<<32-1:
		return 24
	}
	return 16
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
