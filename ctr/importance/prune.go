package importance

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"shark/core"
	"shark/ctr/model"
)

// PruneOptions control iterative pruning.
type PruneOptions struct {
	Keep           int     // stop at this many fields
	Rounds         int     // pruning rounds (>= 1)
	FinetuneEpochs int     // epochs of fine-tuning after each round
	FinetuneLR     float64 // learning rate of fine-tuning, as a share of training's (0: 0.1)
	Tolerance      float64 // roll back a round whose validation AUC falls more than this below the unpruned model's
	Scorer         string  // "taylor" (default), "exact", or "random" (a baseline)
	Repeats        int     // for "exact"
	Seed           uint64
	Progress       func(stage string, done, total int64)
}

// Round records one pruning round.
type Round struct {
	Dropped    []string  `json:"dropped"`
	Scores     []float64 `json:"scores"` // per data field, at the start of the round
	ValidAUC   float64   `json:"valid_auc"`
	RolledBack bool      `json:"rolled_back"`
}

// PruneResult is the outcome of Prune.
type PruneResult struct {
	BaseAUC float64  `json:"base_auc"`
	Kept    []string `json:"kept"`
	Dropped []string `json:"dropped"`
	Rounds  []Round  `json:"rounds"`
}

// Score scores every field with the named scorer.
func Score(m *model.Model, ds *model.Dataset, scorer string, repeats int, seed uint64) ([]float64, error) {
	switch scorer {
	case "", "taylor":
		return Taylor(m, ds)
	case "exact":
		ex, err := Exact(m, ds, repeats, seed, nil)
		if err != nil {
			return nil, err
		}
		out := make([]float64, len(ex))
		for i, e := range ex {
			out[i] = e.LossIncrease
		}
		return out, nil
	case "random":
		r := rand.New(rand.NewPCG(seed, 0xd1ce))
		out := make([]float64, len(m.Fields))
		for i := range out {
			out[i] = r.Float64()
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: scorer %q (taylor, exact, random)", core.ErrInvalid, scorer)
}

// Prune drops fields from m, lowest score first, in rounds, fine-tuning on
// train after each and checking the AUC on valid. A round that costs more
// than Tolerance AUC against the unpruned model is rolled back, and pruning
// stops there. m is modified in place.
func Prune(m *model.Model, train, valid *model.Dataset, opt PruneOptions) (*PruneResult, error) {
	if opt.Keep < 1 || opt.Keep > len(m.Slots) {
		return nil, fmt.Errorf("%w: keep %d of %d fields", core.ErrInvalid, opt.Keep, len(m.Slots))
	}
	if opt.Rounds < 1 {
		opt.Rounds = 1
	}
	base, err := m.Evaluate(valid)
	if err != nil {
		return nil, err
	}
	res := &PruneResult{BaseAUC: base.AUC}
	for round := 0; round < opt.Rounds && len(m.Slots) > opt.Keep; round++ {
		scores, err := Score(m, valid, opt.Scorer, opt.Repeats, opt.Seed+uint64(round))
		if err != nil {
			return nil, err
		}
		left := opt.Rounds - round
		n := (len(m.Slots) - opt.Keep + left - 1) / left
		order := append([]int{}, m.Slots...)
		sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] < scores[order[b]] })
		snapshot := m.Clone()
		rd := Round{Scores: scores}
		for _, f := range order[:n] {
			if err := m.Prune(f); err != nil {
				return nil, err
			}
			rd.Dropped = append(rd.Dropped, m.Fields[f])
		}
		if opt.FinetuneEpochs > 0 {
			// A converged model overfits when trained further at full rate.
			lr := m.Cfg.LR
			f := opt.FinetuneLR
			if f <= 0 {
				f = 0.1
			}
			m.Cfg.LR = lr * f
			_, err := m.Train(train, nil, opt.FinetuneEpochs, func(d, t int64) {
				if opt.Progress != nil {
					opt.Progress(fmt.Sprintf("fine-tune round %d", round+1), d, t)
				}
			})
			m.Cfg.LR = lr
			if err != nil {
				return nil, err
			}
		}
		met, err := m.Evaluate(valid)
		if err != nil {
			return nil, err
		}
		rd.ValidAUC = met.AUC
		if opt.Tolerance > 0 && met.AUC < base.AUC-opt.Tolerance {
			rd.RolledBack = true
			*m = *snapshot
			res.Rounds = append(res.Rounds, rd)
			break
		}
		res.Dropped = append(res.Dropped, rd.Dropped...)
		res.Rounds = append(res.Rounds, rd)
	}
	for _, f := range m.Slots {
		res.Kept = append(res.Kept, m.Fields[f])
	}
	return res, nil
}
