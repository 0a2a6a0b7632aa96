package pipelines

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"shark/core"
)

// Fixed fractions of a table held as row shards. shark quantize ranks the
// rows of the whole table (core.RankKey, highest first, ties by row id)
// and gives the first round(cum_t * rows) of them tier t or better, for
// fp32, fp16 and int8. A boundary is a key K and a count m: every row of a
// key above K, and the first m rows of key K in row order, are inside it.
// Two passes find the boundaries: a histogram of the keys' high 16 bits
// (added across shards, 64 Ki counts at most), then, in the high bin of
// each boundary, each shard's histogram of the low 16 bits and its count
// of rows above the bin. Inside a shard the rows a boundary holds are then
// the first of its own ranking (all of a key above K, then those of key K
// in row order), so each shard is given fixed fractions of its own rows,
// exactly the counts the boundaries hold there, and ranks as shark
// quantize does. What crosses: the histograms' non-empty bins.

// sparseHist is a histogram's non-empty bins, ascending.
type sparseHist struct {
	Bins   []uint32 `json:"b"`
	Counts []int64  `json:"c"`
}

func (h sparseHist) add(o sparseHist) sparseHist {
	m := map[uint32]int64{}
	for i, b := range h.Bins {
		m[b] += h.Counts[i]
	}
	for i, b := range o.Bins {
		m[b] += o.Counts[i]
	}
	return sparseOf(m)
}

func sparseOf(m map[uint32]int64) sparseHist {
	var h sparseHist
	for b := range m {
		h.Bins = append(h.Bins, b)
	}
	sort.Slice(h.Bins, func(i, j int) bool { return h.Bins[i] < h.Bins[j] })
	for _, b := range h.Bins {
		h.Counts = append(h.Counts, m[b])
	}
	return h
}

// shardLow is one shard's second pass: for each boundary, its rows above
// the boundary's high bin and the histogram of the low bits in it.
type shardLow struct {
	Index int           `json:"i"`
	Above [3]int64      `json:"a"`
	Low   [3]sparseHist `json:"l"`
}

func init() {
	register.DoFn3x1[context.Context, ShardSpec, func(Travelling), error](&highHistFn{})
	register.Function2x1(addHists)
	register.DoFn3x1[context.Context, ShardSpec, func(Travelling), error](&lowHistFn{})
	register.DoFn3x1[context.Context, int, func(*Travelling) bool, error](&collectFn{})
	register.Iter1[Travelling]()
}

// keys calls fn with the rank key of every row of the shard's table.
func (j ShardJob) keys(spec ShardSpec, fn func(key uint32)) error {
	p, _, done, err := j.measure(spec)
	if err != nil {
		return err
	}
	defer done()
	defer p.Close()
	err = p.Tables[0].Stats.Scan(func(_ int, s *core.RowStat) { fn(core.RankKey(s.P)) })
	if err != nil {
		return fmt.Errorf("shard %s: %w", spec.Path, err)
	}
	return nil
}

// highHistFn counts a shard's keys by their high 16 bits.
type highHistFn struct{ Job ShardJob }

func (f *highHistFn) ProcessElement(ctx context.Context, spec ShardSpec, emit func(Travelling)) error {
	m := map[uint32]int64{}
	if err := f.Job.keys(spec, func(k uint32) { m[k>>16]++ }); err != nil {
		return err
	}
	return emitJSON(sparseOf(m), emit)
}

func emitJSON(v any, emit func(Travelling)) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	emit(Travelling{JSON: b, Bytes: int64(len(b))})
	return nil
}

// addHists adds two shards' histograms.
func addHists(a, b Travelling) Travelling {
	var x, y sparseHist
	if json.Unmarshal(a.JSON, &x) != nil || json.Unmarshal(b.JSON, &y) != nil {
		panic("a histogram that does not decode") // both made by highHistFn
	}
	out, _ := json.Marshal(x.add(y))
	return Travelling{JSON: out, Bytes: a.Bytes + b.Bytes}
}

