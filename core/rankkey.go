package core

// RankKey is the order fixed fractions rank rows by, as an integer: a
// larger key ranks first, ties by row id; -0 is +0, and a NaN ranks last.
// Exported for a table held as row shards, whose ranking is cut across
// them (shark-dist quantize): the one definition of the order.
func RankKey(p float32) uint32 { return rankKey(p) }
