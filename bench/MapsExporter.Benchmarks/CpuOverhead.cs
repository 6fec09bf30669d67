using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// The overhead ratio in CPU time rather than wall time: on a loaded machine wall time mostly measures the
/// scheduler, CPU time (user + system of the benchmark's thread, <see cref="ThreadCpuClock"/>) what it spent. Runs
/// read-only and read+parse+classify alternately in blocks of 20 and prints the ratio of their CPU time
/// (<c>ratio</c>), and the ratio of each read+parse+classify to its own read, timed inside the same call
/// (<c>same_read_ratio</c>: the very same bytes, so the read's own variation, a JVM taking its mmap lock or
/// touching pages between two reads, cancels out).
/// With <c>BENCH_SPLIT=1</c> a read+parse block runs too (parse and classify apart), and a parse+classify of a
/// saved copy with no read before it; with <c>BENCH_EXACT=1</c>
/// also <see cref="ProcessInspector.Inspect(int, InspectRequest)"/> text-only and exact, on one inspector kept across calls as the
/// daemon keeps it (steady state: buffers grown, per-process caches warm).
/// </summary>
internal static class CpuOverhead
{
    public static int Run(string[] args)
    {
        int blocks = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "15", CultureInfo.InvariantCulture);
        bool split = Environment.GetEnvironmentVariable("BENCH_SPLIT") == "1";
        bool exact = Environment.GetEnvironmentVariable("BENCH_EXACT") == "1";
        using var reader = new ProcFileReader();
        var table = new MappingTable();
        var classification = new Classification();
        using var inspector = new ProcessInspector(new ProcFs());
        foreach (string arg in args)
        {
            int pid = int.Parse(arg, CultureInfo.InvariantCulture);
            string smaps = $"/proc/{pid}/smaps";
            // Kept between calls as the daemon keeps it between scans (thread states, chunk probes): warm inspections.
            var state = new ProcessState(pid, ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes($"/proc/{pid}/stat"), "stat"));
            // Each body calls `mark` where its read ends; the clock is read there, in every body alike.
            var read = new Block(mark =>
            {
                reader.ReadAll(smaps);
                mark();
            });
            var full = new Block(mark =>
            {
                ReadOnlySpan<byte> content = reader.ReadAll(smaps);
                mark();
                SmapsParser.Parse(content, table, smaps);
                RegionClassifier.Classify(table, classification);
            });
            var parse = new Block(mark =>
            {
                ReadOnlySpan<byte> content = reader.ReadAll(smaps);
                mark();
                SmapsParser.Parse(content, table, smaps);
            });
            // A copy of the text parsed with no read before it: this process's parse speed on its own.
            byte[] saved = reader.ReadAll(smaps).ToArray();
            var copy = new Block(mark =>
            {
                mark();
                SmapsParser.Parse(saved, table, smaps);
                RegionClassifier.Classify(table, classification);
            });
            var text = new Block(mark =>
            {
                inspector.Inspect(pid, exact: false, state: state);
                mark();
            });
            var exactBlock = new Block(mark =>
            {
                inspector.Inspect(pid, exact: true, state: state);
                mark();
            });
            List<Block> order = [read, full];
            if (split)
            {
                order.Add(parse);
                order.Add(copy);
            }

            if (exact)
            {
                order.Add(text);
                order.Add(exactBlock);
            }

            for (int b = 0; b < blocks + 1; b++)
            {
                foreach (Block block in order)
                {
                    for (int i = 0; i < 20; i++)
                    {
                        var (u0, s0) = ThreadCpuClock.UserAndSystem();
                        TimeSpan t0 = ThreadCpuClock.Now();
                        block.Body(block.Mark);
                        TimeSpan t2 = ThreadCpuClock.Now();
                        var (u2, s2) = ThreadCpuClock.UserAndSystem();
                        if (b > 0) // the first round warms up
                        {
                            block.Total += t2 - t0;
                            block.User += u2 - u0;
                            block.System += s2 - s0;
                            block.FirstStep += block.Marked - t0;
                        }
                    }
                }
            }

            double n = blocks * 20;
            double Ms(TimeSpan t) => t.TotalMilliseconds / n;
            Console.WriteLine(FormattableString.Invariant(
                $"cpu pid={pid} mappings={table.Count} read_ms={Ms(read.Total):F3} (user {Ms(read.User):F3}) full_ms={Ms(full.Total):F3} (user {Ms(full.User):F3}) ratio={full.Total / read.Total:F3} same_read_ratio={full.Total / full.FirstStep:F3} parse_classify_ms={Ms(full.Total - full.FirstStep):F3}"));
            if (split)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"    split pid={pid} parse_ms={Ms(parse.Total - parse.FirstStep):F3} classify_ms={Ms(full.Total - full.FirstStep - (parse.Total - parse.FirstStep)):F3} parse_ratio={parse.Total / read.Total:F3} parse_same_read_ratio={parse.Total / parse.FirstStep:F3} copy_parse_classify_ms={Ms(copy.Total - copy.FirstStep):F3}"));
            }

            if (exact)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"    inspect pid={pid} text_ms={Ms(text.Total):F3} (user {Ms(text.User):F3}) exact_ms={Ms(exactBlock.Total):F3} (user {Ms(exactBlock.User):F3}) text_ratio={text.Total / read.Total:F3} exact_ratio={exactBlock.Total / read.Total:F3}"));
            }
        }

        return 0;
    }

    private sealed class Block
    {
        public Block(Action<Action> body)
        {
            Body = body;
            Mark = () => Marked = ThreadCpuClock.Now();
        }

        public Action<Action> Body { get; }

        public Action Mark { get; }

        public TimeSpan Marked { get; private set; }

        /// <summary>CPU time of the bodies up to their mark: the read.</summary>
        public TimeSpan FirstStep { get; set; }
        public TimeSpan User { get; set; }
        public TimeSpan System { get; set; }
        /// <summary>CPU time, exact (<see cref="ThreadCpuClock.Now"/>); <see cref="User"/> and <see cref="System"/> apportion about as much.</summary>
        public TimeSpan Total { get; set; }
    }
}
