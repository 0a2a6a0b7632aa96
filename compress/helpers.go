package compress

import (
	"cmp"
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"shark/core"
)

// A Helper measures rows [lo, hi) of a table of the same input elsewhere,
// with the same settings and counts, and returns what Measure would emit
// for those rows, in order (MeasureRange is the other side). progress is
// told the rows done within the range. The page gives one for each of its
// other Web Workers, so that measuring uses every core the browser has.
type Helper func(ctx context.Context, table string, lo, hi int, progress func(done int)) ([]core.RowStat, error)

// helpedRows is the fewest rows a table needs before its measuring is
// shared: below it the helpers' start-up costs more than they save.
var helpedRows = 1 << 16

// measureRows measures a table's rows in order: alone, or with the first
// of len(Helpers)+1 even ranges here and the others by the helpers at the
// same time. Each row's stats depend on the row alone (and its priority),
// so the plan is the same either way.
func (p *Plan) measureRows(table string, rows core.RowSource, prio core.PriorityFunc, emit func(int, core.RowStat) error, progress func(int)) error {
	n, k := rows.Rows(), len(p.env.Helpers)+1
	if k == 1 || n < helpedRows {
		return p.measureOf()(rows, prio, emit, progress)
	}
	ctx, cancel := context.WithCancel(cmp.Or(p.env.Context, context.Background()))
	defer cancel()
	cut := func(i int) int {
		if i == k {
			return n
		}
		return p.blockAligned(int(int64(n) * int64(i) / int64(k)))
	}
	done := make([]atomic.Int64, k) // rows measured in each range, told as one progress
	report := func() {
		var sum int64
		for i := range done {
			sum += done[i].Load()
		}
		progress(int(sum))
	}
	type result struct {
		stats []core.RowStat
		err   error
	}
	results := make([]chan result, k)
	for i, h := range p.env.Helpers {
		r := i + 1
		results[r] = make(chan result, 1)
		go func() {
			stats, err := h(ctx, table, cut(r), cut(r+1), func(d int) { done[r].Store(int64(d)) })
			if err == nil && len(stats) != cut(r+1)-cut(r) {
				err = fmt.Errorf("a helper measured %d rows of %d..%d", len(stats), cut(r), cut(r+1))
			}
			results[r] <- result{stats, err}
		}()
	}
	first := core.Range(rows, 0, cut(1))
	if err := p.measureOf()(first, prio, emit, func(d int) { done[0].Store(int64(d)); report() }); err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond) // the helpers' progress, while waiting for them
	defer tick.Stop()
	for r := 1; r < k; r++ {
		var res result
	wait:
		for {
			select {
			case res = <-results[r]:
				break wait
			case <-tick.C:
				report()
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lo, hi := cut(r), cut(r+1)
		if res.err != nil {
			// A helper that failed (a Worker the browser stopped, say)
			// costs time, not the job: its rows are measured here.
			p.warn(fmt.Sprintf("table %q: rows %d..%d were measured here, as a helper could not: %v", table, lo, hi, res.err))
			res.stats = nil
		}
		if err := p.takeRange(rows, prio, lo, hi, res.stats, emit, func(d int) { done[r].Store(int64(d)); report() }); err != nil {
			return err
		}
	}
	return nil
}

// takeRange emits rows [lo, hi)'s stats: those a helper measured, or,
// when stats is nil, those measured here.
func (p *Plan) takeRange(rows core.RowSource, prio core.PriorityFunc, lo, hi int, stats []core.RowStat, emit func(int, core.RowStat) error, progress func(int)) error {
	at := func(i int, s core.RowStat) error { return emit(lo+i, s) }
	if stats == nil {
		return p.measureOf()(core.Range(rows, lo, hi), shifted(prio, lo), at, progress)
	}
	for i, s := range stats {
		if err := at(i, s); err != nil {
			return err
		}
	}
	return nil
}

// shifted is prio for the rows from lo on, numbered from 0.
func shifted(prio core.PriorityFunc, lo int) core.PriorityFunc {
	if prio == nil {
		return nil
	}
	return func(a, b int, dst []float64) error { return prio(lo+a, lo+b, dst) }
}

// measureOf is the measurement the plan's settings need.
func (p *Plan) measureOf() func(core.RowSource, core.PriorityFunc, func(int, core.RowStat) error, func(int)) error {
	if p.errorsMeasured {
		m := p.measured
		return func(src core.RowSource, prio core.PriorityFunc, emit func(int, core.RowStat) error, progress func(int)) error {
			return core.MeasureStatsWith(src, prio, m, emit, progress)
		}
	}
	return core.MeasurePriorities
}

// blockAligned rounds a row down to a block's first row when the plan
// measures block tiers: a range measured apart holds whole blocks.
func (p *Plan) blockAligned(r int) int {
	if !p.blockTiers() {
		return r
	}
	b := p.storage().BlockRows()
	return r / b * b
}

// MeasureRange is a Helper's work: rows [lo, hi) of the table measured as
// Measure measures them, with the priorities of those rows.
func MeasureRange(in *Input, s Settings, env Env, table string, lo, hi int, progress func(done int)) ([]core.RowStat, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t, err := in.File.Tensor(table)
	if err != nil {
		return nil, err
	}
	rows, err := Rows(in.File, t)
	if err != nil {
		return nil, err
	}
	if lo < 0 || hi > rows.Rows() || lo > hi {
		return nil, fmt.Errorf("%w: rows %d..%d of a table of %d", core.ErrInvalid, lo, hi, rows.Rows())
	}
	env.Helpers = nil
	p := &Plan{In: in, Settings: s, env: env, errorsMeasured: s.Rule(0).By == core.ByBudget, measured: s.measure()}
	if p.errorsMeasured && p.blockAligned(lo) != lo {
		return nil, fmt.Errorf("%w: rows %d..%d do not start a block of %d rows", core.ErrInvalid, lo, hi, p.storage().BlockRows())
	}
	var prio core.PriorityFunc
	if env.Counts != nil {
		pst, cleanup, err := p.countsPriorities(t, false)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		prio = shifted(pst.read, lo)
	}
	out := make([]core.RowStat, 0, hi-lo)
	emit := func(_ int, st core.RowStat) error {
		if err := env.err(); err != nil {
			return err
		}
		out = append(out, st)
		return nil
	}
	return out, p.measureOf()(core.Range(rows, lo, hi), prio, emit, progress)
}