// lowHistFn makes a shard's shardLow for boundaries in the high bins High
// (Need says which boundaries need one).
type lowHistFn struct {
	Job  ShardJob
	High [3]uint32
	Need [3]bool
}

func (f *lowHistFn) ProcessElement(ctx context.Context, spec ShardSpec, emit func(Travelling)) error {
	out := shardLow{Index: spec.Index}
	var low [3]map[uint32]int64
	for t := range low {
		low[t] = map[uint32]int64{}
	}
	err := f.Job.keys(spec, func(k uint32) {
		for t, h := range f.High {
			switch {
			case !f.Need[t]:
			case k>>16 > h:
				out.Above[t]++
			case k>>16 == h:
				low[t][k&0xffff]++
			}
		}
	})
	if err != nil {
		return err
	}
	for t := range low {
		out.Low[t] = sparseOf(low[t])
	}
	return emitJSON(out, emit)
}

// collectFn writes every element for the driver, as a JSON list.
type collectFn struct{ Out string }

func (f *collectFn) ProcessElement(ctx context.Context, _ int, elems func(*Travelling) bool) error {
	var all []Travelling
	var t Travelling
	for elems(&t) {
		all = append(all, t)
	}
	return writeFile(ctx, f.Out, func(w io.Writer) error { return json.NewEncoder(w).Encode(all) })
}

// boundaryRows is how many rows of the ranking of n each boundary holds:
// for fp32, fp16 and int8, round(cum * n) as core's fixed fractions cut it.
func boundaryRows(n int64, f [core.NumTiers]float64) [3]int64 {
	var need [3]int64
	cum := 0.0
	for t := range need {
		cum += f[t]
		need[t] = min(n, int64(math.Round(cum*float64(n))))
	}
	return need
}

// descend walks h's bins from the highest key down and returns the bin in
// which the need-th row falls and the rows in the bins above it.
func descend(h sparseHist, need int64) (bin uint32, above int64) {
	for i := len(h.Bins) - 1; i >= 0; i-- {
		if above+h.Counts[i] >= need {
			return h.Bins[i], above
		}
		above += h.Counts[i]
	}
	return 0, above // need exceeds the rows: the caller does not ask
}

// cutFractions runs the two passes and returns each shard's fractions of
// its own rows.
func cutFractions(ctx context.Context, o QuantizeOptions, job ShardJob, specs []ShardSpec, f [core.NumTiers]float64, res *QuantizeResult, run func(context.Context, *beam.Pipeline) error) ([][]float64, error) {
	n := int64(job.TotalRows)
	need := boundaryRows(n, f)
	var high sparseHist
	var ask [3]bool
	for t := range need {
		ask[t] = need[t] > 0 && need[t] < n // none and all need no search
	}
	if ask != [3]bool{} {
		hist, err := highPass(ctx, o, job, specs, res, run)
		if err != nil {
			return nil, err
		}
		high = hist
	}
	var bins [3]uint32
	var above [3]int64
	for t := range need {
		if ask[t] {
			bins[t], above[t] = descend(high, need[t])
		}
	}
	lows := make([]shardLow, len(specs))
	if ask != [3]bool{} {
		var err error
		if lows, err = lowPass(ctx, o, &lowHistFn{Job: job, High: bins, Need: ask}, specs, res, run); err != nil {
			return nil, err
		}
	}
	inside := shardCounts(specs, need, ask, above, lows)
	return shardFractions(specs, inside), nil
}

