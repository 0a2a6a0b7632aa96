package ui

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"shark/internal/pyref"
)

// detailsFixtures writes, with PyTorch and ONNX, rec.onnx: two TorchRec-
// named tables exported by torch.onnx.export, whose Gather nodes are
// renamed with the long scopes TorchRec's graphs have, t_cat_0 read by a
// second one; and ckpt.pt: a training checkpoint ({"model", "optimizer",
// "epoch"}) of a long-named table tied to a decoder, with Adam's state.
const detailsFixtures = `
import sys, os, torch, onnx
from onnx import helper
out = sys.argv[1]
torch.manual_seed(1)

class Bags(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.embedding_bags = torch.nn.ModuleDict({"t_cat_0": torch.nn.Embedding(1200, 8), "t_cat_1": torch.nn.Embedding(1100, 8)})
class Sparse(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.embedding_bag_collection = Bags()
class Rec(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.sparse_arch = Sparse()
        s.top = torch.nn.Linear(16, 1)
    def forward(s, a, b):
        e = s.sparse_arch.embedding_bag_collection.embedding_bags
        return s.top(torch.cat([e["t_cat_0"](a), e["t_cat_1"](b)], 1))
p = os.path.join(out, "rec.onnx")
torch.onnx.export(Rec(), (torch.tensor([1, 2]), torch.tensor([3, 4])), p, input_names=["a", "b"], opset_version=13)
m = onnx.load(p)
scope = "/model/sparse_arch/embedding_bag_collection/embedding_bags/"
extra = []
for n in list(m.graph.node):
    if n.op_type == "Gather":
        t = [i for i in n.input if "t_cat_" in i][0].split(".")[-2]
        n.name = scope + t + "/Gather"
        if t == "t_cat_0":
            extra.append(helper.make_node("Gather", [n.input[0], "a"], ["again"], name="/model/over_arch/interaction_arch/t_cat_0_lookup/Gather"))
m.graph.node.extend(extra)
onnx.save(m, p)

class Enc(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.item_embedding_collection_for_the_ranking_tower = torch.nn.Embedding(1500, 8)
class LM(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.encoder = Enc()
        s.decoder = torch.nn.Linear(8, 1500, bias=False)
        s.decoder.weight = s.encoder.item_embedding_collection_for_the_ranking_tower.weight
lm = LM()
opt = torch.optim.Adam(lm.parameters())
lm.decoder(torch.ones(2, 8)).sum().backward()
opt.step()
torch.save({"model": lm.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, os.path.join(out, "ckpt.pt"))
`

// detailsOf is the text of every label the details pane shows.
func detailsOf(u *UI) []string {
	var s []string
	for _, o := range u.details.Objects {
		objects(o, func(k fyne.CanvasObject) {
			if l, ok := k.(*widget.Label); ok {
				s = append(s, l.Text)
			}
		})
	}
	return s
}

// selectTensor selects name in the tensor list.
func selectTensor(t *testing.T, u *UI, name string) {
	t.Helper()
	for i, r := range u.Rows() {
		if r[0] == name {
			u.tensors.Select(widget.TableCellID{Row: i + 1, Col: 0})
			return
		}
	}
	t.Fatalf("no row for %s in %v", name, u.Rows())
}

// fitsWindow fails for a text of the window that runs out of its space,
// of the tensor list or of the window, 1024 px wide, or over another
// text, and returns the texts.
func fitsWindow(t *testing.T, u *UI) []string {
	t.Helper()
	var ts []placedText
	var paneRight float32
	done := make(chan struct{})
	fyne.Do(func() {
		ts = texts(t, u.Window)
		paneRight = fyne.CurrentApp().Driver().AbsolutePositionForObject(u.tensors).X + u.tensors.Size().Width
		close(done)
	})
	<-done
	var all []string
	for _, x := range ts {
		if x.min.Width > x.size.Width+1 || x.pos.X+x.min.Width > 1024+1 {
			t.Errorf("%q needs %.0f px, has %.0f at x %.0f", x.text, x.min.Width, x.size.Width, x.pos.X)
		}
		if x.pos.X < paneRight && x.pos.X+x.min.Width > paneRight+1 {
			t.Errorf("%q at x %.0f runs out of the tensor list (to %.0f)", x.text, x.pos.X, paneRight)
		}
		all = append(all, x.text)
	}
	for i, a := range ts {
		for _, b := range ts[i+1:] {
			if overlap(a, b) {
				t.Errorf("%q at %v and %q at %v overlap", a.text, a.pos, b.text, b.pos)
			}
		}
	}
	return all
}

