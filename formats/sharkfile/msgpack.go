package sharkfile

import (
	"encoding/binary"
	"fmt"
)

// maxDepth bounds how deeply a header's arrays and maps may nest: the
// container's own header nests four deep.
const maxDepth = 32

// checkMsgpack walks a msgpack document without decoding it and refuses any
// length it declares that the bytes after it cannot hold: an array of n
// elements needs at least n bytes, a map 2n, a string or binary its length.
// The decoder then allocates no more than the header's size, whatever the
// counts say; it also refuses trailing bytes and nesting past maxDepth.
func checkMsgpack(b []byte) error {
	pending := []int{1} // values still to read at each depth
	at := 0
	for len(pending) > 0 {
		if pending[len(pending)-1] == 0 {
			pending = pending[:len(pending)-1]
			continue
		}
		pending[len(pending)-1]--
		n, items, err := msgpackItem(b, at)
		if err != nil {
			return err
		}
		at += n
		if items > len(b)-at {
			return fmt.Errorf("at header byte %d: %d values declared, %d bytes left", at-n, items, len(b)-at)
		}
		if items > 0 {
			if len(pending) == maxDepth {
				return fmt.Errorf("at header byte %d: nested more than %d deep", at-n, maxDepth)
			}
			pending = append(pending, items)
		}
	}
	if at != len(b) {
		return fmt.Errorf("%d bytes after the header's value", len(b)-at)
	}
	return nil
}

// msgpackItem reads the item at b[at:]: its length in bytes, counting the
// payload of strings and binaries but not the values a container holds,
// and the number of those values.
func msgpackItem(b []byte, at int) (n, items int, err error) {
	if at >= len(b) {
		return 0, 0, fmt.Errorf("the header ends inside a value")
	}
	c := b[at]
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return 1, 0, nil
	case c <= 0x8f:
		return 1, 2 * int(c&0x0f), nil
	case c <= 0x9f:
		return 1, int(c & 0x0f), nil
	case c <= 0xbf:
		return sized(b, at, 1, int(c&0x1f))
	}
	if k, ok := fixedSize[c]; ok {
		return sized(b, at, 1, k)
	}
	var width int // bytes of the length that follows the type byte
	switch c {
	case 0xc4, 0xd9, 0xc7:
		width = 1
	case 0xc5, 0xda, 0xc8, 0xdc, 0xde:
		width = 2
	case 0xc6, 0xdb, 0xc9, 0xdd, 0xdf:
		width = 4
	default:
		return 0, 0, fmt.Errorf("at header byte %d: 0x%02x is not a msgpack type", at, c)
	}
	if at+1+width > len(b) {
		return 0, 0, fmt.Errorf("the header ends inside a length")
	}
	var l uint64
	switch width {
	case 1:
		l = uint64(b[at+1])
	case 2:
		l = uint64(binary.BigEndian.Uint16(b[at+1:]))
	case 4:
		l = uint64(binary.BigEndian.Uint32(b[at+1:]))
	}
	if l > uint64(len(b)) {
		return 0, 0, fmt.Errorf("at header byte %d: a length of %d in a header of %d bytes", at, l, len(b))
	}
	switch c {
	case 0xdc, 0xdd:
		return 1 + width, int(l), nil
	case 0xde, 0xdf:
		return 1 + width, 2 * int(l), nil
	case 0xc7, 0xc8, 0xc9: // ext: a type byte, then the data
		return sized(b, at, 1+width+1, int(l))
	}
	return sized(b, at, 1+width, int(l))
}

// fixedSize is the payload of the msgpack types of a fixed size: numbers
// and fixext (a type byte and its data).
var fixedSize = map[byte]int{0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8,
	0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17}

// sized is an item of head bytes then a payload of n bytes.
func sized(b []byte, at, head, n int) (int, int, error) {
	if at+head+n > len(b) {
		return 0, 0, fmt.Errorf("at header byte %d: a value of %d bytes past the header's end", at, head+n)
	}
	return head + n, 0, nil
}
