package ui

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
)

// Column widths of the tensor list: each fits its widest cell, and the
// name column takes what the others leave of listWidth (the list's width
// in a 1024 px window), between minNameWidth and maxNameWidth; a longer
// name gives up its middle (elideMiddle), keeps the part that tells it
// apart, and shows whole when its row is selected.
const (
	listWidth    = 490
	minNameWidth = 130
	maxNameWidth = 260
)

func (u *UI) fitColumns() {
	headers := []string{"Tensor", "Shape", "Type", "Bytes", "Role"}
	pad := 2*theme.InnerPadding() + theme.Padding() // a label's insets and the line between cells
	var w [5]float32
	for c := range headers {
		w[c] = textWidth(headers[c], true)
		for _, r := range u.rows {
			w[c] = max(w[c], textWidth(r[c], false))
		}
	}
	others := w[1] + w[2] + w[3] + w[4] + 5*pad
	w[0] = min(w[0], maxNameWidth, max(minNameWidth, listWidth-others))
	u.nameWidth = w[0]
	for c := range w {
		u.tensors.SetColumnWidth(c, w[c]+pad)
	}
}

func textWidth(s string, bold bool) float32 {
	return fyne.MeasureText(s, theme.TextSize(), fyne.TextStyle{Bold: bold}).Width
}

// shortcuts are the platform's: Ctrl+O open, Ctrl+S save, Ctrl+E export,
// Ctrl+Q quit (Cmd on macOS).
func (u *UI) shortcuts() {
	c := u.Window.Canvas()
	add := func(key fyne.KeyName, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { fn() })
	}
	add(fyne.KeyO, func() { u.openDialog(u.Open) })
	add(fyne.KeyS, u.saveDialog)
	add(fyne.KeyE, u.exportDialog)
	add(fyne.KeyQ, u.App.Quit)
}

// beside starts a file dialog in the open file's folder.
func (u *UI) beside(d *dialog.FileDialog) {
	if u.path == "" {
		return
	}
	if l, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(u.path))); err == nil {
		d.SetLocation(l)
	}
}
