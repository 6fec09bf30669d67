using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// One process's resident read, each way, in this thread's CPU time (kernel time included: the page-table walk is
/// the reader's system time), interleaved round by round so all see the same machine; medians. <c>cat_smaps</c> is
/// reading /proc/PID/smaps whole, what <c>cat</c> costs; the others are the exporter's whole inspection of the process
/// (maps or smaps parsed, classified with the exact methods, reported). With RANGES-FILE, writes the ranges the
/// pagemap read covers (every mapping outside the heap that is not a large PROT_NONE one) for bench/pagemap_scan.c.
/// Each mode keeps the process's state from read to read, as the daemon keeps it from scan to scan (what a VMA's
/// page-by-page search for malloc chunks found, thread names, the cgroup); <c>pagemap_fresh</c> is the pagemap read
/// with a new state, what the first scan of a process (and, for the chunk search, one scan a minute) costs.
/// </summary>
internal static class ResidentCost
{
    public static int Run(string[] args)
    {
        int pid = int.Parse(args[0], CultureInfo.InvariantCulture);
        int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 9;
        var procFs = new ProcFs();
        using var reader = new ProcFileReader();
        using var inspector = new ProcessInspector(procFs);
        var times = new Dictionary<string, List<double>>
        {
            ["cat_smaps"] = [], ["smaps"] = [], ["pagemap"] = [], ["maps"] = [], ["pagemap_fresh"] = [],
        };
        ulong startTicks = ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes(procFs.PidPath(pid, "stat")), "stat");
        ProcessState smapsState = new(pid, startTicks), pagemapState = new(pid, startTicks), mapsState = new(pid, startTicks);
        InspectionResult? pagemap = null, smaps = null;
        for (int r = 0; r < rounds + 1; r++)
        {
            double t0 = Now();
            reader.ReadAll(procFs.PidPath(pid, "smaps"));
            double t1 = Now();
            smaps = inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Smaps, State = smapsState });
            double t2 = Now();
            pagemap = inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Pagemap, State = pagemapState });
            double t3 = Now();
            inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Maps, State = mapsState });
            double t4 = Now();
            inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Pagemap });
            double t5 = Now();
            if (r == 0)
            {
                continue; // warm-up: JIT, buffers
            }

            times["cat_smaps"].Add(t1 - t0);
            times["smaps"].Add(t2 - t1);
            times["pagemap"].Add(t3 - t2);
            times["maps"].Add(t4 - t3);
            times["pagemap_fresh"].Add(t5 - t4);
        }

        Console.WriteLine($"pagemap_mode {pagemap!.Mode.Id()} {pagemap.PagemapFallback}");
        foreach (var (name, list) in times)
        {
            Console.WriteLine(FormattableString.Invariant($"{name}_cpu_ms {WholeScan.Median(list):F3}"));
        }

        Console.WriteLine(FormattableString.Invariant($"pagemap_over_cat_smaps {WholeScan.Median(times["pagemap"]) / WholeScan.Median(times["cat_smaps"]):F3}"));
        Console.WriteLine($"rss_smaps {smaps!.Totals?.ResidentBytes} rss_pagemap {pagemap.Totals?.ResidentBytes}");
        Console.WriteLine($"heap_rss_smaps {smaps.Report[RegionCategory.JavaHeap].ResidentBytes} heap_rss_pagemap {pagemap.Report[RegionCategory.JavaHeap].ResidentBytes}");
        if (args.Length > 2)
        {
            WriteRanges(inspector, pid, args[2]);
        }

        return 0;
    }

    private static void WriteRanges(ProcessInspector inspector, int pid, string path)
    {
        ClassifiedRegions regions = inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Maps, KeepRegions = true }).Regions!;
        using var output = new StreamWriter(path);
        ulong bytes = 0;
        for (int i = 0; i < regions.Items.Length; i++)
        {
            var m = regions.Items[i];
            if (regions.CategoryOf(i) == RegionCategory.JavaHeap || (m.IsNoAccess && m.Size > 64 * 1024) || regions.PathOf(i) is "[vsyscall]" || (regions.PathOf(i)?.StartsWith("[vvar", StringComparison.Ordinal) ?? false))
            {
                continue;
            }

            output.WriteLine($"{m.Start:x} {m.End:x}");
            bytes += m.Size;
        }

        Console.WriteLine($"pagemap_va_mib {bytes >> 20} pagemap_entries {bytes / 4096}");
    }

    private static double Now() => ThreadCpuClock.Now().TotalMilliseconds;
}
