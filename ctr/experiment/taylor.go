// Package experiment holds the SHARK paper's experiments on the reference
// model, each a function returning the numbers behind it, plus the reports
// that show them: Taylor against exact permutation importance, the
// ablation of the method's parts and baselines, the sweep of AUC against
// bytes, and the end-to-end demo.
package experiment

import (
	"time"

	"shark/ctr/importance"
	"shark/ctr/model"
)

// FieldScore is one field's importance.
type FieldScore struct {
	Name    string   `json:"name"`
	Taylor  float64  `json:"taylor"`
	Exact   *float64 `json:"exact,omitempty"`
	AUCDrop *float64 `json:"exact_auc_drop,omitempty"`
}

// Scores are the active fields' importance: Taylor's, and exact
// permutation's when asked, with their rank correlation and times.
type Scores struct {
	Fields      []FieldScore       `json:"fields"`
	Spearman    *float64           `json:"spearman,omitempty"` // over the fields that vary in the data
	SpearmanAll *float64           `json:"spearman_all,omitempty"`
	Varying     int                `json:"varying_fields"`
	Seconds     map[string]float64 `json:"seconds"`
	Repeats     int                `json:"repeats,omitempty"`
	Rows        int                `json:"rows"`
}

// ScoreOptions configure Score.
type ScoreOptions struct {
	Exact    bool // also exact permutation importance
	Repeats  int  // shuffles per field for Exact
	Seed     uint64
	Progress func(done, total int) // exact permutation: fields done
}

// Score scores m's active fields on ds by Taylor (F-Permutation) and,
// with Exact, by exact permutation.
func Score(m *model.Model, ds *model.Dataset, o ScoreOptions) (*Scores, error) {
	res := &Scores{Seconds: map[string]float64{}, Rows: ds.Rows()}
	t0 := time.Now()
	tay, err := importance.Taylor(m, ds)
	if err != nil {
		return nil, err
	}
	res.Seconds["taylor"] = time.Since(t0).Seconds()
	var ex []importance.ExactScore
	if o.Exact {
		t0 = time.Now()
		if ex, err = importance.Exact(m, ds, o.Repeats, o.Seed, o.Progress); err != nil {
			return nil, err
		}
		res.Seconds["exact"] = time.Since(t0).Seconds()
		res.Repeats = o.Repeats
	}
	vary := importance.Varying(ds)
	var a, b, aa, bb []float64
	for _, f := range m.Slots {
		fs := FieldScore{Name: m.Fields[f], Taylor: tay[f]}
		if vary[f] {
			res.Varying++
		}
		if o.Exact {
			v, d := ex[f].LossIncrease, ex[f].AUCDrop
			fs.Exact, fs.AUCDrop = &v, &d
			aa, bb = append(aa, tay[f]), append(bb, v)
			if vary[f] {
				a, b = append(a, tay[f]), append(b, v)
			}
		}
		res.Fields = append(res.Fields, fs)
	}
	if o.Exact {
		s, sa := model.Spearman(a, b), model.Spearman(aa, bb)
		res.Spearman, res.SpearmanAll = &s, &sa
	}
	return res, nil
}

// TaylorExperiment compares Taylor scores against exact permutation.
type TaylorExperiment struct {
	Fields        []string  `json:"fields"`
	Taylor        []float64 `json:"taylor"`
	Exact         []float64 `json:"exact"`          // logloss increase
	ExactAUCDrop  []float64 `json:"exact_auc_drop"` //
	Spearman      float64   `json:"spearman"`       // over the fields that vary in the data
	SpearmanAll   float64   `json:"spearman_all"`   // over every field
	Varying       int       `json:"varying_fields"`
	TaylorSeconds float64   `json:"taylor_seconds"`
	ExactSeconds  float64   `json:"exact_seconds"`
	Repeats       int       `json:"repeats"`
	Rows          int       `json:"rows"`
}

// RunTaylor scores m's active fields both ways on ds.
func RunTaylor(m *model.Model, ds *model.Dataset, repeats int, seed uint64) (*TaylorExperiment, error) {
	s, err := Score(m, ds, ScoreOptions{Exact: true, Repeats: repeats, Seed: seed})
	if err != nil {
		return nil, err
	}
	e := &TaylorExperiment{Spearman: *s.Spearman, SpearmanAll: *s.SpearmanAll, Varying: s.Varying,
		TaylorSeconds: s.Seconds["taylor"], ExactSeconds: s.Seconds["exact"], Repeats: repeats, Rows: s.Rows}
	for _, f := range s.Fields {
		e.Fields = append(e.Fields, f.Name)
		e.Taylor = append(e.Taylor, f.Taylor)
		e.Exact = append(e.Exact, *f.Exact)
		e.ExactAUCDrop = append(e.ExactAUCDrop, *f.AUCDrop)
	}
	return e, nil
}
