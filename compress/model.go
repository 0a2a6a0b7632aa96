package compress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/provenance"
)

// ModelSettings are everything a user chooses about compressing a CTR
// model, the same in every face (shark compress's flags, the desktop's
// pipeline panel, the demo): how F-Permutation prunes its fields, and how
// F-Quantization stores the tables kept. Start from DefaultModelSettings.
type ModelSettings struct {
	// Keep is the number of fields to keep; 0: KeepFraction of them.
	Keep           int     `json:"keep,omitempty"`
	KeepFraction   float64 `json:"keep_fraction"`
	Rounds         int     `json:"rounds"`          // pruning rounds
	FinetuneEpochs int     `json:"finetune_epochs"` // after each round
	// Tolerance rolls back a round whose AUC falls more than this below
	// the unpruned model's (0: never).
	Tolerance float64 `json:"tolerance"`
	Scorer    string  `json:"scorer"` // taylor, exact or random
	// MaxAUCDrop > 0 chooses the budget (Quantize's is then unused): the
	// smallest whose AUC on validation rows of the training data stays
	// within it of the unpruned model's, by bisection; when pruning, the
	// keep count too (at least Keep or KeepFraction of the fields, the
	// count of the fewest bytes), and with a block tier allowed and no
	// Quantize.Block, the block size (pipeline.DefaultBlocks). The test
	// rows only report the result.
	MaxAUCDrop float64 `json:"max_auc_drop,omitempty"`
	// OnProbe is told each budget the search tries, as it is scored;
	// OnKeep each keep count, when the model is pruned.
	OnProbe func(pipeline.Probe)     `json:"-"`
	OnKeep  func(pipeline.KeepProbe) `json:"-"`
	// Quantize is how the kept tables are stored: its budget is a share of
	// the kept tables' fp32 bytes; its Tables and MinRows are unused (a
	// model's tables are its fields).
	Quantize Settings `json:"quantize"`
}

// DefaultModelSettings: keep half the fields in one round with one epoch
// of fine-tuning, then store them within 40% of their fp32 bytes.
func DefaultModelSettings() ModelSettings {
	q := DefaultSettings()
	q.Budget = 0.4
	return ModelSettings{KeepFraction: 0.5, Rounds: 1, FinetuneEpochs: 1, Scorer: "taylor", Quantize: q}
}

// Validate checks every setting's domain.
func (s ModelSettings) Validate() error {
	if s.Keep < 0 || !(s.KeepFraction >= 0) {
		return fmt.Errorf("%w: keep a number of fields or a share of them, got %d and %v", core.ErrInvalid, s.Keep, s.KeepFraction)
	}
	if !(s.MaxAUCDrop >= 0 && s.MaxAUCDrop < 1) {
		return fmt.Errorf("%w: the AUC drop allowed must be in [0, 1), got %v", core.ErrInvalid, s.MaxAUCDrop)
	}
	if s.MaxAUCDrop > 0 && s.Quantize.Assign != "budget" {
		return fmt.Errorf("%w: an AUC drop chooses a budget, not %s", core.ErrInvalid, s.Quantize.Assign)
	}
	return s.Quantize.Validate()
}

// options are the pipeline's options for m under s: the seed and the
// priorities' epochs are the model's own, as it was trained.
func (s ModelSettings) options(m *model.Model) pipeline.Options {
	o := pipeline.DefaultOptions(s.Quantize.Rule)
	o.Keep, o.KeepFraction, o.Rounds, o.FinetuneEpochs = s.Keep, s.KeepFraction, s.Rounds, s.FinetuneEpochs
	o.Tolerance, o.Scorer = s.Tolerance, s.Scorer
	o.Priority = s.Quantize.Priority()
	o.PriorityEpochs = m.Cfg.Epochs
	o.Seed = m.Cfg.Seed
	o.MaxAUCDrop, o.OnProbe, o.OnKeep = s.MaxAUCDrop, s.OnProbe, s.OnKeep
	o.Block = s.Quantize.Block
	return o
}

// ModelResult is what CompressModel did: the scores before and after, the
// fields kept, the tiers.
type ModelResult = pipeline.Result

// ModelInput is a model to compress and the data it is pruned, fine-tuned
// and scored on.
type ModelInput struct {
	Model    *model.Model // compressed in place
	Encoding *dataset.Encoding
	Data     *modelfile.Data // Train fine-tunes and feeds priorities, Valid guides pruning, Eval scores
	// Name and DataName are the model's and the data's file names, for
	// the written file's provenance.
	Name, DataName string
}

// CompressModel prunes the model's fields, quantizes the tables kept and
// writes the model file to w: "prune, quantize and save a model", the one
// path of every face. The same model, data and settings give the same
// bytes (with SOURCE_DATE_EPOCH or Quantize.Created set). ctx stops it
// between its steps.
func CompressModel(ctx context.Context, in ModelInput, s ModelSettings, w io.Writer, progress func(stage string, done, total int64)) (*ModelResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.MaxAUCDrop > 0 {
		if err := KeepValidation(in.Data, in.Model); err != nil {
			return nil, err
		}
	}
	opt := s.options(in.Model)
	opt.Progress = progress
	opt.Validation = in.Data.Valid
	res, err := pipeline.Compress(in.Model, in.Data.Train, in.Data.Eval, opt)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prov := provenance.Record(provenance.Origin{Step: "compress", Input: filepath.Base(in.Name), Data: filepath.Base(in.DataName), Created: s.Quantize.Created})
	rec := modelfile.Record{Training: in.Data.Training, Method: res.Method, Provenance: prov, Scores: res.Scores}
	if err := modelfile.Write(w, in.Model, in.Encoding, rec); err != nil {
		return nil, err
	}
	return res, nil
}

// ErrValidationRows: the training rows are too few to keep a validation
// share out of them.
var ErrValidationRows = errors.New("too few training rows for a validation share")

// KeepValidation gives d validation rows apart from the scored ones when
// it has none (d.Valid is d.Eval: a model without the validation rows train
// keeps out, modelfile.Data.ValidUnfitted, and no test file): the model's
// split share of its training rows (d.Train), by position with the model's
// seed, kept out of fine-tuning. So a budget search never chooses on the
// rows that report the result; but these are rows the model fitted, which
// hardly tell a harmful quantization from a harmless one
// (modelfile.NoValidationNote warns of it).
func KeepValidation(d *modelfile.Data, m *model.Model) error {
	if d.Valid != d.Eval {
		return nil
	}
	split, seed := m.Cfg.Split, m.Cfg.Seed
	if !(split > 0 && split < 1) {
		split = model.DefaultConfig().Split
	}
	train, valid := d.Train.Split(split, seed)
	if valid.Rows() < 2 || train.Rows() == 0 {
		return fmt.Errorf("%w: %d rows, split %g", ErrValidationRows, d.Train.Rows(), split)
	}
	all := d.Train.Rows()
	d.Train, d.Valid = train, valid
	d.ValidRows = dataset.ValidationRows(d.Rows.File, valid.Rows(), split, seed)
	d.ValidRows.Text = fmt.Sprintf("validation %s of the %s training rows of %s, split %g seed %d, kept out of fine-tuning", dataset.Count(valid.Rows()), dataset.Count(all), d.Rows.File, split, seed)
	return nil
}
