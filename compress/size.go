package compress

import "fmt"

// Size formats a byte count for people, the same in every face: bytes
// below 1 KiB, then KiB and MiB to one decimal, GiB and TiB to two.
func Size(n int64) string {
	const k = 1024
	switch {
	case n < k:
		return fmt.Sprintf("%d B", n)
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", float64(n)/(k*k))
	case n < k*k*k*k:
		return fmt.Sprintf("%.2f GiB", float64(n)/(k*k*k))
	}
	return fmt.Sprintf("%.2f TiB", float64(n)/(k*k*k*k))
}

// Percent formats a share of a whole as the faces show it.
func Percent(part, whole int64) string {
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(max(whole, 1)))
}
