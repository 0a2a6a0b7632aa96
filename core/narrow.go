package core

import (
	"cmp"
	"math"
	"slices"
)

// The solver's searches are narrowed by histograms: one scan bins, by log10
// of the multiplier (or of the gain), how the stored size changes, and the
// bins where the estimated size crosses the budget bound the search. The
// estimate counts row bytes and takes the tables' other bytes (index,
// padding) as fixed but for the padding's slack.

// narrowBins is the resolution of the histograms.
const narrowBins = 1 << 16

// narrowLambda estimates, in one scan, where in [10^llo, 10^lhi] the stored
// size falls to the budget: each row's tier at 10^llo, and the multipliers
// at which it moves to a smaller tier (the breaks of the lower envelope of
// its cost lines, ties to the smaller row as in choose), binned by log10.
// It returns the bins where the estimate crosses the budget, widened by a
// bin on each side; the caller checks them.
func (s *solver) narrowLambda(llo, lhi float64) (float64, float64, error) {
	type acc struct {
		counts [NumTiers]int64
		rows   int64
		hist   []int64
	}
	hist := make([]int64, narrowBins)
	width := (lhi - llo) / narrowBins
	var rows, fixed int64
	for _, tb := range s.tables {
		var rb [NumTiers]int64
		for t := range rb {
			rb[t] = int64(Tier(t).RowBytes(tb.Dim))
		}
		lo, hi := math.Pow(10, llo), math.Pow(10, lhi)
		accs, err := scanAll(tb.Stats, func() *acc { return &acc{hist: make([]int64, narrowBins)} }, func(a *acc, _ int, rs *RowStat) {
			cur := s.d.choose(tb.Dim, rs, lo)
			a.counts[cur]++
			a.rows += rb[cur]
			s.d.binBreaks(rs, cur, &rb, lo, hi, llo, width, a.hist)
		})
		if err != nil {
			return llo, lhi, err
		}
		var counts [NumTiers]int64
		for _, a := range accs {
			for t, c := range a.counts {
				counts[t] += c
			}
			rows += a.rows
			addInto(hist, a.hist)
		}
		var rowBytes int64
		for t, c := range counts {
			rowBytes += c * rb[t]
		}
		fixed += s.st.TableBytes(tb.Dim, counts) - rowBytes
	}
	slack := s.st.slack(len(s.tables))
	size := rows + fixed
	kLo, kHi := -1, -1
	for k, delta := range hist {
		size += delta
		if kLo < 0 && size <= s.budget+slack {
			kLo = k
		}
		if size <= s.budget-slack {
			kHi = k
			break
		}
	}
	if kLo < 0 || kHi < 0 {
		return llo, lhi, nil
	}
	return max(llo, llo+float64(kLo-1)*width), min(lhi, llo+float64(kHi+2)*width), nil
}

// binBreaks follows a row from its tier cur at multiplier lo down the lower
// envelope of its cost lines, adding to hist, at the log10 bin of each
// break below hi, the bytes (negative) its move to the smaller tier saves.
func (d *Decision) binBreaks(rs *RowStat, cur Tier, rb *[NumTiers]int64, lo, hi, llo, width float64, hist []int64) {
	lambda := lo
	for {
		wc := weight(rs, cur)
		next, at := cur, math.Inf(1)
		for _, t := range d.tiers {
			if rb[t] >= rb[cur] {
				continue
			}
			wt := weight(rs, t)
			if math.IsInf(wt, 1) {
				continue
			}
			l := (wt - wc) / float64(rb[cur]-rb[t])
			if l < at || (l == at && rb[t] < rb[next]) {
				next, at = t, l
			}
		}
		if next == cur || !(at < hi) {
			return
		}
		lambda = max(lambda, at)
		k := int((math.Log10(lambda) - llo) / width)
		hist[min(max(k, 0), narrowBins-1)] += rb[next] - rb[cur]
		cur = next
	}
}

