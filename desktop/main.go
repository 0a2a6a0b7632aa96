// Command shark-desktop is shark's desktop app for analysts: open a model
// file (menu, drop on the window, or a path on the command line), see its
// tensors and tables, choose a budget, compress, save and export; with a
// data file, run the SHARK pipeline. The window is built by package ui.
package main

import (
	"fmt"
	"image/png"
	"os"
	"time"

	"fyne.io/fyne/v2"
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
	// SHARK_DESKTOP_SCREENSHOT=path: once the window has drawn, save what it
	// shows as a PNG and quit (the smoke test of the real window uses it).
	if out := os.Getenv("SHARK_DESKTOP_SCREENSHOT"); out != "" {
		go func() {
			time.Sleep(4 * time.Second)
			fyne.Do(func() {
				img := u.Window.Canvas().Capture()
				f, err := os.Create(out)
				if err == nil {
					err = png.Encode(f, img)
					f.Close()
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "screenshot:", err)
				}
				a.Quit()
			})
		}()
	}
	u.Window.ShowAndRun()
}
