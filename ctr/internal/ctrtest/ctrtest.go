// Package ctrtest makes the data and models the ctr packages' tests share.
package ctrtest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"shark/core"
	"shark/ctr/dataset"
	"shark/ctr/model"
)

// SynthData writes rows of Criteo-format data with planted truth in
// fields fields, and reads them back encoded.
func SynthData(t testing.TB, rows, fields int) (*dataset.Encoding, *model.Dataset, dataset.Truth) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.tsv")
	var buf bytes.Buffer
	truth, err := dataset.Synth(&buf, rows, fields, 1)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, buf.Bytes(), 0o644)
	opt := dataset.Options{Format: "criteo"}
	enc, _, err := dataset.Build(dataset.FileOpener(p, opt), opt, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := enc.Encode(dataset.FileOpener(p, opt), false)
	if err != nil {
		t.Fatal(err)
	}
	return enc, ds, truth
}

// Trained is the reference model with its default settings and seed,
// trained on ds split by that seed: the model, its training and held-out rows.
func Trained(t testing.TB, ds *model.Dataset, seed uint64) (*model.Model, *model.Dataset, *model.Dataset) {
	t.Helper()
	cfg := model.DefaultConfig()
	cfg.Seed = seed
	train, valid := ds.Split(cfg.Split, seed)
	m, err := model.New(cfg, train)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(train, nil, cfg.Epochs, nil); err != nil {
		t.Fatal(err)
	}
	return m, train, valid
}

// Budget is the rule of a budget of share of the tables' fp32 bytes on
// every tier, as compress.Settings.Rule makes it (the ctr packages' tests
// cannot import compress, which stands above them).
func Budget(share float64) func(fp32 int64) core.Rule {
	return func(fp32 int64) core.Rule {
		return core.Rule{By: core.ByBudget, Budget: int64(share * float64(fp32)), Allowed: [core.NumTiers]bool{true, true, true, true}}
	}
}
