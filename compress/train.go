package compress

import (
	"path/filepath"

	"shark/ctr/experiment"
	"shark/ctr/model"
	"shark/ctr/modelfile"
	"shark/ctr/pipeline"
	"shark/internal/provenance"
)

// TrainOptions configure TrainModelFile: the data files, how they are
// read, the model's configuration.
type TrainOptions = pipeline.TrainOptions

// Trained is a trained model with its encoding, data and scores.
type Trained = pipeline.Trained

// TrainModelFile trains the reference CTR model and writes it, with the
// record of the rows it trained on, to the file at path, whole or not at
// all (inputs are the files it must not replace): what shark train and
// the demo do.
func TrainModelFile(path string, o TrainOptions, inputs ...string) (*Trained, error) {
	tr, err := pipeline.Train(o)
	if err != nil {
		return nil, err
	}
	prov := provenance.Record(provenance.Origin{Step: "train", Data: filepath.Base(o.Data)})
	rec := modelfile.Record{Training: tr.Training, Provenance: prov}
	return tr, modelfile.Save(path, tr.Model, tr.Encoding, rec, inputs...)
}

// Scores are a model's fields' importance, as every face shows them.
type (
	Scores     = experiment.Scores
	FieldScore = experiment.FieldScore
)

// ScoreModel scores the model's fields on ds by Taylor (F-Permutation)
// and, with exact, by exact permutation of repeats shuffles, seeded by the
// model's own seed as CompressModel is; progress is told the fields done.
func ScoreModel(m *model.Model, ds *model.Dataset, exact bool, repeats int, progress func(done, total int)) (*Scores, error) {
	return experiment.Score(m, ds, experiment.ScoreOptions{Exact: exact, Repeats: repeats, Seed: m.Cfg.Seed, Progress: progress})
}
