// Package all registers every file format shark reads.
package all

import (
	_ "shark/formats/npy"
	_ "shark/formats/npz"
	_ "shark/formats/onnx"
	_ "shark/formats/pytorch"
	_ "shark/formats/safetensors"
	_ "shark/formats/sharkfile"
)
