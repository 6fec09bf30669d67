using MapsExporter.Core.Classifying;

namespace MapsExporter.Core.Reporting;

/// <summary>
/// One process's figures over a bounded window, one row of longs per scan (<see cref="HistoryColumns"/>), kept in a
/// ring of one array: a scan costs no object, 200 processes over an hour at 15 s are 48,000 rows. The ring grows by
/// doubling up to its capacity, so a short-lived process never costs the full window. The first row ever recorded is
/// kept apart (the "first seen" figures outlive the window). Not thread-safe: the store that owns it locks.
/// </summary>
public sealed class ProcessHistory
{
    private const int InitialRows = 8;
    private readonly int _capacity;
    private readonly TimeSpan _window;
    private long[] _rows;
    private int _start;
    private int _count;

    public ProcessHistory(int pid, ulong startTimeTicks, TimeSpan window, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Pid = pid;
        StartTimeTicks = startTimeTicks;
        _window = window;
        _capacity = capacity;
        _rows = new long[Math.Min(capacity, InitialRows) * HistoryColumns.Count];
        First = new long[HistoryColumns.Count];
    }

    public int Pid { get; }

    /// <summary>The process's start time (clock ticks since boot): a reused PID is another process.</summary>
    public ulong StartTimeTicks { get; }

    /// <summary>Rows held now (at most the capacity, none older than the window before the newest).</summary>
    public int Count => _count;

    /// <summary>The first row ever recorded (its time is when the process was first seen); zeros before any.</summary>
    public long[] First { get; }

    /// <summary>Column <paramref name="column"/> of row <paramref name="row"/>, 0 the oldest held.</summary>
    public long this[int row, int column]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)row, (uint)_count, nameof(row));
            return _rows[(((_start + row) % Rows) * HistoryColumns.Count) + column];
        }
    }

    private int Rows => _rows.Length / HistoryColumns.Count;

    /// <summary>Appends a scan's figures of <paramref name="report"/> at <paramref name="time"/>, dropping rows older than the window.</summary>
    public void Add(DateTimeOffset time, MemoryReport report)
    {
        Span<long> row = stackalloc long[HistoryColumns.Count];
        HistoryColumns.Fill(row, time, report);
        Add(row);
    }

    public void Add(ReadOnlySpan<long> row)
    {
        if (row.Length != HistoryColumns.Count)
        {
            throw new ArgumentException($"a row has {HistoryColumns.Count} columns", nameof(row));
        }

        if (_count == 0 && First[HistoryColumns.Time] == 0)
        {
            row.CopyTo(First);
        }

        long oldest = row[HistoryColumns.Time] - (long)_window.TotalMilliseconds;
        while (_count > 0 && this[0, HistoryColumns.Time] < oldest)
        {
            _start = (_start + 1) % Rows;
            _count--;
        }

        if (_count == Rows && Rows < _capacity)
        {
            Grow();
        }

        if (_count == Rows)
        {
            // Full at capacity: the oldest row makes way.
            _start = (_start + 1) % Rows;
            _count--;
        }

        row.CopyTo(_rows.AsSpan(((_start + _count) % Rows) * HistoryColumns.Count, HistoryColumns.Count));
        _count++;
    }

    /// <summary>The rows held, oldest first, as one array of <see cref="Count"/> × <see cref="HistoryColumns.Count"/> longs.</summary>
    public long[] CopyRows()
    {
        var copy = new long[_count * HistoryColumns.Count];
        for (int i = 0; i < _count; i++)
        {
            _rows.AsSpan(((_start + i) % Rows) * HistoryColumns.Count, HistoryColumns.Count).CopyTo(copy.AsSpan(i * HistoryColumns.Count));
        }

        return copy;
    }

    /// <summary>One column of every row held, oldest first.</summary>
    public long[] CopyColumn(int column)
    {
        var copy = new long[_count];
        for (int i = 0; i < _count; i++)
        {
            copy[i] = this[i, column];
        }

        return copy;
    }

    /// <summary>Managed bytes this history holds (its arrays), for the benchmark.</summary>
    public long ArrayBytes => ((long)_rows.Length + First.Length) * sizeof(long);

    private void Grow()
    {
        var grown = new long[Math.Min(_capacity, Rows * 2) * HistoryColumns.Count];
        for (int i = 0; i < _count; i++)
        {
            _rows.AsSpan(((_start + i) % Rows) * HistoryColumns.Count, HistoryColumns.Count).CopyTo(grown.AsSpan(i * HistoryColumns.Count));
        }

        _rows = grown;
        _start = 0;
    }
}

