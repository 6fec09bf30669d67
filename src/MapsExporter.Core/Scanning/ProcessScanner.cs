using System.Diagnostics;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Scans every process of a procfs: picks the JVMs (a mapped libjvm.so) and the selected native processes,
/// reports each one, and keeps going when one cannot be read. Processes are known by PID and start time, so a
/// reused PID is a new process. Not thread-safe: one scanner per scanning loop (it reuses its buffers).
/// </summary>
public sealed class ProcessScanner : IDisposable
{
    private readonly ProcFs _procFs;
    private readonly ProcessSelector _selector;
    private readonly bool _useSmaps;
    private readonly TimeProvider _time;
    private readonly ProcessInspector _inspector;
    private readonly ScanCostControl _cost;
    private readonly Dictionary<(int Pid, ulong Start), Known> _jvms = [];
    private readonly Dictionary<(int Pid, ulong Start), NotJvm> _notJvms = [];

    public ProcessScanner(ProcFs procFs, ProcessSelector selector, bool useSmaps = true, TimeProvider? time = null, ScanCostOptions? cost = null)
    {
        _procFs = procFs;
        _selector = selector;
        _useSmaps = useSmaps;
        _time = time ?? TimeProvider.System;
        _inspector = new ProcessInspector(procFs, _time);
        _cost = new ScanCostControl(procFs, cost, _time);
    }

    /// <summary>
    /// Reads every selected process once; <paramref name="cancellationToken"/> is checked between processes and
    /// between the chunks of every file read, so a cancelled scan throws <see cref="OperationCanceledException"/> promptly.
    /// </summary>
    public ScanSnapshot Scan(CancellationToken cancellationToken = default)
    {
        _inspector.Cancellation = cancellationToken;
        try
        {
            return ScanAll(cancellationToken);
        }
        finally
        {
            _inspector.Cancellation = CancellationToken.None;
        }
    }

