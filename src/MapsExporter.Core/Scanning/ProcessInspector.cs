using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;

namespace MapsExporter.Core.Scanning;

/// <summary>
/// Reads, classifies and reports live processes through a <see cref="ProcFs"/>. One instance keeps its buffers
/// and tables between calls (no per-mapping allocation in steady state); it is not thread-safe.
/// </summary>
public sealed class ProcessInspector : IDisposable
{
    private readonly ProcFs _procFs;
    private readonly ProcFileReader _reader = new();
    private readonly List<ThreadSample> _threadSamples = [];

    /// <param name="procFs">Where the processes are read.</param>
    /// <param name="time">The clock of <see cref="ChunkProbes"/>' re-checks (tests pass one they move).</param>
    public ProcessInspector(ProcFs procFs, TimeProvider? time = null)
    {
        _procFs = procFs;
        ChunkProbes = new ChunkProbeCache(time);
    }

    /// <summary>Checked before every read() of a /proc file: set it to stop a long read (a huge smaps) part-way.</summary>
    public CancellationToken Cancellation
    {
        get => _reader.Cancellation;
        set => _reader.Cancellation = value;
    }

    /// <summary>The mappings of the last process read; valid until the next call.</summary>
    public MappingTable Table { get; } = new();

    /// <summary>The classification of <see cref="Table"/>.</summary>
    public Classification Classification { get; } = new();

    /// <summary>
    /// Thread names and stack pointers kept between exact inspections of the same process (PID and start time), so
    /// a scan does not re-read every thread's <c>comm</c> and <c>syscall</c>; a fresh inspector reads them all.
    /// </summary>
    public ThreadStateCache Threads { get; } = new();

    /// <summary>
    /// What exact inspections of the same process found behind its leftover VMAs, so a scan does not search the same
    /// VMAs page by page again; a fresh inspector searches them all.
    /// </summary>
    public ChunkProbeCache ChunkProbes { get; }

    /// <summary>How many reads of the process's memory the last exact <see cref="Inspect"/> made (for tests and the benchmark).</summary>
    public int LastMemoryReads { get; private set; }

    /// <summary>
    /// Why the last <see cref="Inspect"/> could not use an exact method (the process's memory, or the JVM's
    /// hsperfdata; a permission names the capability missing), or null when it could use them all or was not asked to.
    /// </summary>
    public string? ExactMethodsUnavailable { get; private set; }

    /// <summary>Cheap test for a JVM: reads maps (no page-table walk, unlike smaps) and looks for libjvm.so.</summary>
    public bool IsJvm(int pid)
    {
        ReadOnlySpan<byte> maps = Read(pid, "maps");
        return JvmDetector.MapsTextHasLibJvm(maps);
    }

    public ulong ReadStartTimeTicks(int pid) => ProcStatParser.ParseStartTimeTicks(Read(pid, "stat"), _procFs.PidPath(pid, "stat"));

