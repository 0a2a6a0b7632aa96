package compress

import (
	"context"
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
