using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// A whole scan of the live /proc as the daemon does it (every process's maps for the JVM test, the selected
/// JVMs' smaps and exact reads), against reading only the same JVMs' smaps in this process, interleaved so both
/// see the same machine. Prints medians. BENCH_SMAPS_INTERVAL (seconds) and BENCH_RESIDENT (auto, smaps, pagemap)
/// set the scanner's cost options as the daemon's flags do; by default smaps every scan.
/// </summary>
internal static class WholeScan
{
    public static int Run(string[] args)
    {
        int rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "15", CultureInfo.InvariantCulture);
        string app = Environment.GetEnvironmentVariable("BENCH_APP") ?? "BenchWorkload";
        int[] pids = args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
        var procFs = new ProcFs();
        using var reader = new ProcFileReader();
        var cost = new ScanCostOptions
        {
            SmapsInterval = TimeSpan.FromSeconds(double.Parse(Environment.GetEnvironmentVariable("BENCH_SMAPS_INTERVAL") ?? "0", CultureInfo.InvariantCulture)),
            Resident = ResidentModes.Parse(Environment.GetEnvironmentVariable("BENCH_RESIDENT")) ?? ResidentMode.Smaps,
        };
        using var exact = new ProcessScanner(procFs, new ProcessSelector(includeApp: app), cost: cost);
        var modes = new Dictionary<string, int>();
        using var textOnly = new ProcessScanner(procFs, new ProcessSelector(includeApp: app));
        var scan = new List<double>();
        var read = new List<double>();
        var perProcess = new List<double>();
        int processes = 0, mappings = 0;
        for (int r = 0; r < rounds + 2; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            foreach (int pid in pids)
            {
                reader.ReadAll(procFs.PidPath(pid, "smaps"));
            }

            double readMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            ScanSnapshot snapshot = exact.Scan();
            if (r < 2)
            {
                continue; // warm-up: JIT, buffers, JVM detection remembered
            }

            read.Add(readMs);
            scan.Add(snapshot.Duration.TotalMilliseconds);
            perProcess.Add(snapshot.Processes.Average(p => p.ReadDuration.TotalMilliseconds));
            processes = snapshot.Processes.Count;
            foreach (ProcessSample p in snapshot.Processes)
            {
                modes[p.Mode.Id()] = modes.GetValueOrDefault(p.Mode.Id()) + 1;
            }

            mappings = snapshot.Processes.Sum(p => p.Report.Mappings);
        }

        int onHost = procFs.EnumeratePids().Count();
        Console.WriteLine($"jvms {processes}");
        Console.WriteLine($"modes {string.Join(' ', modes.Select(m => $"{m.Key}={m.Value}"))} (all rounds; resident {cost.Resident.Id()}, smaps interval {cost.SmapsInterval.TotalSeconds} s)");
        Console.WriteLine($"mappings {mappings}");
        Console.WriteLine($"host_processes {onHost}");
        Console.WriteLine(FormattableString.Invariant($"read_only_ms {Median(read):F2}"));
        Console.WriteLine(FormattableString.Invariant($"scan_ms {Median(scan):F2}"));
        Console.WriteLine(FormattableString.Invariant($"per_process_read_ms {Median(perProcess):F3}"));
        return processes == pids.Length ? 0 : 1;
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        return values.Count == 0 ? double.NaN : values[values.Count / 2];
    }
}
