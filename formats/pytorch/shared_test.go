package pytorch

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"shark/formats"
	"shark/internal/pyref"
)

// sharedFixtures saves checkpoints that show one container many times, as
// pickle.py writes a value met again: a memo reference. A config dict in a
// list 200 times; the same dict in an Adam state_dict's param_groups and
// beside it; a dict holding a tensor under three keys.
const sharedFixtures = `
import sys, os, torch
torch.manual_seed(4)
out = sys.argv[1]
cfg = {str(i): i for i in range(2000)}
torch.save({"emb.weight": torch.randn(1200, 8), "cfgs": [cfg] * 200}, os.path.join(out, "shared.pt"))
emb, lin = torch.nn.Embedding(1500, 16), torch.nn.Linear(16, 1)
opt = torch.optim.Adam([{"params": emb.parameters()}, {"params": lin.parameters()}], lr=1e-3)
lin(emb(torch.randint(0, 1500, (64,)))).pow(2).mean().backward()
opt.step()
osd = opt.state_dict()
for g in osd["param_groups"]:
    g["cfg"] = cfg
torch.save({"model": {"emb.weight": emb.weight.detach(), "lin.weight": lin.weight.detach(), "lin.bias": lin.bias.detach()},
            "optimizer": osd, "cfgs": [cfg] * 50}, os.path.join(out, "sharedopt.pt"))
sub = {"w": torch.randn(1100, 4), "n": 3}
torch.save({"a": sub, "b": sub, "c": [sub, (sub, sub)]}, os.path.join(out, "sharedtensors.pt"))
`

// A container shown again is walked once: the files open, with their
// tensors named by the first path that shows them, and are written back
// equal to torch's (the shared dict once per reference).
func TestSharedContainers(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	pyref.RunWith(t, []string{"torch"}, sharedFixtures, dir)
	cases := []struct {
		file         string
		tables, opts []string
	}{
		{"shared.pt", []string{"emb.weight"}, nil},
		{"sharedopt.pt", []string{"model.emb.weight"}, []string{"optimizer.state.0.step", "optimizer.state.0.exp_avg",
			"optimizer.state.0.exp_avg_sq", "optimizer.state.1.step", "optimizer.state.1.exp_avg", "optimizer.state.1.exp_avg_sq",
			"optimizer.state.2.step", "optimizer.state.2.exp_avg", "optimizer.state.2.exp_avg_sq"}},
		{"sharedtensors.pt", []string{"a.w"}, nil},
	}
	var args []string
	for _, c := range cases {
		f := openPT(t, filepath.Join(dir, c.file))
		tables, opt, _ := roles(f)
		if !slices.Equal(tables, c.tables) || !slices.Equal(opt, c.opts) {
			t.Errorf("%s: tables %v, optimizer state %v", c.file, tables, opt)
		}
		if f.Structure == nil {
			t.Fatalf("%s: no structure kept (%s)", c.file, f.Meta["pytorch.structure"])
		}
		back := filepath.Join(out, c.file)
		rewrite(t, f, back)
		args = append(args, filepath.Join(dir, c.file), back, "0")
	}
	if got := pyref.RunWith(t, []string{"torch"}, sameCheckpoints, args...); strings.TrimSpace(got) != "same" {
		t.Fatalf("%s", got)
	}
}

// intList is a pickle of a list of n small ints, in APPENDS batches of
// 1000 as pickle.py writes it.
func intList(n int) []byte {
	b := []byte{opProto, 2, opEmptyList}
	for i := 0; i < n; i += 1000 {
		b = append(b, opMark)
		for j := i; j < min(n, i+1000); j++ {
			b = append(b, opBinInt1, byte(j))
		}
		b = append(b, opAppends)
	}
	return append(b, opStop)
}

// A pickle may build more values than the old fixed limit of 4 Mi (a real
// checkpoint's id map): only the pickle's size bounds them.
func TestManyValues(t *testing.T) {
	const n = 5_000_000
	v, err := unpickle(intList(n), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := v.(*pyList); !ok || len(l.items) != n || l.items[n-1] != int64((n-1)%256) {
		t.Fatalf("got a %s", kind(v))
	}
}

// What grows faster than the values it builds is refused at once: DUPs
// kept on the stack, a value memoized again and again; a value showing
// another twice, 60 levels over, is walked in 60 steps and not written out.
func TestFloodsRefused(t *testing.T) {
	memos := append(append([]byte{opProto, 2, opNone}, bytes.Repeat([]byte{opMemoize}, 1000)...), opStop)
	for _, pkl := range [][]byte{dups(maxStack + 10), memos} {
		_, err := unpickle(pkl, 0)
		if !errors.Is(err, ErrTooManyObjects) || !errors.Is(err, formats.ErrUnsupported) {
			t.Errorf("%.20q...: %v", pkl, err)
		}
	}
	pkl := append(append([]byte{opProto, 2, opNone}, bytes.Repeat([]byte{opDup, opTuple2}, 60)...), opStop)
	start := time.Now()
	root, err := unpickle(pkl, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{meta: map[string]string{}, open: map[any]bool{}, budget: len(pkl) + 1}
	if err := w.walk(root, "", 0); err != nil {
		t.Fatal(err)
	}
	if n, why := structure(root, nil); n != nil || !strings.Contains(why, "values written out") {
		t.Fatalf("structure %v, %q", n != nil, why)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %v", took)
	}
}

// The memory a pickle's values take is bounded, garbage included: 60 MiB of
// EMPTY_DICT, MEMOIZE, POP (61 KB deflated) took 2.4 GB. The limit is
// lowered here to reach it with a small pickle; a torch.save state_dict's
// values count about 1 KB a tensor.
func TestPickleMemoryBounded(t *testing.T) {
	defer func(l int64) { memoryLimit = l }(memoryLimit)
	memoryLimit = 16 << 20
	flood := append(append([]byte{opProto, 2}, bytes.Repeat([]byte{opEmptyDict, opMemoize, opPop}, 200_000)...), opNone, opStop)
	_, err := unpickle(flood, 0)
	if !errors.Is(err, ErrPickleMemory) || !errors.Is(err, formats.ErrTooLarge) || !strings.Contains(err.Error(), "id map") {
		t.Fatalf("dict flood: %v", err)
	}
	if _, err := unpickle(intList(1_000_000), 0); err != nil { // 16 MB counted: 1 M small ints' slots
		t.Fatalf("a list of 1 M ints: %v", err)
	}
}

// A list holding itself under a key the walk does not follow (None) is not
// written out, and counting it ends.
func TestSelfHoldingUnderNoneKey(t *testing.T) {
	// {None: l, "w": 1} where l = [l]: EMPTY_LIST, MEMOIZE, GET 0, APPEND.
	pkl := []byte("\x80\x02}\x94(N]\x94h\x01a\x8c\x01w\x94K\x01u.")
	root, err := unpickle(pkl, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := &walker{meta: map[string]string{}, open: map[any]bool{}, budget: len(pkl) + 1}
	if err := w.walk(root, "", 0); err != nil {
		t.Fatal(err)
	}
	if n, why := structure(root, nil); n != nil || why == "" {
		t.Fatalf("structure kept: %v %q", n != nil, why)
	}
}