    /// <summary>
    /// Reads /proc/PID/smaps (or maps when <paramref name="useSmaps"/> is false or smaps cannot be read, then
    /// <paramref name="warn"/> is told why) and reports it. A start time the caller read already (a scan keys
    /// processes on it) is passed in and not read again; the process is checked not to have been replaced.
    /// </summary>
    public MemoryReport Inspect(int pid, bool useSmaps = true, Action<string>? warn = null, bool exact = true, ulong? expectedStartTicks = null)
    {
        ExactMethodsUnavailable = null;
        LastMemoryReads = 0;
        ulong startTicks = expectedStartTicks ?? ReadStartTimeTicks(pid);
        string source = ParseMappings(pid, useSmaps, warn);
        if (Table.Count == 0)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} has no memory map (a kernel thread, or it exited)");
        }

        bool isJvm = JvmDetector.MapsLibJvm(Table);
        HsPerfData? perfData = null;
        int threads = 0;
        if (exact)
        {
            string? perfDataReason = null;
            perfData = isJvm ? HsPerfDataLocator.Read(_procFs, pid, Table, _reader, out perfDataReason) : null;
            using ProcessMemoryReader? memory = ProcessMemoryReader.TryOpen(_procFs, pid, out string? memoryReason);
            ExactMethodsUnavailable = memoryReason ?? perfDataReason;
            // The task listing is the thread count too.
            threads = Guard(pid, "task", () => Threads.Sample(_procFs, pid, startTicks, Table, _reader, _threadSamples));
            var sources = new ExactSources
            {
                Memory = memory,
                Threads = _threadSamples,
                PerfData = perfData,
                IsJvm = isJvm,
                ChunkProbes = ChunkProbes.For(pid, startTicks),
            };
            RegionClassifier.Classify(Table, Classification, sources);
            LastMemoryReads = memory?.Reads ?? 0;
        }
        else
        {
            RegionClassifier.Classify(Table, Classification);
        }

        string app = ResolveApp(pid, isJvm, perfData);

        // The PID may have been reused while we read: the start time tells. A process that exited while its smaps was
        // read keeps its stat (same start time) until it is reaped, but its memory is gone and the read ended early at
        // a record boundary, a well-formed but short list: vsize 0 tells. Without exact methods the thread count is
        // stat's num_threads, from the same read.
        (ulong endTicks, int statThreads, ulong virtualBytes) = ProcStatParser.ParseStartTimeThreadsAndSize(Read(pid, "stat"), _procFs.PidPath(pid, "stat"));
        if (endTicks != startTicks || virtualBytes == 0)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited while it was read");
        }

        if (!exact)
        {
            threads = statThreads;
        }

        return ReportBuilder.Build(Table, Classification, new ProcessIdentity(pid, app, isJvm, startTicks), source, threads, perfData);
    }

    private string ParseMappings(int pid, bool useSmaps, Action<string>? warn)
    {
        if (useSmaps)
        {
            string smaps = _procFs.PidPath(pid, "smaps");
            try
            {
                ReadOnlySpan<byte> text = Read(pid, "smaps");
                Parse(text, smaps, smapsFormat: true);
                return smaps;
            }
            catch (ProcessReadException e) when (e.Reason is ReadFailure.Permission or ReadFailure.Io && Directory.Exists(_procFs.PidDirectory(pid)))
            {
                warn?.Invoke($"{e.Message}; falling back to maps (sizes only, resident unknown)");
            }
        }

        string maps = _procFs.PidPath(pid, "maps");
        Parse(Read(pid, "maps"), maps, smapsFormat: false);
        return maps;
    }

    private void Parse(ReadOnlySpan<byte> text, string source, bool smapsFormat)
    {
        if (text.IsEmpty)
        {
            Table.Clear();
            return;
        }

        try
        {
            if (smapsFormat)
            {
                SmapsParser.Parse(text, Table, source);
            }
            else
            {
                MapsParser.Parse(text, Table, source);
            }
        }
        catch (ProcParseException e)
        {
            throw new ProcessReadException(ReadFailure.Parse, e.Message, e);
        }
    }

    private string ResolveApp(int pid, bool isJvm, HsPerfData? perfData)
    {
        if (isJvm)
        {
            // hsperfdata names the main class for any launcher (jsvc, jpackage, embedders); the cmdline only for java.
            if (perfData?.MainClass is { } mainClass)
            {
                return mainClass;
            }

            try
            {
                string? name = AppNameResolver.FromJavaCommandLine(Read(pid, "cmdline"));
                if (name is not null)
                {
                    return name;
                }
            }
            catch (ProcessReadException e) when (e.Reason != ReadFailure.Vanished)
            {
                // Fall back to the comm.
            }
        }

        return AppNameResolver.Sanitize(Read(pid, "comm").TrimEnd((byte)'\n'));
    }

    private ReadOnlySpan<byte> Read(int pid, string file)
    {
        string path = _procFs.PidPath(pid, file);
        try
        {
            return _reader.ReadAll(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} does not exist (no {path})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw PermissionDenied(pid, path, e);
        }
        catch (IOException e) when (IsNoSuchProcess(e))
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited while {path} was read", e);
        }
        catch (IOException e)
        {
            throw new ProcessReadException(ReadFailure.Io, $"cannot read {path}: {e.Message}", e);
        }
    }

    private T Guard<T>(int pid, string file, Func<T> action)
    {
        string path = _procFs.PidPath(pid, file);
        try
        {
            return action();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited (no {path})", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw PermissionDenied(pid, path, e);
        }
    }

    private static ProcessReadException PermissionDenied(int pid, string path, Exception e) => new(
        ReadFailure.Permission,
        $"cannot read {path}: permission denied; reading another user's process memory map needs ptrace read access (run as the process's user or root, or grant CAP_SYS_PTRACE)",
        e);

    // ESRCH (3) from a task that exited between open and read.
    private static bool IsNoSuchProcess(IOException e) => e.HResult == 3 || e.Message.Contains("No such process", StringComparison.Ordinal);

    /// <summary>Gives back a read buffer grown for a file much larger than any read since the last call (see <see cref="ProcFileReader.TrimExcess"/>).</summary>
    public void TrimBuffers() => _reader.TrimExcess();

    public void Dispose() => _reader.Dispose();
}
