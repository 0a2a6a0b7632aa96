package compress

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"shark/core"
	"shark/formats/sharkfile"
)

// An Encoder encodes rows [lo, hi) of a table of the same input elsewhere,
// row lo+i in tiers[i], and returns them as a part of the table
// (EncodeRange is the other side). progress is told the rows done within
// the range. The page gives one for each of its other Web Workers, so that
// writing, like measuring, uses every core the browser has.
type Encoder func(ctx context.Context, table string, lo, hi int, tiers []core.Tier, progress func(done int)) (sharkfile.RowsPart, error)

// EncodeRange is an Encoder's work: rows [lo, lo+len(tiers)) of the table
// encoded as Write encodes them, each tier's rows written to out[t].
func EncodeRange(in *Input, env Env, table string, lo int, tiers []core.Tier, out [core.NumTiers]io.Writer, progress func(done int)) error {
	t, err := in.File.Tensor(table)
	if err != nil {
		return err
	}
	rows, err := Rows(in.File, t)
	if err != nil {
		return err
	}
	return sharkfile.EncodePart(rows, lo, tiers, out, func(d int) error {
		if progress != nil {
			progress(d)
		}
		return env.err()
	})
}

// inParts says whether a table is written in parts, a range of rows
// encoded by each encoder at once: only when the errors are measured
// already (else the writer measures them as it reads the rows in order)
// and the table is large enough to pay for the encoders' start.
func (p *Plan) inParts(tp *TablePlan) bool {
	// Block tiers' rows need their blocks' parameters, which a part does not
	// have: such tables are encoded here.
	return len(p.env.Encoders) > 0 && p.errorsMeasured && tp.Rows.Rows() >= helpedRows && !p.blockTiers()
}

// partResult is an encoder's answer.
type partResult struct {
	part sharkfile.RowsPart
	err  error
}

// writeParts writes a table as len(Encoders)+1 even ranges of rows, the
// first encoded here and the others by the encoders at the same time,
// joined in row order: the bytes of the table written here alone.
func (p *Plan) writeParts(sw *sharkfile.Writer, name string, tp *TablePlan, info sharkfile.TableInfo, progress func(int)) error {
	n, k := tp.Rows.Rows(), len(p.env.Encoders)+1
	ctx, cancel := context.WithCancel(cmp.Or(p.env.Context, context.Background()))
	defer cancel()
	cut := func(i int) int { return int(int64(n) * int64(i) / int64(k)) }
	done := make([]atomic.Int64, k) // rows encoded in each range, told as one progress
	report := func() {
		var sum int64
		for i := range done {
			sum += done[i].Load()
		}
		progress(int(sum))
	}
	results := make([]chan partResult, k)
	for i, enc := range p.env.Encoders {
		r := i + 1
		lo, hi := cut(r), cut(r+1)
		tiers, err := tp.codes.get(lo, hi, nil)
		if err != nil {
			return err
		}
		results[r] = make(chan partResult, 1)
		go func() {
			part, err := enc(ctx, tp.Source.Name, lo, hi, tiers, func(d int) { done[r].Store(int64(d)) })
			results[r] <- partResult{part, err}
		}()
	}
	parts := make([]sharkfile.RowsPart, k)
	var err error
	if parts[0], err = p.encodeHere(tp, 0, cut(1), func(d int) { done[0].Store(int64(d)); report() }); err != nil {
		return err
	}
	for r := 1; r < k; r++ {
		if parts[r], err = p.takePart(ctx, tp, cut(r), cut(r+1), results[r], report, func(d int) { done[r].Store(int64(d)); report() }); err != nil {
			return err
		}
	}
	return sw.WriteTableParts(name, n, tp.Rows.Dim(), tp, info, parts)
}

// takePart waits for an encoder's part of rows [lo, hi), telling the
// progress meanwhile; an encoder that failed (a Worker the browser
// stopped, say) costs time, not the job: its rows are encoded here.
func (p *Plan) takePart(ctx context.Context, tp *TablePlan, lo, hi int, result chan partResult, report func(), progress func(int)) (sharkfile.RowsPart, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var res partResult
wait:
	for {
		select {
		case res = <-result:
			break wait
		case <-tick.C:
			report()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if res.err == nil {
		return res.part, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if p.env.Warn != nil {
		p.env.Warn(fmt.Sprintf("table %q: rows %d..%d were encoded here, as a helper could not: %v", tp.Name, lo, hi, res.err))
	}
	return p.encodeHere(tp, lo, hi, progress)
}

// PartBuffer holds the part of a table encoded here until it is written:
// its tiers' writers, and the part they fill.
type PartBuffer interface {
	sharkfile.RowsPart
	Writers() [core.NumTiers]io.Writer
}

// encodeHere encodes rows [lo, hi) of the table into a buffer of
// env.PartBuffer's, or memory.
func (p *Plan) encodeHere(tp *TablePlan, lo, hi int, progress func(int)) (sharkfile.RowsPart, error) {
	tiers, err := tp.codes.get(lo, hi, nil)
	if err != nil {
		return nil, err
	}
	var part PartBuffer
	if p.env.PartBuffer != nil {
		part = p.env.PartBuffer()
	} else {
		mem := new(sharkfile.BufferedPart)
		dim := tp.Rows.Dim()
		for t, c := range core.Counts(tiers) {
			mem[t].Grow(c * core.Tier(t).RowBytes(dim)) // once: doubling would copy, and leave garbage
		}
		part = mem
	}
	err = sharkfile.EncodePart(tp.Rows, lo, tiers, part.Writers(), func(d int) error {
		progress(d)
		return p.env.err()
	})
	return part, err
}
