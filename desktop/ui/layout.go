package ui

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
)

// Column widths of the tensor list: each fits its widest cell, the name
// column at most maxNameWidth (longer names end in an ellipsis and show
// whole when their row is selected).
const maxNameWidth = 260

func (u *UI) fitColumns() {
	headers := []string{"Tensor", "Shape", "Type", "Bytes", "Role"}
	pad := 2*theme.Padding() + 4*theme.InnerPadding()
	for c := range headers {
		w := textWidth(headers[c], true)
		for _, r := range u.rows {
			w = max(w, textWidth(r[c], false))
		}
		if c == 0 {
			w = min(w, maxNameWidth)
		}
		u.tensors.SetColumnWidth(c, w+pad)
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
