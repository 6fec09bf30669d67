using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Scanning;
using MapsExporter.Web;
using Microsoft.Extensions.Options;

namespace MapsExporter.MemoryConsole;

/// <summary>
/// Every reported process's figures over the last <c>--web.history</c>, one <see cref="ProcessHistory"/> per process,
/// fed by each completed scan (<see cref="IScanObserver"/>) and read by the console's pages and API. A process that is
/// gone from a successful scan is forgotten with its history; one that could not be read this time (other than
/// vanished) keeps it; a failed scan changes nothing. One lock: the scan thread writes, request threads copy out.
/// </summary>
internal sealed class HistoryStore : IScanObserver
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, ProcessHistory> _byPid = [];

    public HistoryStore(IOptions<WebOptions> web, IOptions<ScanOptions> scan)
        : this(web.Value.HistoryValue, scan.Value.IntervalValue)
    {
    }

    public HistoryStore(TimeSpan window, TimeSpan interval)
    {
        Window = window;
        // One row per scan over the window, and the row at its start; scans late by a timer's slip are dropped by time.
        Capacity = (int)Math.Clamp(Math.Ceiling(window / interval) + 1, 2, int.MaxValue / HistoryColumns.Count);
    }

    public TimeSpan Window { get; }

    /// <summary>Most rows a process's history holds.</summary>
    public int Capacity { get; }

    public void Observe(ScanSnapshot snapshot)
    {
        if (!snapshot.Success)
        {
            return;
        }

        lock (_lock)
        {
            var keep = new HashSet<int>();
            foreach (ProcessSample sample in snapshot.Processes)
            {
                if (!_byPid.TryGetValue(sample.Pid, out ProcessHistory? history) || history.StartTimeTicks != sample.StartTimeTicks)
                {
                    history = new ProcessHistory(sample.Pid, sample.StartTimeTicks, Window, Capacity);
                    _byPid[sample.Pid] = history;
                }

                history.Add(snapshot.Timestamp, sample.Report);
                keep.Add(sample.Pid);
            }

            foreach (ScanError error in snapshot.Errors)
            {
                if (error.Reason != ReadFailure.Vanished)
                {
                    keep.Add(error.Pid);
                }
            }

            foreach (int pid in _byPid.Keys.Where(pid => !keep.Contains(pid)).ToList())
            {
                _byPid.Remove(pid);
            }
        }
    }

    /// <summary>A copy of the rows held for <paramref name="pid"/> (oldest first), or null when it has none.</summary>
    public HistoryWindow? Get(int pid)
    {
        lock (_lock)
        {
            return _byPid.TryGetValue(pid, out ProcessHistory? h) ? new HistoryWindow(h.CopyRows(), (long[])h.First.Clone(), Window) : null;
        }
    }

    /// <summary>Each process's resident totals over the window (oldest first), for the landing page and the list.</summary>
    public Dictionary<int, long[]> ResidentTotals()
    {
        lock (_lock)
        {
            return _byPid.ToDictionary(p => p.Key, p => p.Value.CopyColumn(HistoryColumns.ResidentTotal));
        }
    }

    /// <summary>Processes held and the bytes of their arrays (the benchmark's check on the measured heap).</summary>
    public (int Processes, long ArrayBytes) Footprint()
    {
        lock (_lock)
        {
            return (_byPid.Count, _byPid.Values.Sum(h => h.ArrayBytes));
        }
    }
}

/// <summary>A copy of one process's rows: <see cref="Rows"/> × <see cref="HistoryColumns.Count"/> longs, oldest first.</summary>
internal sealed class HistoryWindow(long[] rows, long[] first, TimeSpan window)
{
    public int Rows { get; } = rows.Length / HistoryColumns.Count;

    public long[] First { get; } = first;

    public TimeSpan Window { get; } = window;

    public long this[int row, int column] => rows[(row * HistoryColumns.Count) + column];

    public long[] Column(int column)
    {
        var values = new long[Rows];
        for (int i = 0; i < Rows; i++)
        {
            values[i] = this[i, column];
        }

        return values;
    }

    /// <summary>Newest minus oldest of a column over the window; null when either is unknown or there is one row.</summary>
    public long? Change(int column) => Rows < 2 || this[0, column] == HistoryColumns.Unknown || this[Rows - 1, column] == HistoryColumns.Unknown
        ? null
        : this[Rows - 1, column] - this[0, column];

    /// <summary>Newest minus oldest of a column of <paramref name="values"/> (a <see cref="HistoryStore.ResidentTotals"/> entry).</summary>
    public static long? Change(long[] values) =>
        values.Length < 2 || values[0] == HistoryColumns.Unknown || values[^1] == HistoryColumns.Unknown ? null : values[^1] - values[0];
}
