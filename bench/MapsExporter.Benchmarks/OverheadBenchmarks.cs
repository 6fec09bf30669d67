using BenchmarkDotNet.Attributes;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// User-space overhead on live processes: (read + parse + classify) against reading the same smaps only, in one
/// process. The targets are live PIDs from <c>BENCH_TARGETS</c> (<c>name=pid,...</c>, set by bench/run.sh).
/// </summary>
[MemoryDiagnoser]
public class OverheadBenchmarks
{
    private ProcFs _procFs = null!;
    private ProcFileReader _reader = null!;
    private ProcessInspector _inspector = null!;
    private ProcessState _state = null!;
    private MappingTable _table = null!;
    private Classification _classification = null!;
    private string _smaps = "";
    private int _pid;

    [ParamsSource(nameof(Targets))]
    public string Target { get; set; } = "";

    public static IEnumerable<string> Targets() =>
        (Environment.GetEnvironmentVariable("BENCH_TARGETS") ?? $"self={Environment.ProcessId}").Split(',', StringSplitOptions.RemoveEmptyEntries);

    [GlobalSetup]
    public void Setup()
    {
        _pid = int.Parse(Target[(Target.IndexOf('=', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        _procFs = new ProcFs();
        _reader = new ProcFileReader();
        _inspector = new ProcessInspector(_procFs);
        // Kept between calls as the daemon keeps it between scans (thread states, chunk probes): warm inspections.
        _state = new ProcessState(_pid, ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes(_procFs.PidPath(_pid, "stat")), "stat"));
        _table = new MappingTable();
        _classification = new Classification();
        _smaps = _procFs.PidPath(_pid, "smaps");
        // Steady state: buffers grown, paths interned.
        ReadParseClassify();
        _inspector.Inspect(_pid, useSmaps: true, exact: true, state: _state);
        Console.WriteLine($"// {Target}: {_table.Count} mappings, {_procFs.CountThreads(_pid)} threads");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        _inspector.Dispose();
    }

    /// <summary>The baseline: the kernel generating smaps and copying it out, into a pooled buffer.</summary>
    [Benchmark(Baseline = true)]
    public int ReadOnly() => _reader.ReadAll(_smaps).Length;

    /// <summary>Read, parse and classify by layout (text only): the pipeline's own work on the same file.</summary>
    [Benchmark]
    public int ReadParseClassify()
    {
        SmapsParser.Parse(_reader.ReadAll(_smaps), _table, _smaps);
        RegionClassifier.Classify(_table, _classification);
        return _classification.ThreadStacks;
    }

    /// <summary>Everything the daemon does for the process, text only: stat twice, smaps, classify, app name, thread count, report.</summary>
    [Benchmark]
    public int InspectTextOnly() => _inspector.Inspect(_pid, useSmaps: true, exact: false, state: _state).Report.Mappings;

    /// <summary>As the daemon runs by default: exact methods too (hsperfdata, /proc/PID/mem headers, every thread's syscall and comm).</summary>
    [Benchmark]
    public int InspectExact() => _inspector.Inspect(_pid, useSmaps: true, exact: true, state: _state).Report.Mappings;
}
