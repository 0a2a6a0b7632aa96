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
	// Valid is the rows pruning makes its choices on (which tables to
	// drop, whether to roll a round back). With a test file and
	// fine-tuning, it is a share of the data file kept out of the
	// fine-tuning, so that the test file's score is independent of those
	// choices; otherwise it is Eval.
	Valid     *model.Dataset
	ValidRows dataset.Rows // what Valid is
	// ValidUnfitted says Valid is the validation rows the model's training
	// kept out (dataset.TrainedOn.Valid): rows it never fitted.
	ValidUnfitted bool
	Skipped       int64 // malformed rows skipped
	// Notes tell the user what the rows cannot guarantee (a model saved
	// before shark recorded its training rows).
	Notes []string
	// Training is the model's record once it has trained on Train: what
	// a file saved after fine-tuning keeps.
	Training *dataset.Training
}

// Data reads the data file at path with the model's feature encoding and
// chooses its held-out rows, for every command and face that scores a
// model. A row the model was trained on is never held out, whatever file
// it comes in: rows are told by their content (dataset.RowKey) against the
// model's record of its training rows, and those left out are counted.
// With a test file, its rows are scored; else the rows of the data file
// the model was not trained on (an error if there are none), less, when
// the command fine-tunes, the share of them it fine-tunes on.
func (l *Loaded) Data(path string, o DataOptions) (*Data, error) {
	if l.Encoding == nil {
		return nil, fmt.Errorf("the model has no feature encoding")
	}
	id, err := dataset.Identify(path)
	if err != nil {
		return nil, err
	}
	d := &Data{Training: l.training(id)}
	all, err := l.encode(path, o, &d.Skipped)
	if err != nil {
		return nil, err
	}
	if o.AllRows {
		d.Train, d.Eval = all.Dataset, all.Dataset
		d.Rows = dataset.AllRows(id.Name, all.Rows())
	} else if d.Training.RowsKnown() {
		err = l.byRows(d, all, id, o)
	} else {
		d.Notes = append(d.Notes, OldModelNote)
		err = l.byFile(d, all, id, o)
	}
	if err != nil {
		return nil, err
	}
	if d.Valid == nil {
		d.Valid, d.ValidRows = d.Eval, d.Rows
	}
	if o.FineTune && !d.ValidUnfitted {
		d.Notes = append(d.Notes, NoValidationNote)
	}
	return d, nil
}

// NoValidationNote is what choices made without validation rows the model
// never fitted cannot tell.
const NoValidationNote = "the model records no validation rows kept out of its training (saved before shark kept them, or trained with --valid 0): the rows pruning and the budget search choose on are rows it was trained on (or, without --test and --max-auc-drop, the held-out rows themselves), which cannot tell a harmful change from a harmless one; train it again to keep them"

// keepValidation takes the model's validation rows (rows it never fitted,
// told by their content, dataset.Training.Valid) out of part, rows of the
// file id of all rows, into d.Valid, and returns the rest.
func (d *Data) keepValidation(part dataset.Part, id dataset.FileID, all int) dataset.Part {
	valid, rest := dataset.Partition(part.Dataset, part.Keys, d.Training.Validation)
	if valid.Rows() == 0 {
		return part
	}
	d.Valid, d.ValidUnfitted = valid.Dataset, true
	d.ValidRows = validRows(d.Training, id, valid.Rows(), all)
	return rest
}

// validRows says which the n validation rows of file id (of all rows) are.
func validRows(t *dataset.Training, id dataset.FileID, n, all int) dataset.Rows {
	if on, ok := t.ValidShare(); ok && on.File.Same(id) {
		return dataset.HeldValidationRows(id.Name, n, all, on.Valid, on.ValidSeed)
	}
	r := dataset.Rows{Kind: dataset.RowsValid, File: id.Name, Count: n, Of: all}
	r.Text = fmt.Sprintf("validation %s of %s rows of %s, the model's validation rows (told by their content), kept out of training: the model never fitted them", dataset.Count(n), dataset.Count(all), id.Name)
	return r
}

// OldModelNote is what a model saved without its training rows' keys
// cannot guarantee.
const OldModelNote = "the model was saved before shark recorded the rows it was trained on: its held-out rows are told by the data file's identity only, so its training rows in another file (other line ends, another order, mixed with other rows) would be scored as held-out; train it again to record them"

// byRows chooses the rows by the model's record of its training rows.
func (l *Loaded) byRows(d *Data, all dataset.Part, id dataset.FileID, o DataOptions) error {
	if o.Test != "" {
		return l.withTest(d, all, id, o)
	}
	trained, fresh := dataset.Partition(all.Dataset, all.Keys, d.Training.Trained)
	on, known := d.Training.Find(id)
	fresh = d.keepValidation(fresh, id, all.Rows()) // never held-out rows
	if fresh.Rows() == 0 {
		return l.allTrained(id)
	}
	if !o.FineTune {
		d.Train, d.Eval = trained.Dataset, fresh.Dataset
		d.Rows = dataset.UnseenRows(id.Name, fresh.Rows())
		if known && on.Split > 0 {
			d.Rows = dataset.HeldOutRows(id.Name, fresh.Rows(), all.Rows(), on.Split, on.Seed)
		}
		d.Rows = d.Rows.Excluding(trained.Rows()).ExcludingValidation(d.validCount())
		return nil
	}
	split, seed := l.fineTuneSplit()
	if known && on.Split > 0 {
		split, seed = on.Split, on.Seed
	}
	tune, held := dataset.SplitByKey(fresh.Dataset, fresh.Keys, split, seed)
	if held.Rows() == 0 {
		return fmt.Errorf("%w: of the %d rows of %s the model was not trained on, the held-out share %g (seed %d) holds none", ErrTrainingRows, fresh.Rows(), id.Name, split, seed)
	}
	d.Train, d.Eval = dataset.Join(trained, tune).Dataset, held.Dataset
	d.Rows = dataset.HeldOutRows(id.Name, held.Rows(), all.Rows(), split, seed).Excluding(trained.Rows()).ExcludingValidation(d.validCount())
	d.Training = d.Training.WithRows(tune.Keys)
	if !known {
		d.Training = d.Training.With(dataset.TrainedOn{File: id, Split: split, Seed: seed}, nil)
	}
	return nil
}

