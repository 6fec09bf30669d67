using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.MemoryConsole;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>The console's history: the ring of rows per process and the store fed by scans, on reports of captured fixtures.</summary>
public sealed class HistoryStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 9, 0, 0, TimeSpan.Zero);

    /// <summary>A real report (a captured smaps dump's) as process <paramref name="pid"/>.</summary>
    private static MemoryReport Report(int pid, string fixture = "jdk17-g1-xmx512m-t20")
    {
        MemoryReport dump = DumpReader.Read(RepoPaths.Fixture(fixture, "smaps"), new MappingTable(), new Classification());
        return new MemoryReport([.. dump.Categories])
        {
            Pid = pid, App = dump.App, IsJvm = dump.IsJvm, ResidentKnown = true, ResidentSource = dump.ResidentSource, Source = dump.Source,
            LibcArenas = dump.LibcArenas, ThreadStacks = dump.ThreadStacks, Mappings = dump.Mappings,
        };
    }

    private static ScanSnapshot Scan(DateTimeOffset at, IEnumerable<ProcessSample> processes, IEnumerable<ScanError>? errors = null) =>
        new(at, TimeSpan.FromMilliseconds(10), true, null, [.. processes], [.. errors ?? []], [], null);

    [Fact]
    public void A_row_holds_the_reports_figures_and_unknown_where_the_scan_had_none()
    {
        MemoryReport report = Report(7);
        var row = new long[HistoryColumns.Count];
        HistoryColumns.Fill(row, T0, report);
        Assert.Equal(T0.ToUnixTimeMilliseconds(), row[HistoryColumns.Time]);
        Assert.Equal(report[RegionCategory.JavaHeap].ResidentBytes, row[HistoryColumns.Resident(RegionCategory.JavaHeap)]);
        Assert.Equal(report.Total.ResidentBytes, row[HistoryColumns.ResidentTotal]);
        Assert.Equal(report.Mappings, row[HistoryColumns.Mappings]);
        Assert.Equal(HistoryColumns.Unknown, row[HistoryColumns.Threads]);
        Assert.Equal(HistoryColumns.Unknown, row[HistoryColumns.MallocInUse]);
        Assert.Equal(HistoryColumns.Unknown, row[HistoryColumns.CgroupLimit]);

        // A maps-only read: no resident figures, but the layout's.
        MemoryReport maps = DumpReader.Read(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "maps"), new MappingTable(), new Classification());
        HistoryColumns.Fill(row, T0, maps);
        Assert.Equal(HistoryColumns.Unknown, row[HistoryColumns.ResidentTotal]);
        Assert.Equal(HistoryColumns.Unknown, row[HistoryColumns.Resident(RegionCategory.JavaHeap)]);
        Assert.Equal(maps.Total.VirtualBytes, row[HistoryColumns.VirtualTotal]);
    }

    [Fact]
    public void The_ring_keeps_the_last_capacity_rows_oldest_first_and_the_first_row_ever()
    {
        var history = new ProcessHistory(7, 1, TimeSpan.FromDays(1), capacity: 20);
        var row = new long[HistoryColumns.Count];
        for (int i = 0; i < 50; i++)
        {
            row[HistoryColumns.Time] = T0.AddSeconds(i).ToUnixTimeMilliseconds();
            row[HistoryColumns.ResidentTotal] = 1000 + i;
            history.Add(row);
        }

        Assert.Equal(20, history.Count);
        Assert.Equal(Enumerable.Range(30, 20).Select(i => 1000L + i), history.CopyColumn(HistoryColumns.ResidentTotal));
        Assert.Equal(1000, history.First[HistoryColumns.ResidentTotal]);
        Assert.Equal(20L * HistoryColumns.Count * sizeof(long), history.ArrayBytes - (HistoryColumns.Count * sizeof(long)));
    }

    [Fact]
    public void Rows_older_than_the_window_are_dropped_and_a_young_process_costs_a_few_rows()
    {
        var history = new ProcessHistory(7, 1, TimeSpan.FromMinutes(1), capacity: 241);
        var row = new long[HistoryColumns.Count];
        for (int i = 0; i < 10; i++)
        {
            row[HistoryColumns.Time] = T0.AddSeconds(15 * i).ToUnixTimeMilliseconds();
            row[HistoryColumns.ResidentTotal] = i;
            history.Add(row);
        }

        // 0..135 s: the window of 60 s before the newest holds 75..135 s.
        Assert.Equal([5L, 6, 7, 8, 9], history.CopyColumn(HistoryColumns.ResidentTotal));
        Assert.True(history.ArrayBytes < 241 * HistoryColumns.Count * sizeof(long) / 4, $"{history.ArrayBytes} bytes for 5 rows");
    }

    [Fact]
    public void The_store_records_each_scan_forgets_processes_gone_keeps_unreadable_ones_and_restarts_a_reused_pid()
    {
        var store = new HistoryStore(TimeSpan.FromHours(1), TimeSpan.FromSeconds(15));
        Assert.Equal(241, store.Capacity);
        MemoryReport a = Report(100), b = Report(200, "jdk17-g1-xss8m-t20");
        store.Observe(Scan(T0, [new ProcessSample(a, 1, 0, null), new ProcessSample(b, 2, 0, null)]));
        store.Observe(Scan(T0.AddSeconds(15), [new ProcessSample(a, 1, 0, null), new ProcessSample(b, 2, 0, null)]));
        Assert.Equal(2, store.Get(100)!.Rows);
        Assert.Equal(0, store.Get(100)!.Change(HistoryColumns.ResidentTotal));

        // A failed scan changes nothing; 200 unreadable (permission) keeps its history, 100 vanished loses it.
        store.Observe(ScanSnapshot.Failed(T0.AddSeconds(30), TimeSpan.Zero, "procfs gone"));
        store.Observe(Scan(T0.AddSeconds(45), [], [new ScanError(200, ReadFailure.Permission, "denied"), new ScanError(100, ReadFailure.Vanished, "gone")]));
        Assert.Null(store.Get(100));
        Assert.Equal(2, store.Get(200)!.Rows);

        // PID 200 again, another start time: another process, a history of its own.
        store.Observe(Scan(T0.AddSeconds(60), [new ProcessSample(b, 3, 0, null)]));
        Assert.Equal(1, store.Get(200)!.Rows);
        Assert.Equal(T0.AddSeconds(60).ToUnixTimeMilliseconds(), store.Get(200)!.First[HistoryColumns.Time]);
        Assert.Equal([200], store.ResidentTotals().Keys);
    }
}
