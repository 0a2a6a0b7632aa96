package sharkfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"shark/core"
)

// A table's rows can be encoded in parts, each a range of consecutive rows
// encoded on its own (the page encodes a range on each of its Web
// Workers), and joined: a tier's block is each part's rows of the tier,
// in row order, so the joined table is WriteTable's, byte for byte.

// RowsPart is a range of a table's rows, encoded (EncodePart).
type RowsPart interface {
	// TierBytes is the bytes of the part's rows of tier t.
	TierBytes(t core.Tier) int64
	// WriteTier writes the part's rows of tier t, in row order, to w.
	WriteTier(t core.Tier, w io.Writer) error
}

// ErrPartSize: the parts of a table hold other than its tiers' bytes.
var ErrPartSize = errors.New("sharkfile: the parts' rows are not the table's")

// BufferedPart is a RowsPart held in memory: EncodePart writes to it.
type BufferedPart [core.NumTiers]bytes.Buffer

func (b *BufferedPart) TierBytes(t core.Tier) int64 { return int64(b[t].Len()) }

func (b *BufferedPart) WriteTier(t core.Tier, w io.Writer) error {
	_, err := w.Write(b[t].Bytes())
	return err
}

// Writers are the part's tier buffers as EncodePart's outputs.
func (b *BufferedPart) Writers() [core.NumTiers]io.Writer {
	var ws [core.NumTiers]io.Writer
	for t := range ws {
		ws[t] = &b[t]
	}
	return ws
}

// EncodePart encodes rows [lo, lo+len(tiers)) of src, row lo+i in tier
// tiers[i]: each window of rows is encoded on every core (as WriteTable
// encodes it) and its rows of tier t written to out[t]. progress, if not
// nil, is told the rows encoded after each window; an error it returns
// stops the encoding (a cancel).
func EncodePart(src core.RowSource, lo int, tiers []core.Tier, out [core.NumTiers]io.Writer, progress func(done int) error) error {
	dim := src.Dim()
	if lo < 0 || lo+len(tiers) > src.Rows() {
		return fmt.Errorf("%w: rows %d..%d of a table of %d", core.ErrInvalid, lo, lo+len(tiers), src.Rows())
	}
	for i, t := range tiers {
		if t >= core.NumTiers || t.Block() {
			// A block tier's rows need their blocks' parameters, which a
			// part alone does not have: WriteTable encodes them.
			return fmt.Errorf("%w: row %d has tier %v, which parts do not encode", core.ErrInvalid, lo+i, t)
		}
	}
	win := windowOf(dim)
	enc := core.NewTierEncoder(dim)
	var bufs [core.NumTiers][]byte
	var rows []float32
	for a := 0; a < len(tiers); a += win {
		b := min(len(tiers), a+win)
		var err error
		if rows, err = partRows(src, lo+a, lo+b, rows); err != nil {
			return err
		}
		n := core.Counts(tiers[a:b])
		for t := range bufs {
			if k := n[t] * core.Tier(t).RowBytes(dim); cap(bufs[t]) < k {
				bufs[t] = make([]byte, k, max(k, win*core.Tier(t).RowBytes(dim)))
			} else {
				bufs[t] = bufs[t][:k]
			}
		}
		enc.Encode(&bufs, rows, tiers[a:b])
		for t, buf := range bufs {
			if _, err := out[t].Write(buf); err != nil {
				return err
			}
		}
		if progress != nil {
			if err := progress(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// partRows returns rows [lo, hi) of src: in place when src is in memory,
// else read into buf (grown as needed).
func partRows(src core.RowSource, lo, hi int, buf []float32) ([]float32, error) {
	if ss, ok := src.(core.SliceSource); ok {
		return ss.RowSlice(lo, hi), nil
	}
	n := (hi - lo) * src.Dim()
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	if err := core.ReadRows(src, lo, hi, buf[:n]); err != nil {
		return nil, fmt.Errorf("sharkfile: reading rows %d..%d: %w", lo, hi, err)
	}
	return buf[:n], nil
}

// WriteTableParts stores a table of rows x dim whose rows were encoded in
// parts (EncodePart), consecutive ranges of rows in order, with row r in
// tier tiers' r: the bytes WriteTable writes for the same rows and tiers.
// Each part's bytes of each tier must be what its rows of the tier take.
func (w *Writer) WriteTableParts(name string, rows, dim int, tiers TierSource, info TableInfo, parts []RowsPart) error {
	e, used, err := w.beginTable(name, rows, dim, tiers, info)
	if err != nil {
		return err
	}
	if len(used) > 0 {
		w.err = fmt.Errorf("%w: table %q: rows of %v are written by WriteTable, not in parts", core.ErrInvalid, name, used)
		return w.err
	}
	for t := range core.Tier(core.NumTiers) {
		var n int64
		for _, p := range parts {
			n += p.TierBytes(t)
		}
		if want := countOf(e, int(t)) * int64(t.RowBytes(dim)); n != want {
			w.err = fmt.Errorf("%w: table %q: %d bytes of %v rows, its tiers need %d", ErrPartSize, name, n, t, want)
			return w.err
		}
	}
	for t := range core.Tier(len(e.Counts)) {
		b, err := w.block(func(bw io.Writer) error {
			for _, p := range parts {
				if err := p.WriteTier(t, bw); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if want := e.Counts[t] * int64(t.RowBytes(dim)); b.Len != want {
			w.err = fmt.Errorf("%w: table %q: its parts wrote %d bytes of %v rows, not the %d they said", ErrPartSize, name, b.Len, t, want)
			return w.err
		}
		e.Rows = append(e.Rows, b)
	}
	w.h.Tensors = append(w.h.Tensors, *e)
	return nil
}
