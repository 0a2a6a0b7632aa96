// Package core is the SHARK method without files or UI: embedding tables and
// their storage tiers, the row codecs, row priorities (F-Quantization), tier
// assignment by thresholds, fractions or a byte budget, and error statistics.
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
package core
