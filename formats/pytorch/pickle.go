package pytorch

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"shark/formats"
)

// The unpickler is shark's own, and it runs nothing: it knows the opcodes
// torch.save writes and the globals torch.load(weights_only=True) allows,
// and builds plain values from them. A well-kept Go unpickler was measured
// first (github.com/nlpodyssey/gopickle v0.2.0, whose class and
// persistent-load hooks would serve): it trusts the lengths it reads, so a
// 12-byte pickle declaring a 1 GiB FRAME made it allocate 1024 MiB, and an
// 8-byte BINUNICODE declaring 2 GiB allocated 2048 MiB. Here every length
// is checked against the bytes left before anything is allocated.

// The values a checkpoint's pickle builds.
type (
	pyTuple []any
	pyList  struct {
		items []any
		inner int  // the depth of its deepest item (see limits.go)
		held  bool // it is in another container
	}
	// pyDict keeps insertion order, as a state_dict's OrderedDict does.
	pyDict struct {
		keys, vals []any
		// The positions of the keys that are strings, ints, bools or None,
		// in maps by type: a map[any]int of a 5 M-int id map took 3.5 s of
		// its 5.7 s to open.
		strs    map[string]int
		ints    map[int64]int
		others  map[any]int
		ordered bool // a collections.OrderedDict, not a {}
		inner   int
		held    bool
	}
	// pyGlobal is an allowed global, named module.name.
	pyGlobal struct{ module, name string }
	// storage is a persistent id's storage: a zip record data/<key>.
	storage struct {
		typ   string // torch.FloatStorage
		dtype formats.DType
		key   string
		numel int64
	}
	// tensor is a view of a storage (torch._utils._rebuild_tensor_v2).
	tensor struct {
		st            *storage
		offset        int64
		shape, stride []int64
	}
)

func (g pyGlobal) String() string { return g.module + "." + g.name }