// fineTuneSplit is the held-out share and seed of a file the model fine-tunes on.
func (l *Loaded) fineTuneSplit() (float64, uint64) {
	split := l.Model.Cfg.Split
	if split <= 0 {
		split = model.DefaultConfig().Split
	}
	return split, l.Model.Cfg.Seed
}

// byFile chooses the rows of a model without a record of its training rows
// by the data file's identity: on the file it was trained on, the rows it
// held out (an error if it held out none); on a file it never saw, all of
// them, or a held-out share when the command fine-tunes.
func (l *Loaded) byFile(d *Data, all dataset.Part, id dataset.FileID, o DataOptions) error {
	ds := all.Dataset
	if o.Test != "" {
		return l.withTest(d, all, id, o)
	}
	on, trained := d.Training.Find(id)
	switch {
	case trained && on.Split == 0:
		return l.allTrained(id)
	case trained:
		d.split(ds, id, on.Split, on.Seed)
	case o.FineTune:
		split, seed := l.fineTuneSplit()
		d.split(ds, id, split, seed)
		d.Training = d.Training.With(dataset.TrainedOn{File: id, Split: split, Seed: seed}, nil)
	default:
		d.Train, d.Eval = ds, ds
		d.Rows = dataset.UnseenRows(id.Name, ds.Rows())
	}
	return nil
}

// training is the model's record; a file written before shark kept one was
// trained on the data it is given, holding out its split share.
func (l *Loaded) training(data dataset.FileID) *dataset.Training {
	if l.Training != nil {
		return l.Training
	}
	return &dataset.Training{On: []dataset.TrainedOn{{File: data, Split: l.Model.Cfg.Split, Seed: l.Model.Cfg.Seed}}}
}

func (l *Loaded) encode(path string, o DataOptions, skipped *int64) (dataset.Part, error) {
	opt := l.Encoding.Options
	if o.Read != nil {
		opt = *o.Read
	}
	ds, keys, st, err := l.Encoding.EncodeKeys(dataset.FileOpener(path, opt), o.SkipBad)
	if err != nil {
		return dataset.Part{}, fmt.Errorf("%s: %w", path, err)
	}
	*skipped += st.Skipped
	return dataset.Part{Dataset: ds, Keys: keys}, nil
}

// withTest scores the rows of the test file the model was not trained on
// (by their keys, when the model records them); the data file's rows are
// for training. When the command fine-tunes, a share of them is kept out
// of it for pruning's choices (Valid), so that nothing the command decides
// comes from the test file.
func (l *Loaded) withTest(d *Data, all dataset.Part, data dataset.FileID, o DataOptions) error {
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
	excluded, validOut := 0, 0
	if d.Training.RowsKnown() {
		var trained, v dataset.Part
		trained, test = dataset.Partition(test.Dataset, test.Keys, d.Training.Trained)
		v, test = dataset.Partition(test.Dataset, test.Keys, d.Training.Validation)
		if excluded, validOut = trained.Rows(), v.Rows(); test.Rows() == 0 {
			return fmt.Errorf("%w: the model was trained on every row of %s, so it cannot be the test file", ErrTrainingRows, tid.Name)
		}
	}
	d.Train, d.Eval = all.Dataset, test.Dataset
	d.Rows = dataset.TestFileRows(tid.Name, test.Rows()).Excluding(excluded).ExcludingValidation(validOut)
	if !o.FineTune {
		return nil
	}
	if tune := d.keepValidation(all, data, all.Rows()); d.ValidUnfitted && tune.Rows() > 0 {
		d.Train = tune.Dataset
		d.Training = d.Training.WithRows(tune.Keys)
		on, _ := d.Training.Find(data)
		on.File, on.Split, on.Seed = data, 0, 0 // every row but the validation ones trained on now
		d.Training = d.Training.With(on, &tid)
		return nil
	}
	d.Valid, d.ValidUnfitted = nil, false
	split, seed := l.fineTuneSplit()
	tune, valid := dataset.SplitByKey(all.Dataset, all.Keys, split, seed)
	if valid.Rows() == 0 || tune.Rows() == 0 {
		return fmt.Errorf("%w: %s has too few rows (%d) to keep a validation share %g out of fine-tuning", ErrTrainingRows, data.Name, all.Rows(), split)
	}
	d.Train, d.Valid = tune.Dataset, valid.Dataset
	d.ValidRows = dataset.ValidationRows(data.Name, valid.Rows(), split, seed)
	if d.Training.RowsKnown() {
		d.Training = d.Training.WithRows(tune.Keys)
	}
	d.Training = d.Training.With(dataset.TrainedOn{File: data}, &tid)
	return nil
}

// validCount is the validation rows kept out of the file, if any.
func (d *Data) validCount() int {
	if !d.ValidUnfitted {
		return 0
	}
	return d.Valid.Rows()
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
