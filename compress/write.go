package compress

import (
	"context"
	"fmt"
	"io"

	"shark/core"
	"shark/formats"
	"shark/formats/sharkfile"
	"shark/internal/atomicfile"
	"shark/internal/provenance"
)

// Method is what the written file records of how its tables were compressed.
func (p *Plan) Method() sharkfile.Method {
	src := ""
	if len(p.Tables) > 0 {
		src = p.Tables[0].PrioritySource
	}
	return sharkfile.NewMethod(p.Settings.Priority(), p.rule(), src)
}

// Write streams the container: tensors in input order, tables compressed,
// everything else bit for bit. To a file (an io.WriterAt that seeks) each
// table takes one pass over its rows. Two writes of one plan give the same
// bytes, and so do two plans of the same input and settings.
func (p *Plan) Write(w io.Writer) error {
	if !p.assigned {
		return errUnassigned
	}
	if p.env.Context != nil {
		w = withContext(p.env.Context, w)
	}
	major := sharkfile.MajorNarrow
	if p.wide() {
		major = sharkfile.Major // declared from the start, as a stream cannot be rewritten
	}
	sw, err := sharkfile.NewWriterVersion(w, major)
	if err != nil {
		return err
	}
	sw.SetMethod(p.Method())
	sw.SetProvenance(provenance.Record(provenance.Origin{Step: "quantize", Input: p.In.Name, Created: p.Settings.Created}))
	byName := map[string]*TablePlan{}
	var total, done int64
	renamed := false
	for _, t := range p.Tables {
		byName[t.Name] = t
		total += int64(t.Rows.Rows())
		renamed = renamed || t.OutName != ""
	}
	if !p.TablesOnly && !renamed {
		// The source's nesting (a checkpoint's dicts and scalars), for an
		// export to write back; a file of some tensors alone has none.
		sw.SetStructure(p.In.File.Structure)
	}
	for _, t := range p.In.File.Tensors {
		if t.SameAs != "" {
			if err := p.writeAlias(sw, t); err != nil {
				return err
			}
			continue
		}
		tp, ok := byName[t.Name]
		if !ok {
			if p.TablesOnly {
				continue
			}
			if err := writeDense(sw, t); err != nil {
				return err
			}
			continue
		}
		name := t.Name
		if tp.OutName != "" {
			name = tp.OutName
		}
		var src core.RowSource = tp.Rows
		if !p.errorsMeasured {
			src = newWrittenErrors(tp)
		}
		s := tp.Summary
		stats := &sharkfile.Stats{RMSE: s.RMSE, MaxAbsErr: s.MaxAbsErr, WeightedErr: s.WeightedErr, BytesBefore: s.BytesBefore}
		info := sharkfile.TableInfo{SourceDType: t.DType, Stats: stats, Block: p.Settings.Block}
		base := done
		progress := func(n int) { p.env.progress("write", base+int64(n), total) }
		if p.inParts(tp) {
			err = p.writeParts(sw, name, tp, info, progress)
		} else {
			err = sw.WriteTableFrom(name, src, tp, info, progress)
		}
		if err != nil {
			return err
		}
		if !p.errorsMeasured {
			if err := unwrapWritten(src).finish(); err != nil {
				return err
			}
			s = tp.Summary
			stats.RMSE, stats.MaxAbsErr, stats.WeightedErr = s.RMSE, s.MaxAbsErr, s.WeightedErr // the header is written last
		}
		done += int64(tp.Rows.Rows())
	}
	return sw.Close()
}

// wide reports whether some table's rows take a tier after int4, which a
// .shark file holds from container version 2 on.
func (p *Plan) wide() bool {
	for _, t := range p.Tables {
		for tr := core.Tier(core.DefaultTiers); tr < core.NumTiers; tr++ {
			if t.Summary.Tiers[tr] > 0 {
				return true
			}
		}
	}
	return false
}

// writeDense copies a tensor's bytes as they are.
func writeDense(sw *sharkfile.Writer, t *formats.Tensor) error {
	rc, err := t.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := sw.WriteDense(t.Name, t.DType, t.Shape, rc); err != nil {
		return err
	}
	if t.OptimizerState {
		return sw.SetExtra(t.Name, sharkfile.ExtraRole, sharkfile.RoleOptimizerState)
	}
	return nil
}

// WriteFile writes the container to path through a temporary file renamed
// into place when complete; path must not be the plan's input or one of
// inputs (its counts, say).
func (p *Plan) WriteFile(path string, inputs ...string) error {
	af, err := atomicfile.Create(path, append(inputs, p.In.Path)...)
	if err != nil {
		return err
	}
	if err := p.Write(af); err != nil {
		af.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return af.Commit()
}

// withContext makes w fail once ctx is done, keeping the WriteAt and Seek
// of a file, which the container's writer needs to take one pass.
func withContext(ctx context.Context, w io.Writer) io.Writer {
	c := ctxWriter{ctx, w}
	if f, ok := w.(interface {
		io.WriterAt
		io.Seeker
	}); ok {
		return ctxFile{c, f}
	}
	return c
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

type ctxFile struct {
	ctxWriter
	f interface {
		io.WriterAt
		io.Seeker
	}
}

func (c ctxFile) WriteAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.f.WriteAt(p, off)
}

func (c ctxFile) Seek(off int64, whence int) (int64, error) { return c.f.Seek(off, whence) }