/// <summary>
/// The columns of a <see cref="ProcessHistory"/> row. <see cref="Unknown"/> (long.MinValue) marks a figure the
/// scan did not have: resident sizes of a maps-only read, malloc figures of an unreadable or non-glibc process, a
/// cgroup without a limit.
/// </summary>
public static class HistoryColumns
{
    public const long Unknown = long.MinValue;

    /// <summary>The scan's time, Unix milliseconds.</summary>
    public const int Time = 0;

    /// <summary>Resident bytes of the first category; category c is at <c>ResidentFirst + c</c>.</summary>
    public const int ResidentFirst = 1;

    public const int ResidentTotal = ResidentFirst + RegionCategories.Count;
    public const int VirtualTotal = ResidentTotal + 1;
    public const int LibcArenas = VirtualTotal + 1;
    public const int MallocInUse = LibcArenas + 1;
    public const int MallocFree = MallocInUse + 1;
    public const int MallocReleasable = MallocFree + 1;
    public const int MallocMmapped = MallocReleasable + 1;
    public const int Threads = MallocMmapped + 1;
    public const int ThreadStacks = Threads + 1;
    public const int Mappings = ThreadStacks + 1;
    public const int CgroupUsage = Mappings + 1;
    public const int CgroupLimit = CgroupUsage + 1;
    public const int HeapMax = CgroupLimit + 1;
    public const int HeapCommitted = HeapMax + 1;
    public const int Count = HeapCommitted + 1;

    public static int Resident(RegionCategory category) => ResidentFirst + (int)category;

    /// <summary>Every column but the categories', by the name the history API gives it.</summary>
    public static IReadOnlyList<(string Name, int Column)> Named { get; } =
    [
        ("resident_bytes", ResidentTotal), ("virtual_bytes", VirtualTotal), ("libc_arenas", LibcArenas),
        ("malloc_in_use_bytes", MallocInUse), ("malloc_free_bytes", MallocFree), ("malloc_releasable_bytes", MallocReleasable),
        ("malloc_mmapped_bytes", MallocMmapped), ("threads", Threads), ("thread_stacks", ThreadStacks), ("mappings", Mappings),
        ("cgroup_memory_usage_bytes", CgroupUsage), ("cgroup_memory_limit_bytes", CgroupLimit),
        ("java_heap_max_bytes", HeapMax), ("java_heap_committed_bytes", HeapCommitted),
    ];

    /// <summary>Writes <paramref name="report"/>'s figures at <paramref name="time"/> into <paramref name="row"/>.</summary>
    public static void Fill(Span<long> row, DateTimeOffset time, MemoryReport report)
    {
        row[Time] = time.ToUnixTimeMilliseconds();
        foreach (RegionCategory category in RegionCategories.All)
        {
            row[Resident(category)] = Or(report.ResidentKnown ? report[category].ResidentBytes : null);
        }

        CategoryTotals total = report.Total;
        row[ResidentTotal] = Or(report.ResidentKnown ? total.ResidentBytes : null);
        row[VirtualTotal] = total.VirtualBytes;
        row[LibcArenas] = report.LibcArenas;
        row[MallocInUse] = Or(report.Malloc?.InUseBytes);
        row[MallocFree] = Or(report.Malloc?.FreeBytes);
        row[MallocReleasable] = Or(report.Malloc?.ReleasableBytes);
        row[MallocMmapped] = Or(report.Malloc?.MmappedBytes);
        row[Threads] = Or(report.Threads);
        row[ThreadStacks] = report.ThreadStacks;
        row[Mappings] = report.Mappings;
        row[CgroupUsage] = Or(report.Cgroup?.Memory?.UsageBytes);
        row[CgroupLimit] = Or(report.Cgroup?.Memory?.LimitBytes);
        row[HeapMax] = Or(Cgroups.MemoryHeadroom.HeapMaxBytes(report));
        row[HeapCommitted] = Or(report.Jvm?.HeapCommittedBytes);
    }

    private static long Or(long? value) => value ?? Unknown;
}
