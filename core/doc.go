// Package core is F-Quantization, the method without files or faces: the
// storage tiers and their row codecs, the measurement of every row's error
// in every tier, row priorities, and the one assignment path (thresholds,
// fractions, or the budget solver) from measured rows to tiers.
//
// Tiers and their row layouts (dim = D):
//
//	fp32  4*D bytes, IEEE binary32 little-endian
//	fp16  2*D bytes, IEEE binary16 little-endian, round to nearest even
//	int8  D bytes of codes, then fp16 scale, then fp16 bias (4 bytes)
//	int4  ceil(D/2) bytes of codes (low nibble first), then fp16 scale, fp16 bias
//
// int8 and int4 rows are byte-identical to FBGEMM/TorchRec's "fused N-bit
// rowwise, fp16 scale/bias" format: scale and bias sit at the END of the row.
//
// The files, in the order a table goes through them: source.go (rows to
// read), codec.go (a row in a tier), measure.go (every row in every tier),
// priority.go (F-Quantization's priorities), rowstat.go (what is kept of a
// row), assign.go (the one path from stats to tiers), solver.go and
// narrow.go (the budget), tablestats.go (a table's summary), encoder.go and
// mixed.go (the rows encoded). How a container stores a table is its own
// business: a Storage tells the solver.
package core
