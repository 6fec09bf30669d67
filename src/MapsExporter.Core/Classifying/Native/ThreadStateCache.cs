using System.Globalization;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// One process's threads as earlier inspections saw them, so that a scan does not re-read two files per thread each
/// time. It belongs to the process's state (<see cref="Scanning.ProcessState"/>, keyed by PID and start time: a
/// reused PID starts empty, and it is forgotten with the process). For each thread it keeps the folded name and the
/// last non-zero stack pointer:
/// <list type="bullet">
/// <item><c>syscall</c> is read for a thread first seen, or whose stack pointer is unknown (it was running), or whose
/// known stack pointer no longer lies inside a mapping of the current table. A live thread's stack never moves (glibc
/// reuses a freed stack only for a new thread, which has a new TID), so a known one stays right.</item>
/// <item><c>comm</c> is read when a thread is first seen, and again once its name has been cached for
/// <see cref="NameRefreshInspections"/> inspections of its process and <see cref="NameRefreshInterval"/> (HotSpot and
/// applications rename threads after they start): a new name shows within 8 scans or 2 minutes, whichever is later
/// (the same at the default 15 s interval; at 1 s scans 100 JVM threads cost one comm read a second, not 12). The
/// refreshes are spread over the inspections by TID, not all at once.</item>
/// <item>Threads gone from <c>task/</c> are dropped at each inspection.</item>
/// </list>
/// </summary>
public sealed class ThreadStateCache
{
    /// <summary>A cached thread name is read again after this many inspections of its process.</summary>
    public const int NameRefreshInspections = 8;

    /// <summary>A cached thread name is read again no sooner than this after it was read.</summary>
    public static readonly TimeSpan NameRefreshInterval = TimeSpan.FromMinutes(2);

    private readonly TimeProvider _time;

    private readonly Dictionary<int, ThreadState> _threads = [];
    private readonly List<int> _tids = [];
    private int _inspections;

    /// <param name="time">The clock of the name refreshes (tests pass one they move).</param>
    public ThreadStateCache(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Threads held (for tests and bounds).</summary>
    public int ThreadCount => _threads.Count;

    /// <summary>How many comm and syscall files the last <see cref="Sample"/> read (for tests and the benchmark).</summary>
    public (int Comm, int Syscall) LastReads { get; private set; }

    /// <summary>
    /// Fills <paramref name="samples"/> with the threads of <paramref name="pid"/> and returns the number of tasks
    /// listed. <paramref name="table"/> is the process's current mappings. Throws
    /// <see cref="DirectoryNotFoundException"/> when the process has gone.
    /// </summary>
    public int Sample(ProcFs procFs, int pid, MappingTable table, ProcFileReader reader, List<ThreadSample> samples)
    {
        samples.Clear();
        _inspections++;
        string taskDirectory = procFs.PidPath(pid, "task");
        ProcFs.ListTasks(taskDirectory, _tids);
        int comms = 0, syscalls = 0;
        long now = _time.GetTimestamp();
        long refreshTicks = (long)(NameRefreshInterval.TotalSeconds * _time.TimestampFrequency);
        ReadOnlySpan<Mapping> mappings = table.Items;
        foreach (int tid in _tids)
        {
            _threads.TryGetValue(tid, out ThreadState state);
            bool known = state.Group is not null;
            bool nameStale = !known || (_inspections - state.NameRead >= NameRefreshInspections && now - state.NameReadAt >= refreshTicks);
            bool spStale = !known || state.StackPointer == 0 || Classification.IndexOf(mappings, state.StackPointer) < 0;
            if (nameStale || spStale)
            {
                string task = $"{taskDirectory}/{tid.ToString(CultureInfo.InvariantCulture)}";
                try
                {
                    if (nameStale)
                    {
                        state.Group = ThreadGroupName.Fold(reader.ReadAll($"{task}/comm").TrimEnd((byte)'\n'));
                        // Spread the refreshes: a thread first seen is due again after 1 to N inspections, then every N.
                        state.NameRead = known ? _inspections : _inspections - (tid % NameRefreshInspections);
                        state.NameReadAt = known ? now : now - (refreshTicks / NameRefreshInspections * (tid % NameRefreshInspections));
                        comms++;
                    }

                    if (spStale)
                    {
                        state.StackPointer = ReadStackPointer(reader, task);
                        syscalls++;
                    }
                }
                catch (IOException)
                {
                    // The thread exited while we listed them (its directory or files gone, or ESRCH).
                    _threads.Remove(tid);
                    continue;
                }
            }

            state.Inspection = _inspections;
            _threads[tid] = state;
            samples.Add(new ThreadSample(tid, state.Group!, state.StackPointer));
        }

        if (_threads.Count > samples.Count)
        {
            // Exited threads: not listed this time.
            foreach ((int tid, ThreadState state) in _threads)
            {
                if (state.Inspection != _inspections)
                {
                    _threads.Remove(tid);
                }
            }
        }

        LastReads = (comms, syscalls);
        return _tids.Count;
    }

    private static ulong ReadStackPointer(ProcFileReader reader, string task)
    {
        try
        {
            return ThreadSampler.ParseStackPointer(reader.ReadAll($"{task}/syscall"));
        }
        catch (UnauthorizedAccessException)
        {
            // No ptrace-attach permission: no stack pointer; the classifier falls back and counts it.
            return 0;
        }
    }

    private struct ThreadState
    {
        public string? Group;
        public ulong StackPointer;
        public int NameRead;
        public long NameReadAt;
        public int Inspection;
    }
}
