package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"shark/compress"
)

func (c *cli) benchCmd() *cobra.Command {
	cmd := parent(&cobra.Command{
		Use:   "bench",
		Short: "serving benchmarks",
		Long:  "Serving benchmarks of .shark files.",
	})
	cmd.AddCommand(c.benchLookupCmd())
	return cmd
}

func (c *cli) benchLookupCmd() *cobra.Command {
	o := compress.LookupOptions{Bags: 200000, BagSize: 32, Zipf: 1.05, Workers: 1}
	cmd := &cobra.Command{
		Use:   "lookup FILE.shark",
		Short: "pooled lookups from a compressed table against fp32",
		Long: `Embedding-bag lookups (the sum of --bag-size rows per bag, ids drawn from a
Zipf law and scattered over the table), in batches of 256 bags, from the
compressed table loaded into memory (or, with --mmap, read in place from the
file's mapping) and dequantized on the fly, and from its fp32 equivalent in
memory (built first by dequantizing every row). Both sit on huge pages where
the system offers them and run the same loop (sharkfile.PoolBagsF32 is the
fp32 twin of Table.PoolBags); fp32 also runs the loop that prefetches the next
group of rows, faster for wide rows. Bags per second of each, best of three
alternating runs, and their ratios. A gain comes from moving fewer bytes, so
it shows on tables larger than the CPU's last-level cache (make one with
"shark example --big 8000000x64 -o DIR" and quantize it). BENCHMARKS.md has
the figures.

--sizes measures three working sets besides (ids drawn from the table's first
rows only): both tables in the last-level cache; the compressed one in it and
fp32 not, where a compressed table's serving gain shows; and both in DRAM.
The cache's size comes from Linux's sysfs.

--json prints {table, rows, dim, compressed_bytes, fp32_bytes, bags, bag_size,
workers, compressed_per_sec, fp32_per_sec, ratio, fp32_prefetch_per_sec,
ratio_best_fp32, kernels} and with --sizes {llc_bytes, llc_from, sizes: [{name,
rows, compressed_bytes, fp32_bytes, holds, compressed_per_sec, fp32_per_sec,
ratio, ratio_best_fp32}]}.`,
		Args: exactArgs(1, "one FILE.shark"),
		RunE: func(_ *cobra.Command, args []string) error {
			if o.Bags < 1 || o.BagSize < 1 || !(o.Zipf > 1) {
				return usagef("want --bags >= 1, --bag-size >= 1 and --zipf > 1")
			}
			if o.Bags > maxBagIDs/o.BagSize { // the ids are drawn up front
				return usagef("--bags %d x --bag-size %d is over %d ids", o.Bags, o.BagSize, maxBagIDs)
			}
			o.Progress = c.updater()
			res, err := compress.BenchLookup(args[0], o)
			c.prog.done()
			if err != nil {
				return err
			}
			if c.json {
				return c.result(res)
			}
			fmt.Fprintf(c.stdout, "table %s: %d × %d, rows stored in %s (fp32 %s)\n", terminalSafe(res.Table), res.Rows, res.Dim, compress.Size(res.CompressedBytes), compress.Size(res.FP32Bytes))
			fmt.Fprintf(c.stdout, "%d bags of %d Zipf(%.2f) ids on %d goroutine(s), kernels %s\n", res.Bags, res.BagSize, o.Zipf, res.Workers, res.Kernels)
			fmt.Fprintf(c.stdout, "compressed: %.0f bags/s   fp32: %.0f bags/s   ratio %.2fx\n", res.CompressedPerSec, res.FP32PerSec, res.Ratio)
			fmt.Fprintf(c.stdout, "fp32 with the prefetching loop: %.0f bags/s   ratio to fp32's faster loop %.2fx\n", res.FP32PrefetchPerSec, res.RatioBestFP32)
			if len(res.Sizes) > 0 {
				c.printSizes(res)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Table, "table", "", "the table to use (default: the largest)")
	fs.IntVar(&o.Bags, "bags", o.Bags, "bags per run")
	fs.IntVar(&o.BagSize, "bag-size", o.BagSize, "rows per bag")
	fs.Float64Var(&o.Zipf, "zipf", o.Zipf, "Zipf exponent of the ids (> 1)")
	fs.IntVar(&o.Workers, "workers", o.Workers, "goroutines looking up bags (0: every core)")
	fs.BoolVar(&o.Mapped, "mmap", false, "read the compressed rows in place from the file's mapping instead of loading them first")
	fs.BoolVar(&o.Sizes, "sizes", false, "measure at three working sets: in the last-level cache, compressed in it and fp32 not, in DRAM")
	return cmd
}

func (c *cli) printSizes(res *compress.LookupResult) {
	fmt.Fprintf(c.stdout, "\nworking sets (last-level cache %s, from %s):\n", compress.Size(res.LLCBytes), res.LLCFrom)
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKING SET\tROWS\tCOMPRESSED\tFP32\tCOMPRESSED BAGS/S\tFP32 BAGS/S\tRATIO\tVS FP32'S BEST")
	for _, s := range res.Sizes {
		name := s.Name
		if !s.Holds {
			name += " (the table is too small for it)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.0f\t%.0f\t%.2fx\t%.2fx\n", name, s.Rows, compress.Size(s.CompressedBytes), compress.Size(s.FP32Bytes),
			s.CompressedPerSec, s.FP32PerSec, s.Ratio, s.RatioBestFP32)
	}
	tw.Flush()
}
