package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fynetest "fyne.io/fyne/v2/test"

	"shark/formats"
	"shark/formats/npz"
)

// torchRecModel writes an .npz of 26 tables named as TorchRec names them
// and one short-named table, 1,000 x 16 each.
func torchRecModel(t *testing.T) (string, []string) {
	var names []string
	for i := range 26 {
		names = append(names, fmt.Sprintf("model.sparse_arch.embedding_bag_collection.embedding_bags.t_cat_%d.weight", i))
	}
	names = append(names, "user_embedding")
	var buf bytes.Buffer
	w := npz.NewWriter(&buf, false)
	for k, n := range names {
		vals := make([]float32, 1000*16)
		for i := range vals {
			vals[i] = float32((i*7+k)%13) * 0.01
		}
		if err := w.Write(n, formats.F32, []int64{1000, 16}, bytes.NewReader(formats.EncodeFloat32(nil, vals))); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	p := filepath.Join(t.TempDir(), "torchrec.npz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, names
}

// distinguishing matches a name's part that tells it from the others,
// shown whole at the end of its text.
var distinguishing = regexp.MustCompile(`(t_cat_[0-9]+\.weight|^user_embedding)$`)

// At 1024 x 768, every name shown in the tensor list and the plan shows
// its distinguishing part whole (t_cat_N.weight, and user_embedding all
// of it), the tensor list's Bytes and Role columns are in view, and no
// text runs out of the window.
func TestLongNamesAt1024x768(t *testing.T) {
	path, names := torchRecModel(t)
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Resize(fyne.NewSize(1024, 768))
	u.Window.Show()
	u.Open(path)
	waitWithin(t, 20*time.Second, "the plan", func() bool { return u.plan != nil && u.plan.Assigned() && !u.compress.Disabled() })
	settle(t, u)
	var ts []placedText
	var paneRight float32
	done := make(chan struct{})
	fyne.Do(func() {
		ts = texts(t, u.Window)
		paneRight = fyne.CurrentApp().Driver().AbsolutePositionForObject(u.tensors).X + u.tensors.Size().Width
		close(done)
	})
	<-done
	shotDesktop(t, u.Window, "long-names-1024x768")
	inPlan := map[string]bool{}
	headers := map[string]bool{}
	for _, x := range ts {
		if x.pos.X+x.min.Width > 1024+1 {
			t.Errorf("%q at x %.0f needs %.0f px: it runs out of the window", x.text, x.pos.X, x.min.Width)
		}
		left := x.pos.X < paneRight
		if left && (x.text == "Bytes" || x.text == "Role") && x.pos.X+x.min.Width <= paneRight+1 {
			headers[x.text] = true
		}
		named := regexp.MustCompile(`t_cat_|user_emb|model\.sparse`).MatchString(x.text)
		if !named {
			continue
		}
		if !distinguishing.MatchString(x.text) || x.min.Width > x.size.Width+1 {
			t.Errorf("%q at x %.0f (%.0f px of %.0f): its distinguishing part is cut", x.text, x.pos.X, x.size.Width, x.min.Width)
			continue
		}
		if !left {
			inPlan[distinguishing.FindString(x.text)] = true
		}
	}
	for _, h := range []string{"Bytes", "Role"} {
		if !headers[h] {
			t.Errorf("the tensor list's %s column is out of view (the list ends at %.0f px)", h, paneRight)
		}
	}
	for _, n := range names {
		if !inPlan[distinguishing.FindString(n)] {
			t.Errorf("the plan does not show %s", distinguishing.FindString(n))
		}
	}
}
