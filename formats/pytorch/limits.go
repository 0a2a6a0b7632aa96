package pytorch

import (
	"archive/zip"
	"fmt"
	"strconv"
	"strings"

	"shark/formats"
)

// A pickle is a program: a few bytes can nest a tuple a million levels deep
// (TUPLE1 repeated), or, with DUP and TUPLE2, make a value whose printing
// shows 2^60 leaves. The unpickler bounds what it builds, and nothing that
// reads its values may recurse without a bound of its own.

const (
	// maxNesting bounds how deeply values nest. A state_dict nests two to
	// five levels (a checkpoint's dict, the state_dict, a tensor's
	// arguments); anything that walks the values recursively stays far
	// from Go's stack limit at this depth.
	maxNesting = 1000
	// maxStack bounds the values waiting on the stack (and the stacks
	// saved under MARKs) at once. pickle.py leaves a container's items
	// there in batches of 1000, so a checkpoint of any size keeps a few
	// thousand; a run of DUPs keeps one per byte. The values a pickle
	// builds are not bounded otherwise: each opcode builds at most one, so
	// they are bounded by maxPickle (a dict id map of 5 M ints is 10 M
	// values), and a memo reference builds nothing.
	maxStack = 1 << 22
	// maxMemory bounds the bytes the values a pickle builds take, as
	// sizeOf counts them, garbage included (torch.save's pickles make
	// none to speak of). A dict id map of 5 M ints counts 400 MB (its
	// pickle 47.5 MiB; the largest data.pkl allowed holds 6.5 M); a
	// state_dict about 1 KB a tensor. Go's slices and maps growing take
	// up to about twice the count at their peak. Without it, 60 MiB of
	// "}\x940" (EMPTY_DICT, MEMOIZE, POP; 61 KB deflated) took 2.4 GB.
	maxMemory = 768 << 20
	// slotBytes is a value's place on the stack, in a container or the
	// memo (an interface); keyBytes a dict key's place in its index.
	slotBytes = 16
	keyBytes  = 32
	// maxPickle bounds data.pkl, which is read whole before it runs, and so
	// the values it builds, one per byte at most: the Go values of a pickle
	// take up to about 16 bytes per pickle byte. A state_dict's pickle takes
	// about 150 bytes a tensor: a few MiB for the largest checkpoints; what
	// comes near the bound is a big Python object saved beside the weights.
	maxPickle = 64 << 20
	// maxShown bounds the bytes of a value printed in an error message.
	maxShown = 64
)

var (
	// ErrTooDeep: the pickle nests values deeper than maxNesting.
	ErrTooDeep error = &limitError{fmt.Sprintf("values nested deeper than %d levels, shark's limit", maxNesting), formats.ErrUnsupported}
	// ErrTooManyObjects: the pickle keeps more than maxStack values on its
	// stack at once, or memoizes more values than it builds (pickle.py
	// memoizes each value once): a pickle no torch.save writes, growing
	// faster than what it builds.
	ErrTooManyObjects error = &limitError{fmt.Sprintf("more than %d values on the pickle's stack at once, or more memo entries than values built (torch.save keeps a few thousand and memoizes each value once)", maxStack), formats.ErrUnsupported}
	// ErrPickleMemory: the pickle's values take more than maxMemory.
	ErrPickleMemory error = &limitError{fmt.Sprintf("values taking more than %d MiB of memory, shark's limit (the weights themselves are not among them: a Python object saved beside them, such as a large id map, makes them this large; save that in a file of its own with torch.save or numpy, and the weights apart)", maxMemory>>20), formats.ErrTooLarge}
	// ErrPickleTooLarge: data.pkl is longer than maxPickle.
	ErrPickleTooLarge error = &limitError{fmt.Sprintf("a data.pkl over %d MiB, shark's limit (the weights themselves are not in data.pkl: a Python object saved beside them, such as a large id map, makes it this long; save that in a file of its own with torch.save or numpy, and the weights apart)", maxPickle>>20), formats.ErrTooLarge}
)

// memoryLimit is maxMemory; tests lower it to reach it with small pickles.
var memoryLimit int64 = maxMemory

// limitError is one of shark's limits, and is also the formats error of its
// kind (errors.Is finds both).
type limitError struct {
	msg  string
	kind error
}

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return e.kind }

// pickleSize refuses a data.pkl record longer than maxPickle before it is
// read (an inflated one may declare less than it holds: read stops there).
func pickleSize(f *zip.File) error {
	if f.UncompressedSize64 > maxPickle {
		return formats.Errorf(name, -1, ErrPickleTooLarge, "record %q holds %d bytes", f.Name, f.UncompressedSize64)
	}
	return nil
}

