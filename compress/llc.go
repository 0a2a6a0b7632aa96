package compress

import (
	"os"
	"strconv"
	"strings"
)

// assumedLLC is the last-level cache assumed where the system does not
// say (a common server's L3).
const assumedLLC = 32 << 20

// lastLevelCache is the size of the CPU's largest cache, from Linux's
// sysfs, and where the figure came from.
func lastLevelCache() (int64, string) {
	const dir = "/sys/devices/system/cpu/cpu0/cache/"
	var best int64
	var from string
	for i := 0; i < 8; i++ {
		b, err := os.ReadFile(dir + "index" + strconv.Itoa(i) + "/size")
		if err != nil {
			continue
		}
		if n := parseCacheSize(strings.TrimSpace(string(b))); n > best {
			best, from = n, dir+"index"+strconv.Itoa(i)+"/size"
		}
	}
	if best == 0 {
		return assumedLLC, "assumed (the system does not say)"
	}
	return best, from
}

// parseCacheSize reads sysfs's "32768K" (or "32M", or bytes).
func parseCacheSize(s string) int64 {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n * mult
}