// highPass runs the first pass and reads the histogram.
func highPass(ctx context.Context, o QuantizeOptions, job ShardJob, specs []ShardSpec, res *QuantizeResult, run func(context.Context, *beam.Pipeline) error) (sparseHist, error) {
	out := path.Join(o.Work, "rank-high.json")
	p, s := beam.NewPipelineWithRoot()
	shards := beam.Reshuffle(s, beam.CreateList(s, specs))
	hists := beam.ParDo(s, &highHistFn{Job: job}, shards)
	beam.ParDo0(s, &writeBytesFn{Out: out}, beam.Combine(s, addHists, hists))
	var h sparseHist
	if err := run(ctx, p); err != nil {
		return h, err
	}
	var t Travelling
	if err := readJSON(ctx, out, &t); err != nil {
		return h, err
	}
	res.Passes++
	res.SummaryByte += t.Bytes
	return h, json.Unmarshal(t.JSON, &h)
}

// lowPass runs the second pass and reads every shard's shardLow.
func lowPass(ctx context.Context, o QuantizeOptions, fn *lowHistFn, specs []ShardSpec, res *QuantizeResult, run func(context.Context, *beam.Pipeline) error) ([]shardLow, error) {
	out := path.Join(o.Work, "rank-low.json")
	p, s := beam.NewPipelineWithRoot()
	shards := beam.Reshuffle(s, beam.CreateList(s, specs))
	lows := beam.ParDo(s, fn, shards)
	beam.ParDo0(s, &collectFn{Out: out}, beam.GroupByKey(s, beam.AddFixedKey(s, lows)))
	if err := run(ctx, p); err != nil {
		return nil, err
	}
	var all []Travelling
	if err := readJSON(ctx, out, &all); err != nil {
		return nil, err
	}
	if len(all) != len(specs) {
		return nil, fmt.Errorf("%d shards ranked of %d", len(all), len(specs))
	}
	byIndex := make([]shardLow, len(specs))
	for _, t := range all {
		var l shardLow
		if err := json.Unmarshal(t.JSON, &l); err != nil || l.Index < 0 || l.Index >= len(specs) {
			return nil, fmt.Errorf("a shard's ranking that does not decode: %v", err)
		}
		byIndex[l.Index] = l
		res.SummaryByte += t.Bytes
	}
	res.Passes++
	return byIndex, nil
}

// shardCounts is, for each shard, how many of its rows each boundary
// holds: those of keys above its key K, then the first of key K in row
// order, shard after shard, until the boundary's count is reached.
func shardCounts(specs []ShardSpec, need [3]int64, ask [3]bool, above [3]int64, lows []shardLow) [][3]int64 {
	inside := make([][3]int64, len(specs))
	for t := range need {
		if !ask[t] { // none, or every row
			for i, sp := range specs {
				inside[i][t] = min(need[t], int64(sp.Rows))
			}
			continue
		}
		sum := sparseHist{}
		for _, l := range lows {
			sum = sum.add(l.Low[t])
		}
		low, aboveK := descend(sum, need[t]-above[t])
		left := need[t] - above[t] - aboveK // rows of key K inside, in row order
		for i, l := range lows {
			c := l.Above[t]
			for j, b := range l.Low[t].Bins {
				switch {
				case b > low:
					c += l.Low[t].Counts[j]
				case b == low:
					take := min(left, l.Low[t].Counts[j])
					c, left = c+take, left-take
				}
			}
			inside[i][t] = c
		}
	}
	return inside
}

// shardFractions turns each shard's boundary counts into the fixed
// fractions of its own rows that cut its ranking at those counts:
// round(cum * rows) gives the counts back exactly. The tiers after int4
// take no fixed fraction.
func shardFractions(specs []ShardSpec, inside [][3]int64) [][]float64 {
	out := make([][]float64, len(specs))
	for i, sp := range specs {
		n := float64(sp.Rows)
		prev := int64(0)
		f := make([]float64, core.NumTiers)
		for t, c := range inside[i] {
			f[t] = float64(c-prev) / n
			prev = c
		}
		f[core.INT4] = float64(int64(sp.Rows)-prev) / n // the rest: fixed fractions end at int4
		out[i] = f
	}
	return out
}
