// Package pytorch reads the checkpoints torch.save writes (PyTorch 1.6 and
// later: a zip of DIR/data.pkl, DIR/data/<key> storages, DIR/version and,
// since 2.0, DIR/byteorder) and writes ones torch.load(weights_only=True)
// opens. Storages are read in place through the zip's stored records, so a
// checkpoint of many GiB opens at once.
package pytorch

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"strings"

	"shark/formats"
)

const name = "pytorch"

func init() {
	formats.Register(formats.Format{
		Name:  name,
		Match: formats.IsZip,
		Claim: claim,
		Open:  func(src formats.Source) (*formats.File, error) { return Open(src.R, src.Size) },
	})
}

// claim takes zips with a DIR/data.pkl record: torch.save's and
// torch.jit.save's (refused by Open with what it is).
func claim(r io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return false
	}
	_, ok := archiveDir(zr)
	return ok
}

// archiveDir finds the DIR/ holding data.pkl.
func archiveDir(zr *zip.Reader) (string, bool) {
	for _, f := range zr.File {
		if dir, ok := strings.CutSuffix(f.Name, "data.pkl"); ok && strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/") {
			return dir, true
		}
	}
	return "", false
}

// checkpoint is an opened torch.save zip.
type checkpoint struct {
	r       io.ReaderAt
	size    int64
	dir     string
	records map[string]*zip.File
}

// Open reads the checkpoint's pickle and describes its tensors; their data
// is read when used.
func Open(r io.ReaderAt, size int64) (*formats.File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "reading zip directory: %v", err)
	}
	dir, ok := archiveDir(zr)
	if !ok {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "no DIR/data.pkl record")
	}
	c := &checkpoint{r: r, size: size, dir: dir, records: map[string]*zip.File{}}
	for _, f := range zr.File {
		if c.records[f.Name] != nil {
			return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "record %q appears twice", f.Name)
		}
		c.records[f.Name] = f
	}
	meta, err := c.checkKind()
	if err != nil {
		return nil, err
	}
	root, pickled, err := c.unpickle()
	if err != nil {
		return nil, err
	}
	return c.file(root, meta, pickled)
}

// checkKind refuses TorchScript archives and big-endian checkpoints, and
// returns the format version.
func (c *checkpoint) checkKind() (map[string]string, error) {
	if c.records[c.dir+"constants.pkl"] != nil || c.hasPrefix(c.dir+"code/") {
		return nil, formats.Errorf(name, -1, formats.ErrUnsupported,
			"a TorchScript archive (torch.jit.save): save the weights with torch.save(model.state_dict(), path) and open that")
	}
	meta := map[string]string{}
	if b, err := c.small("byteorder"); err != nil {
		return nil, err
	} else if b != nil && string(b) != "little" {
		return nil, formats.Errorf(name, -1, formats.ErrUnsupported,
			"saved on a %q-endian machine; load it there and save it on a little-endian one (x86, ARM)", string(b))
	}
	if b, err := c.small("version"); err != nil {
		return nil, err
	} else if b != nil {
		meta["pytorch.version"] = strings.TrimSpace(string(b))
	}
	return meta, nil
}

func (c *checkpoint) hasPrefix(p string) bool {
	for n := range c.records {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// small reads a short record (byteorder, version), or nil if there is none.
func (c *checkpoint) small(rec string) ([]byte, error) {
	f := c.records[c.dir+rec]
	if f == nil {
		return nil, nil
	}
	if f.UncompressedSize64 > 64 {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "record %q of %d bytes", f.Name, f.UncompressedSize64)
	}
	return c.read(f, 64)
}

// read reads a whole record of at most limit bytes, checking its CRC.
func (c *checkpoint) read(f *zip.File, limit uint64) ([]byte, error) {
	if f.Flags&0x1 != 0 {
		return nil, formats.Errorf(name, -1, formats.ErrUnsupported, "record %q is encrypted", f.Name)
	}
	if f.UncompressedSize64 > limit || (f.Method == zip.Store && f.CompressedSize64 > uint64(c.size)) ||
		f.UncompressedSize64 > f.CompressedSize64*1032+1024 {
		return nil, formats.Errorf(name, -1, formats.ErrTooLarge, "record %q declares %d bytes", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "record %q: %v", f.Name, err)
	}
	defer rc.Close()
	b := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "record %q: %v", f.Name, err)
	}
	// Reading past the end makes archive/zip check the CRC-32.
	if n, err := rc.Read(make([]byte, 1)); n > 0 || err != io.EOF {
		if errors.Is(err, zip.ErrChecksum) {
			return nil, formats.Errorf(name, -1, formats.ErrChecksum, "record %q: %v", f.Name, err)
		}
		return nil, formats.Errorf(name, -1, formats.ErrCorrupt, "record %q is longer than its %d bytes", f.Name, len(b))
	}
	return b, nil
}

// unpickle runs data.pkl, and says how long it is.
func (c *checkpoint) unpickle() (any, int, error) {
	f := c.records[c.dir+"data.pkl"]
	if err := pickleSize(f); err != nil {
		return nil, 0, err
	}
	data, err := c.read(f, maxPickle)
	if err != nil {
		return nil, 0, err
	}
	base := int64(-1)
	if f.Method == zip.Store {
		if off, err := f.DataOffset(); err == nil {
			base = off
		}
	}
	root, err := unpickle(data, base)
	if errors.Is(err, formats.ErrUnsupported) && wholeModule(data) {
		return nil, 0, formats.Errorf(name, -1, formats.ErrUnsupported,
			"a whole pickled model (torch.save(model)), whose classes shark never runs: "+
				"save the weights with torch.save(model.state_dict(), path) and open that")
	}
	return root, len(data), err
}

// wholeModule reports the pickle of a torch.nn.Module itself: its state
// holds the attributes every Module has (the unpickler stops at its class,
// before them).
func wholeModule(pkl []byte) bool {
	for _, attr := range []string{"_parameters", "_buffers", "_modules"} {
		if !bytes.Contains(pkl, []byte(attr)) {
			return false
		}
	}
	return true
}
