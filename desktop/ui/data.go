package ui

import (
	"shark/ctr/dataset"
	"shark/ctr/modelfile"
)

// datasetOpener reads a data file with the options the model was trained with.
func datasetOpener(path string, l *modelfile.Loaded) dataset.Opener {
	return dataset.FileOpener(path, l.Encoding.Options)
}
