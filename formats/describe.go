package formats

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// legacyTorch begins every torch.save file written before PyTorch 1.6 (or
// with _use_new_zipfile_serialization=False): a protocol 2 pickle of the
// magic number 0x1950a86a20f9469cfc6c.
const legacyTorch = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

// describe says what content that no format claims looks like, so that the
// error names it rather than calling a good file corrupt.
func describe(r io.ReaderAt, size int64, head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return describeZip(r, size)
	case bytes.HasPrefix(head, []byte(legacyTorch)):
		return "it is a legacy torch.save checkpoint (PyTorch before 1.6, or saved with _use_new_zipfile_serialization=False); " +
			"load it in PyTorch and save it again with torch.save(obj, path), which writes the zip format shark reads"
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return "it is a Python pickle (pickle.dump, joblib), which shark never runs; save the tensors with torch.save, np.savez or safetensors"
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return "it is an HDF5 file (Keras .h5 models are HDF5); save its weights with np.savez, or convert the model to ONNX"
	case bytes.HasPrefix(head, []byte("\x1f\x8b")):
		return "it is gzip-compressed; decompress it first (gunzip)"
	case isText(head):
		return fmt.Sprintf("it is a text file beginning %q", firstLine(head))
	}
	return fmt.Sprintf("it is binary data beginning %q", printable(head[:min(len(head), 8)]))
}

// describeZip names a zip's members, since what a zip holds decides what
// it is.
func describeZip(r io.ReaderAt, size int64) string {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return fmt.Sprintf("it is a zip archive whose directory cannot be read (%v)", err)
	}
	var names []string
	for _, f := range zr.File {
		if len(names) == 4 {
			names = append(names, "...")
			break
		}
		names = append(names, fmt.Sprintf("%q", f.Name))
	}
	return fmt.Sprintf("it is a zip archive of %d member(s) (%s) that are neither .npy arrays (an .npz) "+
		"nor a torch.save checkpoint (DIR/data.pkl and DIR/data/)", len(zr.File), strings.Join(names, ", "))
}

func isText(head []byte) bool {
	if len(head) == 0 {
		return false
	}
	// The head may end inside a character.
	for len(head) > 0 && !utf8.Valid(head) {
		head = head[:len(head)-1]
	}
	for _, c := range string(head) {
		if c < ' ' && c != '\n' && c != '\r' && c != '\t' || c == utf8.RuneError || c == 0x7f {
			return false
		}
	}
	return len(head) > 0
}

func firstLine(head []byte) string {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return strings.TrimRight(string(line), "\r")
}

// describeDir says what a path that is not a regular file is.
func describeDir(path string, st fs.FileInfo) string {
	if !st.IsDir() {
		return "a pipe, a device or a socket"
	}
	if _, err := os.Stat(filepath.Join(path, "saved_model.pb")); err == nil {
		return "a TensorFlow SavedModel directory; convert it to ONNX (python3 -m tf2onnx.convert --saved-model DIR --output model.onnx) and open the .onnx"
	}
	return "a directory"
}
