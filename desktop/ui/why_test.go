package ui

import (
	"strings"
	"testing"

	fynetest "fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// Selecting a tensor says why it is a table or not, in the summary's words
// (those shark inspect and the page show): an embedding table by its size,
// a dense weight by its too few rows.
func TestSelectedTensorSaysWhy(t *testing.T) {
	a := fynetest.NewApp()
	defer a.Quit()
	u := New(a)
	u.Window.Show()
	u.Open(ncf)
	settle(t, u)
	for name, want := range map[string]string{"user_embedding_W": "size: 6040 rows ≥ 1000", "layer1_W": "size: 64 rows < 1000"} {
		row := -1
		for i, r := range u.Rows() {
			if r[0] == name {
				row = i
			}
		}
		if row < 0 {
			t.Fatalf("no row for %s", name)
		}
		u.tensors.Select(widget.TableCellID{Row: row + 1, Col: 0})
		var texts []string
		for _, o := range u.details.Objects {
			if l, ok := o.(*widget.Label); ok {
				texts = append(texts, l.Text)
			}
		}
		if !strings.Contains(strings.Join(texts, "\n"), want) {
			t.Fatalf("%s selected: the details say %q, want %q", name, texts, want)
		}
	}
}
