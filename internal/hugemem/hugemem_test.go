package hugemem

import "testing"

func TestAlloc(t *testing.T) {
	for _, n := range []int{0, 3, 4096, 8<<20 + 12345} { // the last above hugeFrom: mapped on Linux
		b := Alloc(n)
		if len(b.Bytes) != n {
			t.Fatalf("Alloc(%d): %d bytes", n, len(b.Bytes))
		}
		for i, v := range b.Bytes {
			if v != 0 {
				t.Fatalf("Alloc(%d): byte %d is %d", n, i, v)
			}
		}
		for i := range b.Bytes {
			b.Bytes[i] = byte(i)
		}
		if f := b.Float32s(); len(f) != n/4 {
			t.Fatalf("Float32s of %d bytes: %d", n, len(f))
		}
		if u := b.Uint32s(); n >= 4 && (len(u) != n/4 || u[0] != 0x03020100) {
			t.Fatalf("Uint32s of %d bytes: %d, first %#x", n, len(u), u[0])
		}
		if err := b.Free(); err != nil {
			t.Fatal(err)
		}
		if err := b.Free(); err != nil || b.Bytes != nil {
			t.Fatalf("second Free: %v, bytes %d", err, len(b.Bytes))
		}
	}
}
