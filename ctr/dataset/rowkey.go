package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"strings"
)

// RowKey identifies a row by its parsed content: its click label and the
// text of every field it has, each trimmed of surrounding blanks, with the
// field it belongs to. So the same row has the same key whatever file it
// arrives in: with LF or CRLF line ends, quoted or not, blanks around its
// values or not, in any order among other rows. (Values are hashed as
// written, before bucketing, so rows that differ only inside a bucket are
// still told apart.)
type RowKey struct{ A, B uint64 }

// keyer hashes rows into keys, reusing one SHA-256 state: a 128-bit key
// makes a collision between two different rows, which would leave a
// held-out row out as a training row, vanishingly rare.
type keyer struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

func newKeyer() *keyer { return &keyer{h: sha256.New()} }

// start begins a row's key with its click label.
func (k *keyer) start(label float32) {
	k.h.Reset()
	k.buf = binary.LittleEndian.AppendUint32(k.buf[:0], math.Float32bits(label))
}

// field adds field id's value.
func (k *keyer) field(id int, v string) {
	v = strings.TrimSpace(v)
	k.buf = binary.LittleEndian.AppendUint64(k.buf, uint64(id))
	k.buf = binary.LittleEndian.AppendUint64(k.buf, uint64(len(v)))
	k.buf = append(k.buf, v...)
	if len(k.buf) >= 4096 {
		k.h.Write(k.buf)
		k.buf = k.buf[:0]
	}
}

// key ends the row.
func (k *keyer) key() RowKey {
	k.h.Write(k.buf)
	s := k.h.Sum(k.sum[:0])
	return RowKey{A: binary.LittleEndian.Uint64(s), B: binary.LittleEndian.Uint64(s[8:])}
}

// HeldOut reports whether the row of key k is in the held-out share split
// chosen by seed. It depends on the row's content alone, not on its place
// in a file, so a row is held out (or trained on) wherever it is read, and
// copies of a row all fall on the same side.
func HeldOut(k RowKey, split float64, seed uint64) bool {
	if split <= 0 {
		return false
	}
	x := k.B ^ (seed * 0x9e3779b97f4a7c15)
	x ^= x >> 30 // splitmix64's finaliser: the seed changes every row's draw
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/(1<<53) < split
}

// ErrRowSet: a model file's record of its training rows is malformed.
var ErrRowSet = errors.New("bad record of training rows")

// RowSet is the keys of the rows one training pass used: a Bloom filter
// sized for their count with a false-positive rate of RowSetFP. A Bloom
// filter, not the keys themselves, because it costs 29 bits a row where
// a sorted list of 64-bit hashes costs 64, and because its only error is
// the safe one: a false positive leaves a held-out row out of a score as
// if it were a training row; a training row is never taken for a held-out
// one.
type RowSet struct {
	Rows int64  `msgpack:"rows" json:"rows"` // keys added
	K    int    `msgpack:"k" json:"k"`       // bits set per key
	Bits []byte `msgpack:"bits" json:"-"`
}

// RowSetFP is the share of rows a RowSet wrongly says it holds.
const RowSetFP = 1e-6

// NewRowSet is a filter sized for n keys.
func NewRowSet(n int) *RowSet {
	m := math.Ceil(-float64(max(n, 1)) * math.Log(RowSetFP) / (math.Ln2 * math.Ln2))
	bytes := max(8, int(math.Ceil(m/8)))
	k := int(math.Round(float64(bytes*8) / float64(max(n, 1)) * math.Ln2))
	return &RowSet{K: min(max(k, 1), 32), Bits: make([]byte, bytes)}
}

// probes calls fn with each bit of key k (double hashing).
func (s *RowSet) probes(k RowKey, fn func(bit uint64) bool) bool {
	m := uint64(len(s.Bits)) * 8
	h, step := k.A, k.B|1
	for i := 0; i < s.K; i++ {
		if !fn(h % m) {
			return false
		}
		h += step
	}
	return true
}

// Add records key k.
func (s *RowSet) Add(k RowKey) {
	s.Rows++
	s.probes(k, func(b uint64) bool { s.Bits[b/8] |= 1 << (b % 8); return true })
}

// Has reports whether k was added (or, at rate RowSetFP, a false positive).
func (s *RowSet) Has(k RowKey) bool {
	return s.probes(k, func(b uint64) bool { return s.Bits[b/8]&(1<<(b%8)) != 0 })
}

// Check refuses a filter read from a file that could not have been made
// by NewRowSet.
func (s *RowSet) Check() error {
	if len(s.Bits) < 8 || s.K < 1 || s.K > 32 || s.Rows < 0 || s.Rows > int64(len(s.Bits))*8 {
		return fmt.Errorf("%w: %d bytes, %d bits a key, %d rows", ErrRowSet, len(s.Bits), s.K, s.Rows)
	}
	return nil
}
