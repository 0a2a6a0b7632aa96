// Package numfmt writes numbers for people, the same way in every package
// that prints them (the application layer and the model wing alike).
package numfmt

import "strconv"

// Count writes n with thousands separators: "6,040", "-1,234".
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := s
	if n < 0 {
		digits = s[1:]
	}
	out := make([]byte, 0, len(s)+len(digits)/3)
	if n < 0 {
		out = append(out, '-')
	}
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, digits[i])
	}
	return string(out)
}
