package modelfile

import (
	"fmt"

	"shark/ctr/dataset"
	"shark/ctr/model"
)

// Data is a data file read for a model: every row encoded the way the model
// was trained, split into the rows to fine-tune on and count accesses over,
// and the held-out rows the model is scored on.
type Data struct {
	All         *model.Dataset // every row of the file
	Train, Eval *model.Dataset
	Skipped     int64 // malformed rows skipped
}

// ReadData reads the data file at path with the model's feature encoding,
// and its reading options unless opt is set, and holds out the rows the
// model was trained without (its split share and seed). Every command and
// face that evaluates a model reads its data here.
func (l *Loaded) ReadData(path string, opt *dataset.Options, skipBad bool) (*Data, error) {
	if l.Encoding == nil {
		return nil, fmt.Errorf("the model has no feature encoding")
	}
	o := l.Encoding.Options
	if opt != nil {
		o = *opt
	}
	ds, st, err := l.Encoding.Encode(dataset.FileOpener(path, o), skipBad)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d := &Data{All: ds, Train: ds, Eval: ds, Skipped: st.Skipped}
	if split := l.Model.Cfg.Split; split > 0 {
		d.Train, d.Eval = ds.Split(split, l.Model.Cfg.Seed)
	}
	return d, nil
}
