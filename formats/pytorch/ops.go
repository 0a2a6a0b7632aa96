package pytorch

import (
	"shark/formats"
)

// Opcodes (pickle.py's names).
const (
	opMark           = '('
	opStop           = '.'
	opPop            = '0'
	opPopMark        = '1'
	opDup            = '2'
	opBinFloat       = 'G'
	opBinInt         = 'J'
	opBinInt1        = 'K'
	opBinInt2        = 'M'
	opNone           = 'N'
	opBinPersID      = 'Q'
	opReduce         = 'R'
	opBinString      = 'T'
	opShortBinString = 'U'
	opBinUnicode     = 'X'
	opAppend         = 'a'
	opBuild          = 'b'
	opGlobal         = 'c'
	opDict           = 'd'
	opEmptyDict      = '}'
	opAppends        = 'e'
	opBinGet         = 'h'
	opLongBinGet     = 'j'
	opList           = 'l'
	opEmptyList      = ']'
	opBinPut         = 'q'
	opLongBinPut     = 'r'
	opSetItem        = 's'
	opTuple          = 't'
	opEmptyTuple     = ')'
	opSetItems       = 'u'
	opBinBytes       = 'B'
	opShortBinBytes  = 'C'
	opProto          = 0x80
	opNewObj         = 0x81
	opTuple1         = 0x85
	opTuple2         = 0x86
	opTuple3         = 0x87
	opNewTrue        = 0x88
	opNewFalse       = 0x89
	opLong1          = 0x8a
	opLong4          = 0x8b
	opShortBinUni    = 0x8c
	opBinUnicode8    = 0x8d
	opBinBytes8      = 0x8e
	opEmptySet       = 0x8f
	opAddItems       = 0x90
	opFrozenSet      = 0x91
	opStackGlobal    = 0x93
	opMemoize        = 0x94
	opFrame          = 0x95
)

// step runs one opcode whose argument starts at m.pos.
func (m *machine) step(code byte) error {
	if ok, err := m.scalar(code); ok || err != nil {
		return err
	}
	if ok, err := m.collection(code); ok || err != nil {
		return err
	}
	if ok, err := m.stackOp(code); ok || err != nil {
		return err
	}
	switch code {
	case opGlobal:
		return m.global()
	case opStackGlobal:
		return m.stackGlobal()
	case opReduce:
		return m.reduce()
	case opNewObj:
		return m.newObj()
	case opBuild:
		return m.build()
	case opBinPersID:
		return m.persistentLoad()
	}
	return m.errf(formats.ErrUnsupported, "opcode 0x%02x (%q), which torch.load(weights_only=True) refuses", code, rune(code))
}

// scalar pushes a constant, a number or a string.
func (m *machine) scalar(code byte) (bool, error) {
	var v any
	var err error
	switch code {
	case opNone:
		v = nil
	case opNewTrue:
		v = true
	case opNewFalse:
		v = false
	case opBinInt:
		var u uint64
		u, err = m.uint(4)
		v = int64(int32(uint32(u)))
	case opBinInt1, opBinInt2:
		var u uint64
		u, err = m.uint(argWidth(code))
		v = int64(u)
	case opLong1, opLong4:
		var n uint64
		if n, err = m.uint(argWidth(code)); err == nil {
			v, err = m.long(n)
		}
	case opBinFloat:
		v, err = m.float()
	case opShortBinUni, opBinUnicode, opBinUnicode8, opShortBinString, opBinString:
		var b []byte
		b, err = m.str(code)
		v = string(b)
	case opShortBinBytes, opBinBytes, opBinBytes8:
		var b []byte
		b, err = m.str(code)
		v = b
	default:
		return false, nil
	}
	if err == nil {
		m.push(v)
	}
	return true, err
}

// argWidth is the size of an opcode's integer or length argument.
func argWidth(code byte) int {
	switch code {
	case opBinInt1, opLong1, opShortBinUni, opShortBinString, opShortBinBytes:
		return 1
	case opBinInt2:
		return 2
	case opLong4, opBinUnicode, opBinString, opBinBytes:
		return 4
	}
	return 8 // opBinUnicode8, opBinBytes8
}

// str reads a length-prefixed string or bytes argument.
func (m *machine) str(code byte) ([]byte, error) {
	n, err := m.uint(argWidth(code))
	if err != nil {
		return nil, err
	}
	return m.take(n)
}

// collection builds tuples, lists, dicts and sets.
func (m *machine) collection(code byte) (bool, error) {
	switch code {
	case opEmptyTuple:
		m.push(pyTuple{})
	case opEmptyList:
		m.push(&pyList{})
	case opEmptyDict:
		m.push(&pyDict{})
	case opEmptySet:
		m.push(&pyList{}) // a set's members are values like a list's
	case opTuple1, opTuple2, opTuple3:
		n := int(code-opTuple1) + 1
		if len(m.stack) < n {
			return true, m.errf(formats.ErrCorrupt, "stack underflow")
		}
		t, err := m.newTuple(append([]any{}, m.stack[len(m.stack)-n:]...))
		if err != nil {
			return true, err
		}
		m.stack = m.stack[:len(m.stack)-n]
		m.push(t)
	case opTuple, opList, opDict, opFrozenSet:
		return true, m.fromMark(code)
	case opAppend, opAppends, opAddItems:
		return true, m.appendItems(code)
	case opSetItem, opSetItems:
		return true, m.setItems(code)
	default:
		return false, nil
	}
	return true, nil
}

