package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"
)

// ErrExportExtension: an export's file name ends in none of the
// extensions that pick its format, so no format can be chosen for it.
var ErrExportExtension = errors.New("the file name's extension picks the export's format: .pt (or .pth), .npz, .safetensors or .onnx")

// exportFormat is the format the extension of path picks, or
// ErrExportExtension: a name such as app.log must not be filled with a zip.
func exportFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		return "npz", nil
	case ".safetensors":
		return "safetensors", nil
	case ".pt", ".pth":
		return "pt", nil
	case ".onnx": // quantized lookups, in the graph the .shark came from when it is beside it
		return "onnx", nil
	}
	return "", fmt.Errorf("%w; %q has none of them, and nothing was written", ErrExportExtension, filepath.Base(path))
}

// checkNameBeforeSave makes the save dialog on top of the window refuse a
// file name that check refuses when Save is pressed (or Enter typed),
// before Fyne asks whether to overwrite a file of that name: the question
// would be about a file the app then refuses to write. Fyne 2.7.1's save
// dialog has one Entry, the name, and its Save button; the name typed is
// read at the press. If either is not found the check still runs after
// the dialog (in Export), with the file left as it was.
func (u *UI) checkNameBeforeSave(check func(name string) error) {
	top := u.Window.Canvas().Overlays().Top()
	if top == nil {
		return
	}
	var entry *widget.Entry
	var save *widget.Button
	walk(top, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Entry:
			entry = w
		case *widget.Button:
			if w.Text == lang.L("Save") {
				save = w
			}
		}
	})
	if entry == nil || save == nil || save.OnTapped == nil {
		return
	}
	tapped := save.OnTapped
	save.OnTapped = func() {
		if err := check(entry.Text); err != nil {
			u.ShowError(err)
			return
		}
		tapped()
	}
}

// walk calls visit on o and on what o holds in the fields Fyne makes
// public: a pop-up's content, a container's objects, a scroller's content
// and a split's two sides (what a file dialog is built of), without any
// widget's renderer.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	var kids []fyne.CanvasObject
	switch c := o.(type) {
	case *widget.PopUp:
		kids = []fyne.CanvasObject{c.Content}
	case *fyne.Container:
		kids = c.Objects
	case *container.Scroll:
		kids = []fyne.CanvasObject{c.Content}
	case *container.Split:
		kids = []fyne.CanvasObject{c.Leading, c.Trailing}
	}
	for _, k := range kids {
		if k != nil {
			walk(k, visit)
		}
	}
}
