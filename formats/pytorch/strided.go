package pytorch

import (
	"io"

	"shark/formats"
)

// strided is a view whose elements are not in C order in their storage (a
// transposed or sliced tensor): its data is gathered in row order.
type strided struct {
	r     io.ReaderAt
	base  int64 // the storage's offset in the file
	esize int64
	t     *tensor
	crc   formats.MemberCRC
}

func (s *strided) open() (io.ReadCloser, error) {
	elems := int64(1)
	for _, n := range s.t.shape {
		elems *= n
	}
	g := &gather{s: s, idx: make([]int64, len(s.t.shape)), at: s.t.offset, left: elems,
		pages: pageCache{r: s.r, base: s.base, size: s.t.st.numel * s.esize}}
	return g, nil
}

// gather yields a strided view's elements in C order.
type gather struct {
	s     *strided
	idx   []int64 // the multi-index of the next element
	at    int64   // its storage index
	left  int64
	pages pageCache
	buf   []byte
	done  bool
}

func (g *gather) Close() error { return nil }

func (g *gather) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		if g.left == 0 {
			return 0, g.finish()
		}
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// finish checks the storage record's CRC once the view is read.
func (g *gather) finish() error {
	if !g.done {
		g.done = true
		if err := formats.CheckMember(g.s.r, g.s.crc); err != nil {
			return err
		}
	}
	return io.EOF
}

// fill gathers up to 64 KiB of elements.
func (g *gather) fill() error {
	out := make([]byte, 0, 1<<16)
	es := g.s.esize
	for g.left > 0 && int64(len(out))+es <= int64(cap(out)) {
		b, err := g.pages.at(g.at * es)
		if err != nil {
			return err
		}
		out = append(out, b[:es]...)
		g.left--
		g.next()
	}
	g.buf = out
	return nil
}

// next advances the multi-index by one element in C order.
func (g *gather) next() {
	t := g.s.t
	for d := len(t.shape) - 1; d >= 0; d-- {
		g.idx[d]++
		g.at += t.stride[d]
		if g.idx[d] < t.shape[d] {
			return
		}
		g.at -= t.stride[d] * t.shape[d]
		g.idx[d] = 0
	}
}

// pageCache reads a storage in 4 KiB pages and keeps the last 4,096, so
// that a transposed table's column walk (a row of the view touches one page
// per column, up to 4,096 columns) reads each page once instead of making a
// system call per element.
type pageCache struct {
	r     io.ReaderAt
	base  int64
	size  int64
	pages map[int64][]byte
	ring  []int64 // page numbers in the order read, oldest at next
	next  int
}

const (
	pageSize = 4096
	maxPages = 4096
)

// at returns the storage's bytes from off to its page's end. Elements never
// straddle pages: the page size is a multiple of every element size.
func (c *pageCache) at(off int64) ([]byte, error) {
	pn := off / pageSize
	if p, ok := c.pages[pn]; ok {
		return p[off-pn*pageSize:], nil
	}
	if c.pages == nil {
		c.pages = map[int64][]byte{}
	}
	var p []byte
	if len(c.ring) == maxPages {
		old := c.ring[c.next]
		p = c.pages[old][:0]
		delete(c.pages, old)
		c.ring[c.next] = pn
		c.next = (c.next + 1) % maxPages
	} else {
		c.ring = append(c.ring, pn)
	}
	n := min(pageSize, c.size-pn*pageSize)
	p = append(p[:0], make([]byte, n)...)
	if _, err := c.r.ReadAt(p, c.base+pn*pageSize); err != nil && err != io.EOF {
		return nil, formats.Errorf(name, c.base+pn*pageSize, formats.ErrCorrupt, "reading storage: %v", err)
	}
	c.pages[pn] = p
	return p[off-pn*pageSize:], nil
}
