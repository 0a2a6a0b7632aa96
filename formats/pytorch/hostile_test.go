package pytorch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shark/formats"
	"shark/internal/pyref"
)

// hostileFixtures writes checkpoints that must be refused, with real
// torch.save where it can make them and Python's zipfile and pickle where
// torch would not.
const hostileFixtures = `
import sys, os, io, pickle, zipfile, collections, torch
out = sys.argv[1]
marker = sys.argv[2]

class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + marker,))

class Unknown:
    pass

torch.save({"w": torch.zeros(2), "x": Evil()}, os.path.join(out, "system.pt"))
torch.save({"w": torch.zeros(2), "obj": Unknown()}, os.path.join(out, "unknown.pt"))
torch.save({"w": torch.zeros(2)}, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.e = torch.nn.Embedding(4, 2)
    def forward(self, x):
        return self.e(x)
torch.jit.save(torch.jit.trace(Net(), torch.tensor([0, 1])), os.path.join(out, "script.pt"))

with open(os.path.join(out, "plain.pkl"), "wb") as f:
    pickle.dump({"a": 1}, f, protocol=2)
with zipfile.ZipFile(os.path.join(out, "other.zip"), "w") as z:
    z.writestr("readme.txt", "hello")

class FakeStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel

class FakeTensor:
    def __init__(self, st, size, stride, offset=0):
        self.st, self.size, self.stride, self.offset = st, size, stride, offset
    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2,
                (self.st, self.offset, self.size, self.stride, False, collections.OrderedDict()))

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None

def crafted(fname, tensors, records, extra=None):
    buf = io.BytesIO()
    P(buf, protocol=2).dump(collections.OrderedDict(tensors))
    with zipfile.ZipFile(os.path.join(out, fname), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for k, v in records.items():
            z.writestr("archive/data/" + k, v)
        z.writestr("archive/version", "3\n")
        for k, v in (extra or {}).items():
            z.writestr("archive/" + k, v)

st = FakeStorage("0", 10)
crafted("good.pt", {"w": FakeTensor(st, (10,), (1,))}, {"0": bytes(40)})
crafted("missing.pt", {"w": FakeTensor(st, (10,), (1,))}, {})
crafted("short.pt", {"w": FakeTensor(st, (10,), (1,))}, {"0": bytes(16)})
crafted("past.pt", {"w": FakeTensor(st, (5, 4), (4, 1))}, {"0": bytes(40)})
crafted("offset.pt", {"w": FakeTensor(st, (10,), (1,), 3)}, {"0": bytes(40)})
crafted("overflow.pt", {"w": FakeTensor(st, (1 << 40, 1 << 40), (1, 1))}, {"0": bytes(40)})
crafted("stride.pt", {"w": FakeTensor(st, (4, 4), (1 << 62, 1))}, {"0": bytes(40)})
crafted("big.pt", {"w": FakeTensor(st, (10,), (1,))}, {"0": bytes(40)}, {"byteorder": "big"})
`

var hostileDir string

func hostile(t *testing.T) (dir, marker string) {
	t.Helper()
	if hostileDir == "" {
		dir, err := os.MkdirTemp("", "shark-pytorch-hostile-")
		if err != nil {
			t.Fatal(err)
		}
		pyref.RunWith(t, []string{"torch"}, hostileFixtures, dir, filepath.Join(dir, "MARKER"))
		hostileDir = dir
	}
	return hostileDir, filepath.Join(hostileDir, "MARKER")
}

func TestHostileCheckpoints(t *testing.T) {
	dir, marker := hostile(t)
	if _, _, err := formats.OpenFile(filepath.Join(dir, "good.pt")); err != nil {
		t.Fatalf("the crafted good file: %v", err)
	}
	cases := []struct {
		file string
		kind error
		says string
	}{
		{"system.pt", formats.ErrUnsupported, `global "posix.system" is not one torch.load(weights_only=True) allows`},
		{"unknown.pt", formats.ErrUnsupported, `global "__main__.Unknown"`},
		{"script.pt", formats.ErrUnsupported, "TorchScript archive"},
		{"legacy.pt", formats.ErrUnknownFormat, "legacy torch.save checkpoint"},
		{"plain.pkl", formats.ErrUnknownFormat, "Python pickle"},
		{"other.zip", formats.ErrUnknownFormat, `zip archive of 1 member(s) ("readme.txt")`},
		{"missing.pt", formats.ErrCorrupt, `storage "0" has no record archive/data/0`},
		{"short.pt", formats.ErrCorrupt, "longer than its record's 16 bytes"},
		{"past.pt", formats.ErrCorrupt, "reach past storage"},
		{"offset.pt", formats.ErrCorrupt, "reach past storage"},
		{"overflow.pt", formats.ErrTooLarge, "overflows"},
		{"stride.pt", formats.ErrCorrupt, "reach past storage"},
		{"big.pt", formats.ErrUnsupported, `"big"-endian machine`},
	}
	for _, c := range cases {
		_, _, err := formats.OpenFile(filepath.Join(dir, c.file))
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v; want %v saying %q", c.file, err, c.kind, c.says)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the pickle's os.system ran")
	}
}

// The error for a refused global names where it is in the file.
func TestGlobalOffset(t *testing.T) {
	dir, _ := hostile(t)
	_, _, err := formats.OpenFile(filepath.Join(dir, "system.pt"))
	var fe *formats.Error
	if !errors.As(err, &fe) || fe.Offset <= 0 {
		t.Fatalf("%v: no offset", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "system.pt"))
	if b[fe.Offset] != opGlobal {
		t.Fatalf("offset %d holds %q, not GLOBAL", fe.Offset, b[fe.Offset])
	}
}