// checkObjects fails once the pickle keeps more than maxStack values on
// its stacks, or has made more memo entries than values it built: the two
// ways a pickle grows faster than what it builds (DUP, MEMOIZE floods).
func (m *machine) checkObjects() error {
	if n := len(m.stack) + m.under; n > maxStack {
		return m.errf(ErrTooManyObjects, "%d values on the stack", n)
	}
	if m.mem > memoryLimit {
		return m.errf(ErrPickleMemory, "%d values built", m.built)
	}
	if m.memos > m.built {
		return m.errf(ErrTooManyObjects, "memo entry %d of %d values built", m.memos, m.built)
	}
	return nil
}

// sizeOf is about how many bytes a value just built takes beside its slot
// (Go keeps ints below 256 without allocating).
func sizeOf(v any) int64 {
	var n int64
	switch v := v.(type) {
	case int64:
		if v < 0 || v > 255 {
			n += 8
		}
	case float64:
		n += 8
	case string:
		n += 16 + int64(len(v))
	case []byte:
		n += 24 + int64(len(v))
	case pyTuple:
		n += 24 // its items' slots were counted when they were pushed
	case *pyList:
		n += 64
	case *pyDict:
		n += 128
	case *tensor, *storage, pyGlobal:
		n += 96
	}
	return n
}

// depthOf is how deeply v nests: 0 for a scalar, 1 for a container of
// scalars. A tuple's depth is kept by its first element's address (tuples
// never change), a list's and a dict's in the value.
func (m *machine) depthOf(v any) int {
	switch v := v.(type) {
	case *pyList:
		return v.inner + 1
	case *pyDict:
		return v.inner + 1
	case pyTuple:
		if len(v) > 0 && m.tdepth[&v[0]] > 0 {
			return m.tdepth[&v[0]]
		}
		return 1
	case *tensor, *storage:
		return 1
	}
	return 0
}

// nest is the depth of the deepest of items, which are being put in a
// container; lists and dicts among them are marked held. It fails if the
// container would nest deeper than maxNesting.
func (m *machine) nest(items []any) (int, error) {
	inner := 0
	for _, v := range items {
		inner = max(inner, m.depthOf(v))
		switch v := v.(type) {
		case *pyList:
			v.held = true
		case *pyDict:
			v.held = true
		}
	}
	if inner+1 > maxNesting {
		return 0, m.errf(ErrTooDeep, "a value nesting %d levels deep", inner+1)
	}
	return inner, nil
}

// fill checks that a list or dict receiving items is not yet inside
// another container: its depth is counted when it is put in one, as
// pickle.py writes them (a container's items before the container is
// used). A pickle that fills one later could nest without bound unseen.
func (m *machine) fill(held bool, what string) error {
	if held {
		return m.errf(formats.ErrUnsupported, "a %s filled after it was put in another container (torch.save writes a container's items first)", what)
	}
	return nil
}

// newTuple makes a tuple of items, keeping its depth.
func (m *machine) newTuple(items []any) (pyTuple, error) {
	inner, err := m.nest(items)
	if err != nil {
		return nil, err
	}
	t := pyTuple(items)
	if inner > 0 && len(t) > 0 {
		if m.tdepth == nil {
			m.tdepth = map[*any]int{}
		}
		m.tdepth[&t[0]] = inner + 1
	}
	return t, nil
}

// show prints v for an error message in at most maxShown bytes: a value
// nested a million levels deep or repeated 2^60 times prints its start.
func show(v any) string {
	p := &printer{left: maxShown}
	p.value(v)
	if p.left < 0 {
		return p.b.String() + "…"
	}
	return p.b.String()
}

type printer struct {
	b    strings.Builder
	left int // bytes left; negative once something was cut
}

// put writes s or as much of it as fits.
func (p *printer) put(s string) bool {
	if p.left < 0 {
		return false
	}
	if len(s) > p.left {
		p.b.WriteString(s[:p.left])
		p.left = -1
		return false
	}
	p.b.WriteString(s)
	p.left -= len(s)
	return true
}

// value prints v. Each level writes a bracket before going deeper, so the
// recursion is no deeper than maxShown.
func (p *printer) value(v any) {
	switch v := v.(type) {
	case pyTuple:
		p.items("(", []any(v), ")")
	case *pyList:
		p.items("[", v.items, "]")
	case *pyDict:
		p.items("{", v.keys, "}") // the keys say which dict it is
	case string:
		p.put(strconv.Quote(v[:min(len(v), maxShown)])) // the quoted prefix is cut to fit
	case nil, bool, int64, float64:
		p.put(fmt.Sprint(v))
	default:
		p.put(kind(v))
	}
}

func (p *printer) items(open string, vs []any, closing string) {
	if !p.put(open) {
		return
	}
	for i, v := range vs {
		if i > 0 && !p.put(", ") {
			return
		}
		p.value(v)
		if p.left < 0 {
			return
		}
	}
	p.put(closing)
}
