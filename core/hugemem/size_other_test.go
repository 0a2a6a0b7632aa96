//go:build !linux

package hugemem

func hugeOrSmall() int { return 4 << 20 }
