package formats

import (
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"sync"
)

// CRC32Combine is the CRC of the concatenation of two byte strings, from
// their CRCs crc1 and crc2 (in the table's polynomial) and the length of
// the second: what zlib's crc32_combine computes, by multiplying by x^(8
// len2) in GF(2), so that parts checked apart, in any order, make the
// whole's CRC.
func CRC32Combine(poly uint32, crc1, crc2 uint32, len2 int64) uint32 {
	if len2 <= 0 {
		return crc1
	}
	var odd, even [32]uint32
	odd[0] = poly // the operator for one zero bit
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // apply len2's bits, a byte at the least
		if len2&1 != 0 {
			crc1 = gf2Times(&even, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
		gf2Square(&odd, &even)
		if len2&1 != 0 {
			crc1 = gf2Times(&odd, crc1)
		}
		len2 >>= 1
		if len2 == 0 {
			break
		}
	}
	return crc1 ^ crc2
}

func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func gf2Square(square, mat *[32]uint32) {
	for n := range 32 {
		square[n] = gf2Times(mat, mat[n])
	}
}

// MemberCRC is the CRC-32 (IEEE) a zip member's bytes must have: the member
// is [Off, Off+Size) of the file, and a tensor's data lies inside it.
type MemberCRC struct {
	Member string
	Off    int64
	Size   int64
	Sum    uint32
}

// crcCheck checks a tensor's member against its CRC from parts read in any
// order: each read of the data adds its range's CRC, and once the ranges
// tile the data the parts are combined with the bytes around it.
type crcCheck struct {
	want   MemberCRC
	r      io.ReaderAt
	off    int64 // the tensor's data, within the member
	n      int64
	mu     sync.Mutex
	parts  map[int64]crcPart
	result error // set once the member is checked
	done   bool
}

type crcPart struct {
	n   int64
	sum uint32
}

// add records the CRC of data bytes [at, at+len(p)).
func (c *crcCheck) add(at int64, p []byte) { c.addSum(at, int64(len(p)), crc32.ChecksumIEEE(p)) }

// addSum records that data bytes [at, at+n) have CRC sum.
func (c *crcCheck) addSum(at, n int64, sum uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		if c.parts == nil {
			c.parts = map[int64]crcPart{}
		}
		c.parts[at] = crcPart{n, sum}
	}
}

// verify checks the member: from the parts read when they tile the data,
// else by reading it all.
func (c *crcCheck) verify() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.result
	}
	sum, ok := c.fromParts()
	if !ok {
		var err error
		if sum, err = c.read(c.off, c.n, 0); err != nil {
			return err
		}
	}
	c.done, c.parts = true, nil
	c.result = c.finish(sum)
	return c.result
}

// fromParts combines the recorded parts, if they tile the data exactly.
func (c *crcCheck) fromParts() (uint32, bool) {
	starts := make([]int64, 0, len(c.parts))
	for s := range c.parts {
		starts = append(starts, s)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	var sum uint32
	at := int64(0)
	for _, s := range starts {
		if s != at {
			return 0, false
		}
		p := c.parts[s]
		sum = CRC32Combine(crc32.IEEE, sum, p.sum, p.n)
		at += p.n
	}
	return sum, at == c.n
}

// finish puts the data's CRC between the member's bytes before and after
// it, and compares.
func (c *crcCheck) finish(data uint32) error {
	w := c.want
	head, err := c.read(w.Off, c.off-w.Off, 0)
	if err != nil {
		return err
	}
	end := c.off + c.n
	tail, err := c.read(end, w.Off+w.Size-end, 0)
	if err != nil {
		return err
	}
	sum := CRC32Combine(crc32.IEEE, CRC32Combine(crc32.IEEE, head, data, c.n), tail, w.Off+w.Size-end)
	if sum != w.Sum {
		return Errorf("zip", w.Off, ErrChecksum, "member %q: CRC-32 %08x, the archive says %08x", w.Member, sum, w.Sum)
	}
	return nil
}

// read is the CRC of n bytes at off, read a MiB at a time, continuing sum.
func (c *crcCheck) read(off, n int64, sum uint32) (uint32, error) {
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := c.r.ReadAt(buf[:k], off); err != nil && !(err == io.EOF && k == 0) {
			return 0, fmt.Errorf("reading zip member: %w", err)
		}
		sum = crc32.Update(sum, crc32.IEEETable, buf[:k])
		off, n = off+k, n-k
	}
	return sum, nil
}

// CheckMember reads a whole zip member through r and compares its CRC-32
// with the archive's.
func CheckMember(r io.ReaderAt, m MemberCRC) error {
	c := &crcCheck{want: m, r: r, off: m.Off, n: m.Size}
	return c.verify()
}
