using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core;

namespace MapsExporter.Benchmarks;

/// <summary>
/// The overhead ratio in CPU time rather than wall time: on a loaded machine wall time mostly measures the
/// scheduler, CPU time (user + system, getrusage through <see cref="Process"/>) what this process spent. Runs
/// read-only and read+parse+classify alternately in blocks of 20 and prints the ratio of their CPU time.
/// With <c>BENCH_SPLIT=1</c> a read+parse block runs too (parse and classify apart); with <c>BENCH_EXACT=1</c>
/// also <see cref="ProcessInspector.Inspect"/> text-only and exact, on one inspector kept across calls as the
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
        using Process self = Process.GetCurrentProcess();
        foreach (string arg in args)
        {
            int pid = int.Parse(arg, CultureInfo.InvariantCulture);
            string smaps = $"/proc/{pid}/smaps";
            var read = new Block("read", () => reader.ReadAll(smaps));
            var full = new Block("full", () =>
            {
                SmapsParser.Parse(reader.ReadAll(smaps), table, smaps);
                RegionClassifier.Classify(table, classification);
            });
            var parse = new Block("parse", () => SmapsParser.Parse(reader.ReadAll(smaps), table, smaps));
            var text = new Block("inspect_text", () => inspector.Inspect(pid, exact: false));
            var exactBlock = new Block("inspect_exact", () => inspector.Inspect(pid, exact: true));
            List<Block> order = [read, full];
            if (split)
            {
                order.Add(parse);
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
                    var (u0, s0) = Cpu(self);
                    for (int i = 0; i < 20; i++)
                    {
                        block.Action();
                    }

                    var (u1, s1) = Cpu(self);
                    if (b > 0) // the first round warms up
                    {
                        block.User += u1 - u0;
                        block.System += s1 - s0;
                    }
                }
            }

            double n = blocks * 20;
            double Ms(TimeSpan t) => t.TotalMilliseconds / n;
            Console.WriteLine(FormattableString.Invariant(
                $"cpu pid={pid} mappings={table.Count} read_ms={Ms(read.Total):F3} (user {Ms(read.User):F3}) full_ms={Ms(full.Total):F3} (user {Ms(full.User):F3}) ratio={full.Total / read.Total:F3} parse_classify_user_ms={Ms(full.User - read.User):F3}"));
            if (split)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"    split pid={pid} parse_user_ms={Ms(parse.User - read.User):F3} classify_user_ms={Ms(full.User - parse.User):F3} parse_ratio={parse.Total / read.Total:F3}"));
            }

            if (exact)
            {
                Console.WriteLine(FormattableString.Invariant(
                    $"    inspect pid={pid} text_ms={Ms(text.Total):F3} (user {Ms(text.User):F3}) exact_ms={Ms(exactBlock.Total):F3} (user {Ms(exactBlock.User):F3}) text_ratio={text.Total / read.Total:F3} exact_ratio={exactBlock.Total / read.Total:F3}"));
            }
        }

        return 0;
    }

    private static (TimeSpan User, TimeSpan System) Cpu(Process self)
    {
        self.Refresh();
        return (self.UserProcessorTime, self.PrivilegedProcessorTime);
    }

    private sealed class Block(string name, Action action)
    {
        public string Name { get; } = name;
        public Action Action { get; } = action;
        public TimeSpan User { get; set; }
        public TimeSpan System { get; set; }
        public TimeSpan Total => User + System;
    }
}
