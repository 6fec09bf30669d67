using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.MemoryConsole;

namespace MapsExporter.Benchmarks;

/// <summary>
/// The memory console's <see cref="HistoryStore"/> (the daemon's own class) filled as a daemon fills it: PROCESSES
/// processes over a full window at the scan interval (default 200, 1 h, 15 s), every scan a snapshot of real reports
/// built from the captured fixtures' smaps dumps (each process one of them, scan after scan), fed through
/// <see cref="HistoryStore.Observe"/>. Prints the managed heap the store holds once the window is full (a full
/// collection before and after, the reports dropped) and the bytes of its arrays.
/// </summary>
public static class HistoryMemory
{
    public static int Run(string[] args)
    {
        string fixtures = args.Length > 0 ? args[0] : "tests/Fixtures";
        int processes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
        var window = TimeSpan.FromSeconds(args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 3600);
        var interval = TimeSpan.FromSeconds(args.Length > 3 ? double.Parse(args[3], CultureInfo.InvariantCulture) : 15);

        // Real reports: every captured JVM's smaps, as process reports (a PID and the threads a live read has).
        MemoryReport[] dumps = [.. Directory.EnumerateDirectories(fixtures, "jdk*").Order(StringComparer.Ordinal)
            .Where(d => File.Exists(Path.Combine(d, "smaps")))
            .Select(d => DumpReader.Read(Path.Combine(d, "smaps"), new MappingTable(), new Classification()))];
        ProcessSample Sample(int i)
        {
            MemoryReport d = dumps[i % dumps.Length];
            var report = new MemoryReport([.. d.Categories])
            {
                Pid = 100_000 + i, App = d.App, IsJvm = d.IsJvm, Threads = d.ThreadStacks, ThreadStacks = d.ThreadStacks, LibcArenas = d.LibcArenas,
                LibcArenaHeaps = d.LibcArenaHeaps, Mappings = d.Mappings, ResidentKnown = d.ResidentKnown, ResidentSource = d.ResidentSource,
                Source = d.Source, Arenas = d.Arenas, Malloc = d.Malloc, ThreadGroups = d.ThreadGroups, Jvm = d.Jvm, Cgroup = d.Cgroup,
            };
            return new ProcessSample(report, (ulong)(1000 + i), 0, null);
        }

        ProcessSample[] samples = [.. Enumerable.Range(0, processes).Select(Sample)];
        long before = Collect();
        var store = new HistoryStore(window, interval);
        int scans = store.Capacity + 10; // past the window: the rings have wrapped
        var start = new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int s = 0; s < scans; s++)
        {
            store.Observe(new ScanSnapshot(start + (interval * s), TimeSpan.FromMilliseconds(100), true, null, samples, [], [], null));
        }

        double observeMs = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds / scans;
        samples = [];
        dumps = [];
        long after = Collect();
        var (held, arrayBytes) = store.Footprint();
        Console.WriteLine($"fixtures {Directory.EnumerateDirectories(fixtures, "jdk*").Count()} captured JVM smaps dumps");
        Console.WriteLine($"processes {held}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"window_seconds {window.TotalSeconds} interval_seconds {interval.TotalSeconds} scans {scans} rows_per_process {store.Get(100_000)!.Rows}"));
        Console.WriteLine($"columns {HistoryColumns.Count}");
        Console.WriteLine($"managed_heap_bytes {after - before}");
        Console.WriteLine($"array_bytes {arrayBytes}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bytes_per_process {(after - before) / Math.Max(1, held)}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"observe_ms_per_scan {observeMs:F3}"));
        GC.KeepAlive(store);
        return 0;
    }

    private static long Collect()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
