// Package formats is the contract every file codec of shark meets, after
// Netron's "one module per format behind one match/open contract": a format
// registers a content sniffer and an opener on io.ReaderAt, and Open picks
// the format by the file's first bytes, never by its name alone.
//
// The codecs live in sub-packages (npy, npz, safetensors, sharkfile) and
// register themselves; import formats/all to get every one.
package formats
