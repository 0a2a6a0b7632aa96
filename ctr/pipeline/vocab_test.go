package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"shark/ctr/dataset"
	"shark/ctr/model"
)

// The vocabulary comes from the training rows alone: every value with a
// row of its own is seen MinCount times in them, and values frequent only
// thanks to held-out rows share the out-of-vocabulary row.
func TestVocabularyFromTrainingRows(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.tsv")
	f, _ := os.Create(p)
	if _, err := dataset.Synth(f, 3000, 6, 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := model.DefaultConfig()
	cfg.Split, cfg.Epochs = 0.5, 1
	opt := dataset.Options{Format: "criteo"}
	tr, err := Train(TrainOptions{Data: p, Read: opt, MinCount: 2, Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	inTrain, inAll := map[string]int{}, map[string]int{}
	dataset.Each(dataset.FileOpener(p, opt), false, func(rec *dataset.Record) error {
		for i, tok := range rec.Tokens {
			key := tr.Encoding.Fields[i] + "=" + tok
			inAll[key]++
			if !dataset.HeldOut(rec.Key, cfg.Split, cfg.Seed) {
				inTrain[key]++
			}
		}
		return nil
	})
	for f, vals := range tr.Encoding.Values {
		for _, v := range vals {
			if n := inTrain[tr.Encoding.Fields[f]+"="+v]; n < 2 {
				t.Fatalf("%s=%s has a row of its own, seen %d times in the training rows", tr.Encoding.Fields[f], v, n)
			}
		}
	}
	heldOnly := 0
	for key, n := range inAll {
		if n >= 2 && inTrain[key] < 2 {
			heldOnly++
		}
	}
	if heldOnly == 0 {
		t.Fatal("no value is frequent only with the held-out rows: the test shows nothing")
	}
	if got := tr.Training.Rows; len(got) != 1 || got[0].Rows != int64(tr.Train.Rows()) || tr.Train.Rows()+tr.Test.Rows() != 3000 {
		t.Fatalf("recorded %v training rows; trained on %d, tested on %d", got, tr.Train.Rows(), tr.Test.Rows())
	}
}
