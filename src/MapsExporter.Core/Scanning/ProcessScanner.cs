using System.Diagnostics;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Scans every process of a procfs: picks the JVMs (a mapped libjvm.so) and the selected native processes,
/// reports each one, and keeps going when one cannot be read. One way through, per process: its stat (identity),
/// its state (<see cref="ProcessStates"/>), selection by its name, the cost control's plan, one inspection, the
/// plan's completion. Not thread-safe: one scanner per scanning loop (it reuses its buffers).
/// </summary>
public sealed class ProcessScanner : IDisposable
{
    private readonly ProcFs _procFs;
    private readonly ProcessSelector _selector;
    private readonly bool _useSmaps;
    private readonly TimeProvider _time;
    private readonly ProcessFiles _files;
    private readonly ProcessInspector _inspector;
    private readonly ScanCostControl _cost;
    private readonly ProcessCgroupReader _cgroups;

    // What is kept of each process between scans.
    private readonly ProcessStates _states;

    /// <summary>A scanner of <paramref name="procFs"/>'s processes; <paramref name="cgroupFs"/>: where their cgroups are read (null: /sys/fs/cgroup).</summary>
    public ProcessScanner(ProcFs procFs, ProcessSelector selector, bool useSmaps = true, TimeProvider? time = null, ScanCostOptions? cost = null, CgroupFs? cgroupFs = null)
    {
        _procFs = procFs;
        _selector = selector;
        _useSmaps = useSmaps;
        _time = time ?? TimeProvider.System;
        _files = new ProcessFiles(procFs);
        _cgroups = new ProcessCgroupReader(_files, cgroupFs ?? new CgroupFs());
        _inspector = new ProcessInspector(_files, _time, _cgroups);
        _cost = new ScanCostControl(cost, _time);
        _states = new ProcessStates(_time);
    }

    /// <summary>Longest time a process found not to be a JVM goes without its maps being read again.</summary>
    public static TimeSpan NotJvmRecheckInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Reads every selected process once; <paramref name="cancellationToken"/> is checked between processes and
    /// between the chunks of every file read, so a cancelled scan throws <see cref="OperationCanceledException"/> promptly.
    /// </summary>
    public ScanSnapshot Scan(CancellationToken cancellationToken = default)
    {
        _files.Cancellation = cancellationToken;
        try
        {
            return ScanAll(cancellationToken);
        }
        finally
        {
            _files.Cancellation = CancellationToken.None;
        }
    }

    private ScanSnapshot ScanAll(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        long bootTime;
        try
        {
            string stat = _procFs.HostPath("stat");
            bootTime = ProcStatParser.ParseBootTime(_files.Reader.ReadAll(stat), stat);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e) || e is ProcParseException)
        {
            return ScanSnapshot.Failed(_time.GetUtcNow(), Stopwatch.GetElapsedTime(started), $"{_procFs.Root} is not a readable procfs: {e.Message}");
        }

        var samples = new List<ProcessSample>();
        var errors = new List<ScanError>();
        var fallbacks = new List<string>();
        var exactUnavailable = new List<string>();
        var seen = new HashSet<(int, ulong)>();
        _cgroups.BeginScan();
        foreach (int pid in _procFs.EnumeratePids())
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool selected = false;
            try
            {
                ProcStat stat = _files.ReadStat(pid);
                seen.Add((pid, stat.StartTicks));
                ProcessState state = _states.For(pid, stat.StartTicks);
                if (!Select(pid, stat, state))
                {
                    continue;
                }

                selected = true;
                ScanMode plan = _cost.Plan(state, _useSmaps, () => _files.ReadResidentBytes(pid));
                InspectionResult result = _cost.Complete(state, _inspector.Inspect(pid, new InspectRequest { Mode = plan, State = state, Stat = stat }));
                fallbacks.AddRange(result.Warnings);
                if (result.CgroupProblem is { } cgroupProblem)
                {
                    // Reported all the same, with the labels that could be filled.
                    errors.Add(new ScanError(pid, ReadFailure.Cgroup, $"process {pid}: {cgroupProblem}"));
                }

                if (result.ExactMethodsUnavailable is { } why)
                {
                    exactUnavailable.Add(why);
                }

                samples.Add(new ProcessSample(result.Report, stat.StartTicks, bootTime + (stat.StartTicks / ProcStatParser.ClockTicksPerSecond), result.JvmVersion)
                {
                    Mode = result.Mode,
                    ReadDuration = result.Duration,
                    Totals = result.Totals,
                    ResidentReadAt = result.ResidentReadAt,
                    ProportionalReadAt = result.ProportionalReadAt,
                    PagemapFallback = result.PagemapFallback,
                    ResidentErrorBoundBytes = result.ResidentErrorBoundBytes,
                });
            }
            catch (ProcessReadException e) when (e.Reason == ReadFailure.Vanished && !selected)
            {
                // PIDs vanish between listing and reading all the time (short-lived commands): not an error.
            }
            catch (ProcessReadException e)
            {
                errors.Add(new ScanError(pid, e.Reason, e.Message));
            }
            catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
            {
                // A bug met on one process's data must not stop the scan of the others: counted, and logged by class.
                errors.Add(new ScanError(pid, ReadFailure.Io, $"process {pid}: unexpected {e.GetType().Name}: {e.Message}"));
            }
        }

        _states.Retain(seen);
        // A huge process read once (or gone) does not keep its buffer: the next scan's largest file decides.
        _files.TrimBuffers();
        return new ScanSnapshot(_time.GetUtcNow(), Stopwatch.GetElapsedTime(started), true, null, samples, errors, fallbacks, MaxMapCountReader.TryRead(_procFs, _files.Reader))
        {
            ExactMethodsUnavailable = exactUnavailable,
        };
    }

    /// <summary>Whether to report the process: a JVM selected by its name (the same name it is published with), or a selected native process.</summary>
    private bool Select(int pid, ProcStat stat, ProcessState state)
    {
        if (IsJvm(pid, stat, state))
        {
            return _selector.SelectJvm(state.App ?? _inspector.Name(pid, stat, state));
        }

        return _selector.SelectsNative && _selector.SelectNative(stat.Comm);
    }

    /// <summary>
    /// Whether libjvm.so is mapped. A process found not to be a JVM is not read again while its comm stays the same
    /// (an exec, such as a shell's <c>exec java</c>, keeps PID and start time but changes the comm), for at most
    /// <see cref="NotJvmRecheckInterval"/> (a native program may load libjvm.so later through JNI_CreateJavaVM).
    /// Reading maps takes the process's mmap lock and costs about a microsecond a mapping; stat costs neither.
    /// </summary>
    private bool IsJvm(int pid, ProcStat stat, ProcessState state)
    {
        if (state.IsJvm == true)
        {
            return true;
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (state.IsJvm == false && state.NotJvmComm == stat.Comm && now - state.NotJvmCheckedAt < NotJvmRecheckInterval)
        {
            return false;
        }

        state.IsJvm = _inspector.IsJvm(pid);
        (state.NotJvmComm, state.NotJvmCheckedAt) = state.IsJvm == true ? (null, default) : (stat.Comm, now);
        return state.IsJvm == true;
    }

    public void Dispose()
    {
        _inspector.Dispose();
        _files.Dispose();
    }
}
