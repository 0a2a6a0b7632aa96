package modelfile

import (
	"errors"
	"fmt"

	"shark/ctr/dataset"
	"shark/ctr/model"
)

// ErrTrainingRows: the data has no rows the model was not trained on, so
// no held-out number can come from it.
var ErrTrainingRows = errors.New("no held-out rows")

// DataOptions say how a command reads its data.
type DataOptions struct {
	Test     string           // a separate test file: every one of its rows is held out
	AllRows  bool             // score every row of the data file, training rows included
	FineTune bool             // the command trains on the training rows (prune, compress)
	Read     *dataset.Options // nil: the options the model was trained with
	SkipBad  bool
}

// Data is a data file read for a model: the rows to fine-tune on and count
// accesses over, and the held-out rows it is scored on.
type Data struct {
	Train, Eval *model.Dataset
	Rows        dataset.Rows // what Eval is
	Skipped     int64        // malformed rows skipped
	// Training is the model's record once it has trained on Train: what
	// a file saved after fine-tuning keeps.
	Training *dataset.Training
}

// Data reads the data file at path with the model's feature encoding and
// chooses its held-out rows, for every command and face that scores a
// model: with a test file, all of its rows; else, on the file the model
// was trained on, the rows it held out (an error if it held out none);
// on a file it never saw, all of them, or a held-out share when the
// command fine-tunes.
func (l *Loaded) Data(path string, o DataOptions) (*Data, error) {
	if l.Encoding == nil {
		return nil, fmt.Errorf("the model has no feature encoding")
	}
	id, err := dataset.Identify(path)
	if err != nil {
		return nil, err
	}
	d := &Data{Training: l.training(id)}
	ds, err := l.encode(path, o, &d.Skipped)
	if err != nil {
		return nil, err
	}
	switch {
	case o.Test != "":
		return d, l.withTest(d, ds, id, o)
	case o.AllRows:
		d.Train, d.Eval = ds, ds
		d.Rows = dataset.AllRows(id.Name, ds.Rows())
		return d, nil
	}
	on, trained := d.Training.Find(id)
	switch {
	case trained && on.Split == 0:
		return nil, l.allTrained(id)
	case trained:
		d.split(ds, id, on.Split, on.Seed)
	case o.FineTune:
		split := l.Model.Cfg.Split
		if split <= 0 {
			split = model.DefaultConfig().Split
		}
		d.split(ds, id, split, l.Model.Cfg.Seed)
		d.Training = d.Training.With(dataset.TrainedOn{File: id, Split: split, Seed: l.Model.Cfg.Seed}, nil)
	default:
		d.Train, d.Eval = ds, ds
		d.Rows = dataset.UnseenRows(id.Name, ds.Rows())
	}
	return d, nil
}

// training is the model's record; a file written before shark kept one was
// trained on the data it is given, holding out its split share.
func (l *Loaded) training(data dataset.FileID) *dataset.Training {
	if l.Training != nil {
		return l.Training
	}
	return &dataset.Training{On: []dataset.TrainedOn{{File: data, Split: l.Model.Cfg.Split, Seed: l.Model.Cfg.Seed}}}
}

func (l *Loaded) encode(path string, o DataOptions, skipped *int64) (*model.Dataset, error) {
	opt := l.Encoding.Options
	if o.Read != nil {
		opt = *o.Read
	}
	ds, st, err := l.Encoding.Encode(dataset.FileOpener(path, opt), o.SkipBad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	*skipped += st.Skipped
	return ds, nil
}

// withTest holds out every row of the test file; the data file's rows are
// all for training.
func (l *Loaded) withTest(d *Data, ds *model.Dataset, data dataset.FileID, o DataOptions) error {
	tid, err := dataset.Identify(o.Test)
	if err != nil {
		return err
	}
	if _, trained := d.Training.Find(tid); trained {
		return fmt.Errorf("%w: the model was trained on rows of %s, so it cannot be the test file (without --test, its held-out rows are used)", ErrTrainingRows, tid.Name)
	}
	test, err := l.encode(o.Test, o, &d.Skipped)
	if err != nil {
		return err
	}
	d.Train, d.Eval = ds, test
	d.Rows = dataset.TestFileRows(tid.Name, test.Rows())
	if o.FineTune {
		d.Training = d.Training.With(dataset.TrainedOn{File: data}, &tid)
	}
	return nil
}

// split holds out share split of ds, chosen by seed.
func (d *Data) split(ds *model.Dataset, id dataset.FileID, split float64, seed uint64) {
	d.Train, d.Eval = ds.Split(split, seed)
	d.Rows = dataset.HeldOutRows(id.Name, d.Eval.Rows(), ds.Rows(), split, seed)
}

// allTrained is the error for a file the model was trained on whole.
func (l *Loaded) allTrained(id dataset.FileID) error {
	hint := "pass --test FILE with rows it was not trained on"
	if t := l.Training; t != nil && t.Test != nil {
		hint = fmt.Sprintf("pass --test %s, the test file it was trained with", t.Test.Name)
	}
	return fmt.Errorf("%w: the model was trained on every row of %s; %s", ErrTrainingRows, id.Name, hint)
}