func addInto(dst, src []int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// fewGains is how many upgrades narrowGain lists one by one.
const fewGains = 4096

type upgradeGain struct {
	gain  float64
	bytes int64 // the extra bytes it takes
}

// gainAcc is one worker's part of narrowGain's scan.
type gainAcc struct {
	counts [NumTiers]int64
	hist   []int64
	gains  []upgradeGain // every upgrade, while there are few
	many   bool
}

// narrowGain is narrowLambda for the gain threshold that fills the slack:
// one scan bins each row's upgrade (the tier it takes at lo instead of hi)
// by log10 of its gain, and the size at a threshold is the size at hi plus
// the upgrades above it. It returns the bins, widened, where that estimate
// crosses the budget, which the caller checks; and, if there are at most
// fewGains upgrades, their distinct gains in order with the estimated size
// at each as the threshold, for the caller to bisect over exactly.
func (s *solver) narrowGain(glo, ghi float64) (float64, float64, []float64, []int64, error) {
	d := s.d
	hist := make([]int64, narrowBins)
	width := (ghi - glo) / narrowBins
	var total int64
	var gains []upgradeGain
	many := false
	for _, tb := range s.tables {
		accs, err := scanAll(tb.Stats, func() *gainAcc { return &gainAcc{hist: make([]int64, narrowBins)} }, func(a *gainAcc, _ int, rs *RowStat) {
			t := d.choose(tb.Dim, rs, d.hi)
			a.counts[t]++
			if u, g, ok := d.upgrade(tb.Dim, rs, t); ok {
				a.add(g, int64(u.RowBytes(tb.Dim)-t.RowBytes(tb.Dim)), glo, width)
			}
		})
		if err != nil {
			return glo, ghi, nil, nil, err
		}
		var counts [NumTiers]int64
		for _, a := range accs {
			for t, c := range a.counts {
				counts[t] += c
			}
			addInto(hist, a.hist)
			many = many || a.many
			gains = append(gains, a.gains...)
		}
		total += s.st.TableBytes(tb.Dim, counts)
	}
	if many || len(gains) > fewGains {
		gains = nil
	}
	nlo, nhi := s.gainBins(hist, total, glo, ghi)
	if len(gains) == 0 {
		return nlo, nhi, nil, nil, nil
	}
	vals, est := gainSizes(gains, total)
	return nlo, nhi, vals, est, nil
}

// add bins an upgrade of the given gain that takes db more bytes.
func (a *gainAcc) add(g float64, db int64, glo, width float64) {
	if !a.many {
		if len(a.gains) < fewGains {
			a.gains = append(a.gains, upgradeGain{g, db})
		} else {
			a.many, a.gains = true, nil
		}
	}
	k := int((math.Log10(g) - glo) / width)
	a.hist[min(max(k, 0), narrowBins-1)] += db
}

// gainBins reads narrowGain's histogram: from the highest gains down the
// size grows; it returns the bin edges around the lowest that surely fits
// and the highest that surely does not.
func (s *solver) gainBins(hist []int64, total int64, glo, ghi float64) (float64, float64) {
	width := (ghi - glo) / narrowBins
	slack := s.st.slack(len(s.tables))
	kFit, kNot := -1, -1
	size := total
	for k := narrowBins - 1; k >= 0; k-- {
		size += hist[k] // the size at threshold edge k: upgrades in bins k and up
		if size <= s.budget-slack {
			kFit = k
		}
		if size > s.budget+slack {
			kNot = k
			break
		}
	}
	nlo, nhi := glo, ghi
	if kNot >= 0 {
		nlo = max(glo, glo+float64(kNot-1)*width)
	}
	if kFit >= 0 {
		nhi = min(ghi, glo+float64(kFit+1)*width)
	}
	return nlo, nhi
}

// gainSizes lists the distinct gains in order, each with the estimated
// size when it is the threshold (the upgrades above it taken).
func gainSizes(gains []upgradeGain, total int64) ([]float64, []int64) {
	slices.SortFunc(gains, func(a, b upgradeGain) int { return cmp.Compare(a.gain, b.gain) })
	var vals []float64
	var est []int64
	above := int64(0)
	for _, u := range gains {
		above += u.bytes
	}
	for i := 0; i < len(gains); {
		j := i
		for j < len(gains) && gains[j].gain == gains[i].gain {
			above -= gains[j].bytes
			j++
		}
		vals = append(vals, gains[i].gain)
		est = append(est, total+above)
		i = j
	}
	return vals, est
}
