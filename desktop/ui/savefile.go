package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage/repository"

	"shark/internal/atomicfile"
)

// Fyne's save dialog (2.7.1, dialog/file.go, the Save button's handler)
// opens the chosen file with storage.Writer, which truncates it, as soon as
// the user confirms, before the app's callback can check the name: saving
// onto the input emptied it even though the save was then refused. The app
// needs only the name from the dialog: it writes through atomicfile, which
// refuses an input first and replaces a file only by a rename once the new
// one is whole. So the "file" scheme is served by nameOnlyRepo, which
// leaves every operation to Fyne's own repository except Writer: its
// writers touch nothing on disk until written to, and then write through
// atomicfile. The dialog's browsing (favourites, places, the parent
// folders) is all file:// URIs, so every way through it lands here.

// fileRepo is what Fyne's file repository offers, all of which the
// wrapper passes on.
type fileRepo interface {
	repository.AppendableRepository
	repository.ListableRepository
	repository.HierarchicalRepository
	repository.DeleteAllRepository
	repository.CopyableRepository
	repository.MovableRepository
}

// ErrUnsafeDialog: the platform's file repository is not Fyne's own, so
// its save dialog could open a chosen file for writing; saving is refused.
var ErrUnsafeDialog = errors.New("the file dialog of this platform would open the chosen file for writing before shark checks it")

// nameOnlyRepo is Fyne's file repository with writers that change nothing
// until written to.
type nameOnlyRepo struct{ fileRepo }

// guardFileScheme puts nameOnlyRepo in front of the "file" scheme; the
// app's driver registers Fyne's own when it starts, so New calls this.
func guardFileScheme() error {
	base, err := repository.ForScheme("file")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsafeDialog, err)
	}
	switch r := base.(type) {
	case *nameOnlyRepo:
		return nil
	case fileRepo:
		repository.Register("file", &nameOnlyRepo{r})
		return nil
	}
	return fmt.Errorf("%w (%T)", ErrUnsafeDialog, base)
}

// Writer returns a writer that opens nothing: the first Write starts an
// atomicfile beside the file, Close puts it in place, and a writer closed
// unwritten (all the save dialog's callback does) leaves the disk as it was.
func (r *nameOnlyRepo) Writer(u fyne.URI) (fyne.URIWriteCloser, error) {
	return &lateWriter{uri: u}, nil
}

// lateWriter writes its URI whole or not at all, and only if written to.
type lateWriter struct {
	uri fyne.URI
	f   *atomicfile.File
	err error // the first failed write: Close then discards the file
}

func (w *lateWriter) URI() fyne.URI { return w.uri }

func (w *lateWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.f == nil {
		if w.f, w.err = atomicfile.Create(w.uri.Path()); w.err != nil {
			return 0, w.err
		}
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close places what was written, or discards it after a failed write.
func (w *lateWriter) Close() error {
	switch {
	case w.f == nil:
		return w.err
	case w.err != nil:
		w.f.Abort()
		return w.err
	}
	return w.f.Commit()
}
