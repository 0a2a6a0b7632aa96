package pipelines

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // paths on this machine; a team registers gs:// or s3://

	"shark/ctr/modelfile"
	"shark/internal/atomicfile"
)

// Expand lists the files each pattern names, in order, each pattern's in
// name order: a glob expands, a plain path stands for itself.
func Expand(ctx context.Context, patterns ...string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		fs, err := filesystem.New(ctx, p)
		if err != nil {
			return nil, err
		}
		names, err := fs.List(ctx, p)
		fs.Close()
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", p, err)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s: no such file", p)
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out, nil
}

// open opens a file through Beam's filesystem.
func open(ctx context.Context, path string) (io.ReadCloser, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	rc, err := fs.OpenRead(ctx, path)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return closeBoth{rc, fs}, nil
}

type closeBoth struct {
	io.ReadCloser
	fs io.Closer
}

func (c closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.fs.Close()
	return err
}

// writeFile writes a file with fn through Beam's filesystem; on a local
// path, as the CLI writes its outputs (internal/atomicfile): a temporary
// file with no name, placed under its name when fn succeeds, so that a
// failed or killed worker leaves nothing under the name, with the mode
// any program's new file gets (0666 less the umask: 0644 as a rule) or
// that of the file it replaces, so that other workers and a serving user
// can read it.
func writeFile(ctx context.Context, path string, fn func(w io.Writer) error) error {
	if strings.Contains(path, "://") {
		return writeRemote(ctx, path, fn)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := atomicfile.Create(path)
	if err != nil {
		return err
	}
	// A file, which writers can seek in (a .shark is written in one pass then).
	if err := fn(f.File); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// writeRemote writes a file through Beam's filesystem (an object store
// shows an object whole once it is closed).
func writeRemote(ctx context.Context, path string, fn func(w io.Writer) error) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, path)
	if err != nil {
		return err
	}
	if err := fn(w); err != nil {
		w.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return w.Close()
}

// loadModel opens a model made by shark train: on a local path as it is,
// from elsewhere copied to a temporary file first (a model is small next
// to its data).
func loadModel(ctx context.Context, path string) (*modelfile.Loaded, error) {
	if !strings.Contains(path, "://") {
		return modelfile.Load(path, false)
	}
	rc, err := open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "shark-model-*.shark")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	return modelfile.Load(f.Name(), false)
}
