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
// path, through a temporary file renamed into place when fn succeeds, so
// that a failed job leaves nothing under the name.
func writeFile(ctx context.Context, path string, fn func(w io.Writer) error) error {
	w, err := create(ctx, path)
	if err != nil {
		return err
	}
	var target io.Writer = w
	if p, ok := w.(*placed); ok {
		target = p.f // a file, which writers can seek in (a .shark is written in one pass then)
	}
	if err := fn(target); err != nil {
		if p, ok := w.(*placed); ok {
			p.f.Close()
			os.Remove(p.f.Name())
		}
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return w.Close()
}

func create(ctx context.Context, path string) (io.WriteCloser, error) {
	if !strings.Contains(path, "://") {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
		if err != nil {
			return nil, err
		}
		return &placed{f: f, to: path}, nil
	}
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	return fs.OpenWrite(ctx, path)
}

type placed struct {
	f  *os.File
	to string
}

func (p *placed) Write(b []byte) (int, error) { return p.f.Write(b) }

func (p *placed) Close() error {
	if err := p.f.Close(); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	if err := os.Rename(p.f.Name(), p.to); err != nil {
		os.Remove(p.f.Name())
		return err
	}
	return nil
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
