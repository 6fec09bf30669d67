using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Everything kept about one process between scans, for as long as that process lives: it is keyed by PID and start
/// time (<see cref="ProcessStates"/>), so a reused PID gets a new one, and it is forgotten in one place when the
/// process goes. A one-off inspection (the report command) uses a fresh one.
/// </summary>
public sealed class ProcessState
{
    private readonly TimeProvider? _time;
    private ThreadStateCache? _threads;
    private ChunkProbes? _chunkProbes;
    private JemallocRootCache? _jemallocRoot;

    /// <param name="pid">The process.</param>
    /// <param name="startTicks">Its start time (stat's starttime): with the PID, who it is.</param>
    /// <param name="time">The clock of the chunk probes' re-checks (tests pass one they move).</param>
    public ProcessState(int pid, ulong startTicks, TimeProvider? time = null)
    {
        Pid = pid;
        StartTicks = startTicks;
        _time = time;
    }

    public int Pid { get; }

    public ulong StartTicks { get; }

    /// <summary>Whether libjvm.so is mapped: null until the process's maps were read.</summary>
    public bool? IsJvm { get; internal set; }

    /// <summary>The comm when the process was found not to be a JVM (an exec changes it: then it is read again).</summary>
    internal string? NotJvmComm { get; set; }

    /// <summary>When the process was found not to be a JVM (a native program may load libjvm.so later).</summary>
    internal DateTimeOffset NotJvmCheckedAt { get; set; }

    /// <summary>The process's name by <see cref="Parsing.AppNameResolver.Choose"/>: null until first resolved.</summary>
    public string? App { get; internal set; }

    /// <summary>True once <see cref="App"/> came from hsperfdata (final); before, each inspection looks for it there.</summary>
    internal bool AppFromPerfData { get; set; }

    /// <summary>The name a <c>java</c> command line gives, read once (null: not a java launcher, or not read yet).</summary>
    internal string? CommandLineName { get; set; }

    internal bool CommandLineRead { get; set; }

    /// <summary>The JVM's Java version, resolved once (<c>unknown</c> when no release file was found).</summary>
    public string? JvmVersion { get; internal set; }

    /// <summary>The last smaps or smaps_rollup read, whose resident figures the scans between reuse (<see cref="ScanCostControl"/>).</summary>
    internal ResidentRead? LastResident { get; set; }

    /// <summary>Why pagemap cannot give this process's resident figures (<see cref="PagemapFallbacks"/>), as its last read found; null: it can.</summary>
    internal string? PagemapUnsuitable { get; set; }

    /// <summary>How long the last smaps read and the last pagemap read of the process took (<see cref="ResidentMode.Auto"/> compares them).</summary>
    internal TimeSpan? SmapsCost { get; set; }

    internal TimeSpan? PagemapCost { get; set; }

    /// <summary>Where the process lives as its /proc/PID/cgroup last said (<see cref="ProcessInspector"/> says when it is read again).</summary>
    internal Cgroups.CgroupLocation? Cgroup { get; set; }

    /// <summary>Thread names and stack pointers from earlier exact inspections (made on first use: most processes a scan keeps are not reported).</summary>
    public ThreadStateCache Threads => _threads ??= new ThreadStateCache(_time);

    /// <summary>What earlier exact inspections found behind leftover VMAs (made on first use).</summary>
    public ChunkProbes ChunkProbes => _chunkProbes ??= new ChunkProbes(_time);

    /// <summary>Where an earlier exact inspection found jemalloc's page map (made on first use).</summary>
    public JemallocRootCache JemallocRoot => _jemallocRoot ??= new JemallocRootCache();
}

/// <summary>An expensive read's figures, kept for the scans that read only maps until the next one.</summary>
internal sealed record ResidentRead(MemoryReport Report, ResidentTotals Totals, DateTimeOffset At);
