using System.Globalization;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Samples the threads of processes inspected again and again (the daemon's scans) without re-reading two files per
/// thread each time. Per process, keyed by PID and start time (a reused PID starts empty), it keeps each thread's
/// folded name and last non-zero stack pointer:
/// <list type="bullet">
/// <item><c>syscall</c> is read for a thread first seen, or whose stack pointer is unknown (it was running), or whose
/// known stack pointer no longer lies inside a mapping of the current table. A live thread's stack never moves (glibc
/// reuses a freed stack only for a new thread, which has a new TID), so a known one stays right.</item>
/// <item><c>comm</c> is read when a thread is first seen, and again once its name has been cached for
/// <see cref="NameRefreshInspections"/> inspections of its process (HotSpot and applications rename threads after
/// they start): a new name shows within that many inspections, 8 scans (2 minutes at the default 15 s interval).
/// The refreshes are spread over the inspections by TID, not all at once.</item>
/// <item>Threads gone from <c>task/</c> are dropped at each inspection; processes not inspected for
/// <see cref="ForgetAfter"/> are dropped.</item>
/// </list>
/// </summary>
public sealed class ThreadStateCache
{
    /// <summary>A cached thread name is read again after this many inspections of its process.</summary>
    public const int NameRefreshInspections = 8;

    /// <summary>A process not inspected for this long is forgotten.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromMinutes(10);

    private readonly Dictionary<int, ProcessThreads> _processes = [];
    private readonly List<int> _tids = [];
    private long _lastPrune = Environment.TickCount64;

    /// <summary>Processes held (for tests and bounds).</summary>
    public int ProcessCount => _processes.Count;

    /// <summary>Threads held for <paramref name="pid"/>.</summary>
    public int ThreadCount(int pid) => _processes.TryGetValue(pid, out ProcessThreads? p) ? p.Threads.Count : 0;

    /// <summary>How many comm and syscall files the last <see cref="Sample"/> read (for tests and the benchmark).</summary>
    public (int Comm, int Syscall) LastReads { get; private set; }

    /// <summary>
    /// Fills <paramref name="samples"/> with the threads of <paramref name="pid"/> (started at <paramref name="startTicks"/>)
    /// and returns the number of tasks listed. <paramref name="table"/> is the process's current mappings.
    /// Throws <see cref="DirectoryNotFoundException"/> when the process has gone.
    /// </summary>
    public int Sample(ProcFs procFs, int pid, ulong startTicks, MappingTable table, ProcFileReader reader, List<ThreadSample> samples)
    {
        samples.Clear();
        PruneProcesses();
        if (!_processes.TryGetValue(pid, out ProcessThreads? process) || process.StartTicks != startTicks)
        {
            process = new ProcessThreads(startTicks);
            _processes[pid] = process;
        }

        process.Inspections++;
        process.LastUsed = Environment.TickCount64;
        string taskDirectory = procFs.PidPath(pid, "task");
        ProcFs.ListTasks(taskDirectory, _tids);
        int comms = 0, syscalls = 0;
        ReadOnlySpan<Mapping> mappings = table.Items;
        foreach (int tid in _tids)
        {
            process.Threads.TryGetValue(tid, out ThreadState state);
            bool known = state.Group is not null;
            bool nameStale = !known || process.Inspections - state.NameRead >= NameRefreshInspections;
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
                        state.NameRead = known ? process.Inspections : process.Inspections - (tid % NameRefreshInspections);
                        comms++;
                    }

                    if (spStale)
                    {
                        state.StackPointer = ReadStackPointer(reader, task);
                        syscalls++;
                    }
                }
                catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
                {
                    // The thread exited while we listed them.
                    process.Threads.Remove(tid);
                    continue;
                }
            }

            state.Inspection = process.Inspections;
            process.Threads[tid] = state;
            samples.Add(new ThreadSample(tid, state.Group!, state.StackPointer));
        }

        if (process.Threads.Count > samples.Count)
        {
            // Exited threads: not listed this time.
            foreach ((int tid, ThreadState state) in process.Threads)
            {
                if (state.Inspection != process.Inspections)
                {
                    process.Threads.Remove(tid);
                }
            }
        }

        LastReads = (comms, syscalls);
        return _tids.Count;
    }

    /// <summary>Drops what is held for <paramref name="pid"/>.</summary>
    public void Forget(int pid) => _processes.Remove(pid);

    /// <summary>Drops every process whose PID is not in <paramref name="alive"/> (a scan's listing), without waiting for <see cref="ForgetAfter"/>.</summary>
    public void Retain(IReadOnlySet<int> alive)
    {
        foreach (int pid in _processes.Keys)
        {
            if (!alive.Contains(pid))
            {
                _processes.Remove(pid);
            }
        }
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

    private void PruneProcesses()
    {
        long now = Environment.TickCount64;
        if (now - _lastPrune < 30_000)
        {
            return;
        }

        _lastPrune = now;
        foreach ((int pid, ProcessThreads process) in _processes)
        {
            if (now - process.LastUsed >= (long)ForgetAfter.TotalMilliseconds)
            {
                _processes.Remove(pid);
            }
        }
    }

    private sealed class ProcessThreads(ulong startTicks)
    {
        public ulong StartTicks { get; } = startTicks;
        public Dictionary<int, ThreadState> Threads { get; } = [];
        public int Inspections { get; set; }
        public long LastUsed { get; set; }
    }

    private struct ThreadState
    {
        public string? Group;
        public ulong StackPointer;
        public int NameRead;
        public int Inspection;
    }
}