// At 1024 x 768 the desktop shows what the page shows of an ONNX model and
// a checkpoint: which Gather nodes read each table (their names cut in
// the middle, the part telling them apart whole), the file's metadata, a
// tied weight's owner and an optimizer's state; no text runs out.
func TestOnnxAndCheckpointDetails(t *testing.T) {
	dir := t.TempDir()
	pyref.RunWith(t, []string{"onnx", "torch"}, detailsFixtures, dir)
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Resize(fyne.NewSize(1024, 768))
	u.Window.Show()

	u.Open(filepath.Join(dir, "rec.onnx"))
	settle(t, u)
	table := "sparse_arch.embedding_bag_collection.embedding_bags.t_cat_0.weight"
	selectTensor(t, u, table)
	got := detailsOf(u)
	if !strings.Contains(strings.Join(got, "\n"), "embedding table, read by 2 Gather nodes:") {
		t.Fatalf("%s selected: the details say %q", table, got)
	}
	shown := strings.Join(fitsWindow(t, u), "\n")
	for _, tail := range []string{"t_cat_0/Gather", "t_cat_0_lookup/Gather"} {
		if !regexp.MustCompile(`(?m)^/model/\S*(/|…)` + tail + `$`).MatchString(shown) {
			t.Errorf("no Gather node ending %q shown whole at its end: %q", tail, got)
		}
	}
	if !strings.Contains(shown, "onnx.producer: pytorch") {
		t.Errorf("the ONNX model's metadata is not shown: %q", shown)
	}
	shotDesktop(t, u.Window, "onnx-gather-1024x768")

	u.Open(filepath.Join(dir, "ckpt.pt"))
	settle(t, u)
	if len(u.meta.Items) != 1 || !strings.HasPrefix(u.meta.Items[0].Title, "File metadata (") || u.meta.Items[0].Open {
		t.Fatalf("the checkpoint's metadata is not listed, folded: %v", u.meta.Items)
	}
	u.meta.Open(0)
	owner := "model.encoder.item_embedding_collection_for_the_ranking_tower.weight"
	selectTensor(t, u, "model.decoder.weight")
	got = detailsOf(u)
	if !strings.Contains(strings.Join(got, "\n"), "Tied: the same storage as") {
		t.Fatalf("the tied weight selected: the details say %q", got)
	}
	shown = strings.Join(fitsWindow(t, u), "\n")
	if !regexp.MustCompile(`(?m)^\S*_ranking_tower\.weight$`).MatchString(shown) {
		t.Errorf("the tied weight's owner %s is not shown with its end whole: %q", owner, got)
	}
	for _, r := range u.Rows() {
		if r[0] == "model.decoder.weight" && !regexp.MustCompile(`^same as "…\S*\.weight"$`).MatchString(r[4]) {
			t.Errorf("the tied weight's role in the list: %q", r[4])
		}
	}
	for _, want := range []string{"epoch: 3", "optimizer.param_groups.0.lr: 0.001"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the checkpoint's metadata does not show %q", want)
		}
	}
	shotDesktop(t, u.Window, "checkpoint-tied-1024x768")
	selectTensor(t, u, "optimizer.state.0.exp_avg")
	if got := strings.Join(detailsOf(u), "\n"); !strings.Contains(got, "Role: optimizer state (dense, not a table)") {
		t.Errorf("Adam's state selected: the details say %q", got)
	}
	fitsWindow(t, u)
	if _, err := os.Stat(filepath.Join(dir, "ckpt.pt")); err != nil {
		t.Fatal(err)
	}
}