// fromMark makes a tuple, list, dict or frozenset of the items since MARK.
func (m *machine) fromMark(code byte) error {
	items, err := m.popMark()
	if err != nil {
		return err
	}
	if code == opTuple {
		t, err := m.newTuple(items)
		if err == nil {
			m.push(t)
		}
		return err
	}
	inner, err := m.nest(items)
	if err != nil {
		return err
	}
	switch code {
	case opList, opFrozenSet:
		m.push(&pyList{items: items, inner: inner})
	case opDict:
		if len(items)%2 != 0 {
			return m.errf(formats.ErrCorrupt, "DICT of an odd number of items")
		}
		d := &pyDict{inner: inner}
		m.mem += int64(len(items)/2) * keyBytes
		for i := 0; i < len(items); i += 2 {
			d.set(items[i], items[i+1])
		}
		m.push(d)
	}
	return nil
}

func (m *machine) appendItems(code byte) error {
	var items []any
	if code == opAppend {
		v, err := m.pop()
		if err != nil {
			return err
		}
		items = []any{v}
	} else {
		var err error
		if items, err = m.popMark(); err != nil {
			return err
		}
	}
	t, err := m.top()
	if err != nil {
		return err
	}
	l, ok := t.(*pyList)
	if !ok {
		return m.errf(formats.ErrCorrupt, "APPEND to a %s, not a list", kind(t))
	}
	if err := m.fill(l.held, "list"); err != nil {
		return err
	}
	inner, err := m.nest(items)
	if err != nil {
		return err
	}
	l.inner = max(l.inner, inner)
	l.items = append(l.items, items...)
	return nil
}

func (m *machine) setItems(code byte) error {
	var items []any
	if code == opSetItem {
		if len(m.stack) < 2 {
			return m.errf(formats.ErrCorrupt, "stack underflow")
		}
		items = append(items, m.stack[len(m.stack)-2:]...)
		m.stack = m.stack[:len(m.stack)-2]
	} else {
		var err error
		if items, err = m.popMark(); err != nil {
			return err
		}
	}
	t, err := m.top()
	if err != nil {
		return err
	}
	d, ok := t.(*pyDict)
	if !ok || len(items)%2 != 0 {
		return m.errf(formats.ErrCorrupt, "SETITEMS on a %s", kind(t))
	}
	if err := m.fill(d.held, "dict"); err != nil {
		return err
	}
	inner, err := m.nest(items)
	if err != nil {
		return err
	}
	d.inner = max(d.inner, inner)
	m.mem += int64(len(items)/2) * keyBytes
	for i := 0; i < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
	return nil
}

// stackOp runs MARK, POP, DUP, the memo and the protocol's framing.
func (m *machine) stackOp(code byte) (bool, error) {
	switch code {
	case opMark:
		m.under += len(m.stack)
		m.meta = append(m.meta, m.stack)
		m.stack = nil
	case opPop:
		_, err := m.pop()
		return true, err
	case opPopMark:
		_, err := m.popMark()
		return true, err
	case opDup:
		v, err := m.top()
		m.pushRef(v)
		return true, err
	case opProto:
		_, err := m.take(1)
		return true, err
	case opFrame:
		_, err := m.uint(8) // a hint for buffered readers; the data is all here
		return true, err
	case opBinGet, opLongBinGet, opBinPut, opLongBinPut, opMemoize:
		return true, m.memoOp(code)
	default:
		return false, nil
	}
	return true, nil
}

func (m *machine) memoOp(code byte) error {
	var idx uint64
	var err error
	switch code {
	case opBinGet, opBinPut:
		idx, err = m.uint(1)
	case opLongBinGet, opLongBinPut:
		idx, err = m.uint(4)
	case opMemoize:
		idx = uint64(m.memo.len())
	}
	if err != nil {
		return err
	}
	if code == opBinGet || code == opLongBinGet {
		v, ok := m.memo.get(uint32(idx))
		if !ok {
			return m.errf(formats.ErrCorrupt, "memo %d is not set", idx)
		}
		m.pushRef(v)
		return nil
	}
	v, err := m.top()
	if m.memo.put(uint32(idx), v) {
		m.objects++
		m.memos++
		m.mem += slotBytes
	}
	return err
}

// kind names a value's Python type for messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case float64:
		return "float"
	case []byte:
		return "bytes"
	case string:
		return "str"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return v.String()
	case *storage:
		return "storage"
	case *tensor:
		return "tensor"
	}
	return "value"
}
