// Command shark-desktop is shark's desktop app for analysts: open a model
// file (menu, drop on the window, or a path on the command line), see its
// tensors and tables, choose a budget, compress, save and export; with a
// data file, run the SHARK pipeline. The window is built by package ui.
package main

import (
	"os"

	"fyne.io/fyne/v2/app"

	"shark/desktop/ui"
)

func main() {
	a := app.NewWithID("dev.shark.desktop")
	u := ui.New(a)
	if len(os.Args) > 1 {
		u.Open(os.Args[1])
	}
	if len(os.Args) > 2 {
		u.OpenData(os.Args[2])
	}
	u.Window.ShowAndRun()
}