func (d *pyDict) set(k, v any) {
	var i int
	var ok bool
	switch k := k.(type) {
	case string:
		i, ok = position(&d.strs, k, len(d.keys))
	case int64:
		i, ok = position(&d.ints, k, len(d.keys))
	case bool, nil:
		i, ok = position(&d.others, any(k), len(d.keys))
	}
	if ok {
		d.vals[i] = v
		return
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// position finds k's position in *m, or records it at next and says it was
// not there.
func position[K comparable](m *map[K]int, k K, next int) (int, bool) {
	if *m == nil {
		*m = map[K]int{}
	}
	if i, ok := (*m)[k]; ok {
		return i, true
	}
	(*m)[k] = next
	return 0, false
}

// machine runs a pickle: its stack, the stacks saved under MARKs and the
// memo, as pickle.py keeps them.
type machine struct {
	data     []byte
	pos      int   // of the next opcode's argument
	op       int   // where the current opcode starts
	base     int64 // data's offset in the file, or -1
	stack    []any
	meta     [][]any
	memo     memo
	storages map[string]*storage
	objects  int          // values pushed and memo entries made
	built    int          // values built (pushed, less DUP's and the memo's copies)
	memos    int          // memo entries made
	under    int          // values on the stacks saved under MARKs
	mem      int64        // bytes the values built take, as sizeOf counts them
	tdepth   map[*any]int // tuples' depths (see depthOf)
}

// unpickle runs data (which lies at file offset base, or -1 if it was
// inflated) and returns the object it builds.
func unpickle(data []byte, base int64) (any, error) {
	return newMachine(data, base).run()
}

func newMachine(data []byte, base int64) *machine {
	return &machine{data: data, base: base, storages: map[string]*storage{}}
}

// run runs the pickle to its STOP.
func (m *machine) run() (any, error) {
	for m.pos < len(m.data) {
		m.op = m.pos
		code := m.data[m.pos]
		m.pos++
		if code == opStop {
			return m.pop()
		}
		if err := m.step(code); err != nil {
			return nil, err
		}
		if err := m.checkObjects(); err != nil {
			return nil, err
		}
	}
	return nil, m.errf(formats.ErrCorrupt, "the pickle ends without STOP")
}

// errf is an error at the current opcode.
func (m *machine) errf(kind error, format string, args ...any) error {
	off := int64(-1)
	if m.base >= 0 {
		off = m.base + int64(m.op)
	}
	msg := fmt.Sprintf("data.pkl byte %d: ", m.op) + fmt.Sprintf(format, args...)
	return &formats.Error{Format: name, Offset: off, Msg: msg, Err: kind}
}

// push pushes a value just built.
func (m *machine) push(v any) {
	m.built++
	m.mem += sizeOf(v)
	m.pushRef(v)
}

// pushRef pushes a value built before (DUP, a memo entry): a reference,
// which builds nothing.
func (m *machine) pushRef(v any) {
	m.objects++
	m.mem += slotBytes
	if len(m.stack) == cap(m.stack) {
		// Doubling, where append grows a long slice by a quarter: a pickle
		// of DUPs then allocates twice its final stack, not five times.
		m.stack = slices.Grow(m.stack, len(m.stack)+1)
	}
	m.stack = append(m.stack, v)
}

func (m *machine) pop() (any, error) {
	if len(m.stack) == 0 {
		return nil, m.errf(formats.ErrCorrupt, "stack underflow")
	}
	v := m.stack[len(m.stack)-1]
	m.stack = m.stack[:len(m.stack)-1]
	return v, nil
}

func (m *machine) top() (any, error) {
	if len(m.stack) == 0 {
		return nil, m.errf(formats.ErrCorrupt, "stack underflow")
	}
	return m.stack[len(m.stack)-1], nil
}

// popMark returns the items pushed since the last MARK and restores the
// stack below it.
func (m *machine) popMark() ([]any, error) {
	if len(m.meta) == 0 {
		return nil, m.errf(formats.ErrCorrupt, "no MARK on the stack")
	}
	items := m.stack
	m.stack = m.meta[len(m.meta)-1]
	m.meta = m.meta[:len(m.meta)-1]
	m.under -= len(m.stack)
	return items, nil
}

// take returns the next n bytes of the argument, checked against what is
// left before anything is made of them.
func (m *machine) take(n uint64) ([]byte, error) {
	if n > uint64(len(m.data)-m.pos) {
		return nil, m.errf(formats.ErrCorrupt, "an argument of %d bytes, %d left in the pickle", n, len(m.data)-m.pos)
	}
	b := m.data[m.pos : m.pos+int(n)]
	m.pos += int(n)
	return b, nil
}

// uint reads a little-endian unsigned argument of n bytes (1, 2, 4 or 8).
func (m *machine) uint(n int) (uint64, error) {
	b, err := m.take(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// line reads a newline-terminated argument (GLOBAL's module and name).
func (m *machine) line() (string, error) {
	for i := m.pos; i < len(m.data) && i-m.pos <= 256; i++ {
		if m.data[i] == '\n' {
			s := string(m.data[m.pos:i])
			m.pos = i + 1
			return s, nil
		}
	}
	return "", m.errf(formats.ErrCorrupt, "a GLOBAL name that does not end within 256 bytes")
}

// long decodes LONG1/LONG4's two's-complement little-endian bytes: shark
// reads integers that fit in int64 (sizes, strides, offsets).
func (m *machine) long(n uint64) (int64, error) {
	if n > 8 {
		return 0, m.errf(formats.ErrUnsupported, "an integer of %d bytes (shark reads 64-bit integers)", n)
	}
	b, err := m.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if n > 0 && n < 8 && b[n-1]&0x80 != 0 {
		v |= math.MaxUint64 << (8 * n) // sign-extend
	}
	return int64(v), nil
}

func (m *machine) float() (float64, error) {
	b, err := m.take(8)
	if err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}
