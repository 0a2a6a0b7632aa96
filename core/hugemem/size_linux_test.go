package hugemem

// hugeOrSmall is a size that takes the huge-page path.
func hugeOrSmall() int { return hugeFrom }