    private ScanSnapshot ScanAll(CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string stat = _procFs.HostPath("stat");
        long bootTime;
        try
        {
            bootTime = ProcStatParser.ParseBootTime(File.ReadAllBytes(stat), stat);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ProcParseException)
        {
            return ScanSnapshot.Failed(_time.GetUtcNow(), Stopwatch.GetElapsedTime(started), $"{_procFs.Root} is not a readable procfs: {e.Message}");
        }

        var samples = new List<ProcessSample>();
        var errors = new List<ScanError>();
        var fallbacks = new List<string>();
        var exactUnavailable = new List<string>();
        var seen = new HashSet<(int, ulong)>();
        foreach (int pid in _procFs.EnumeratePids())
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool selected = false;
            try
            {
                ulong start = _inspector.ReadStartTimeTicks(pid);
                var key = (pid, start);
                seen.Add(key);
                Known? jvm = Select(pid, key);
                if (jvm is null)
                {
                    continue;
                }

                selected = true;
                CostControlledRead read = _cost.Read(_inspector, pid, start, _useSmaps, fallbacks.Add);
                MemoryReport report = read.Report;
                // Inspect already checked the start time after its reads; smaps_rollup is read after Inspect.
                if (read.Mode == ScanMode.Rollup && _inspector.ReadStartTimeTicks(pid) != start)
                {
                    throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} was replaced while it was read");
                }

                string? version = null;
                if (report.IsJvm)
                {
                    version = jvm.Version ??= JvmVersionResolver.Resolve(_procFs, pid, _inspector.Table) ?? "unknown";
                }

                if (_inspector.ExactMethodsUnavailable is { } why)
                {
                    exactUnavailable.Add(why);
                }

                samples.Add(new ProcessSample(report, start, bootTime + (start / ProcStatParser.ClockTicksPerSecond), version)
                {
                    Mode = read.Mode,
                    ReadDuration = read.Duration,
                    Totals = read.Totals,
                    ResidentReadAt = read.ResidentReadAt,
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
            catch (ProcParseException e)
            {
                // ProcessInspector.ReadStartTimeTicks reports a malformed stat this way.
                errors.Add(new ScanError(pid, ReadFailure.Parse, e.Message));
            }
            catch (Exception e) when (e is not (OutOfMemoryException or OperationCanceledException))
            {
                // A bug met on one process's data must not stop the scan of the others: counted, and logged by class.
                errors.Add(new ScanError(pid, ReadFailure.Io, $"process {pid}: unexpected {e.GetType().Name}: {e.Message}"));
            }
        }

        _jvms.Keys.Where(k => !seen.Contains(k)).ToList().ForEach(k => _jvms.Remove(k));
        _notJvms.Keys.Where(k => !seen.Contains(k)).ToList().ForEach(k => _notJvms.Remove(k));
        _cost.Retain(seen);
        HashSet<int> alive = seen.Select(k => k.Item1).ToHashSet();
        _inspector.Threads.Retain(alive);
        _inspector.ChunkProbes.Retain(alive);
        // A huge process read once (or gone) does not keep its buffer: the next scan's largest file decides.
        _inspector.TrimBuffers();
        return new ScanSnapshot(_time.GetUtcNow(), Stopwatch.GetElapsedTime(started), true, null, samples, errors, fallbacks, MaxMapCountReader.TryRead(_procFs))
        {
            ExactMethodsUnavailable = exactUnavailable,
        };
    }

    /// <summary>A selected process's entry (JVMs are remembered with their app name), or null to skip it.</summary>
    private Known? Select(int pid, (int, ulong) key)
    {
        if (_jvms.TryGetValue(key, out Known? known))
        {
            return known.Selected ? known : null;
        }

        if (IsJvm(pid, key, out string comm))
        {
            string app = AppNameResolver.FromJavaCommandLine(ReadSmall(pid, "cmdline")) ?? comm;
            known = new Known(_selector.SelectJvm(app));
            _jvms[key] = known;
            return known.Selected ? known : null;
        }

        return _selector.SelectsNative && _selector.SelectNative(comm) ? new Known(true) : null;
    }

    /// <summary>
    /// Whether libjvm.so is mapped. A process found not to be a JVM is not read again while its comm stays the same
    /// (an exec, such as a shell's <c>exec java</c>, keeps PID and start time but changes the comm), for at most
    /// <see cref="NotJvmRecheckInterval"/> (a native program may load libjvm.so later through JNI_CreateJavaVM).
    /// Reading maps takes the process's mmap lock and costs about a microsecond a mapping; comm costs neither.
    /// </summary>
    private bool IsJvm(int pid, (int, ulong) key, out string comm)
    {
        comm = Comm(pid);
        DateTimeOffset now = _time.GetUtcNow();
        if (_notJvms.TryGetValue(key, out NotJvm? notJvm) && notJvm.Comm == comm && now - notJvm.CheckedAt < NotJvmRecheckInterval)
        {
            return false;
        }

        if (_inspector.IsJvm(pid))
        {
            _notJvms.Remove(key);
            return true;
        }

        _notJvms[key] = new NotJvm(comm, now);
        return false;
    }

    /// <summary>Longest time a process found not to be a JVM goes without its maps being read again.</summary>
    public static TimeSpan NotJvmRecheckInterval { get; } = TimeSpan.FromMinutes(1);

    private string Comm(int pid) => AppNameResolver.Sanitize(ReadSmall(pid, "comm").AsSpan().TrimEnd((byte)'\n'));

    private byte[] ReadSmall(int pid, string file)
    {
        string path = _procFs.PidPath(pid, file);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException || (e is IOException && e.HResult == 3))
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited (no {path})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ProcessReadException(ReadFailure.Permission, $"cannot read {path}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new ProcessReadException(ReadFailure.Io, $"cannot read {path}: {e.Message}", e);
        }
    }

    public void Dispose()
    {
        _inspector.Dispose();
        _cost.Dispose();
    }

    private sealed record NotJvm(string Comm, DateTimeOffset CheckedAt);

    private sealed class Known(bool selected)
    {
        public bool Selected { get; } = selected;

        public string? Version { get; set; }
    }
}
