using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Benchmarks;

/// <summary>
/// What reading glibc's bookkeeping adds per process: the exact classification of the same parsed smaps with the
/// malloc reader off (as before it existed), with the arenas' states only, and with the free-list walk, interleaved
/// round by round; beside it the whole read of the process it is part of (smaps read, parse, exact classification
/// with the walk). Medians of wall time and of this thread's CPU time, and the reads of /proc/PID/mem each makes.
/// </summary>
internal static class MallocStateCost
{
    public static int Run(string[] args)
    {
        int rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "30", CultureInfo.InvariantCulture);
        var procFs = new ProcFs();
        using var reader = new ProcFileReader();
        (string Name, MallocReadLimits Limits)[] modes = [("off", MallocReadLimits.Off), ("states", MallocReadLimits.StatesOnly), ("walk", MallocReadLimits.Default)];
        foreach (string arg in args)
        {
            int pid = int.Parse(arg, CultureInfo.InvariantCulture);
            string smaps = procFs.PidPath(pid, "smaps");
            var table = new MappingTable();
            var classification = new Classification();
            var wall = modes.ToDictionary(m => m.Name, _ => new List<double>());
            var cpu = modes.ToDictionary(m => m.Name, _ => new List<double>());
            var reads = modes.ToDictionary(m => m.Name, _ => 0);
            var whole = new List<double>();
            int arenas = 0;
            for (int r = 0; r < rounds + 2; r++)
            {
                long w0 = Stopwatch.GetTimestamp();
                SmapsParser.Parse(reader.ReadAll(smaps), table, smaps);
                using (ProcessMemoryReader memory = ProcessMemoryReader.TryOpen(procFs, pid, out _)!)
                {
                    RegionClassifier.Classify(table, classification, new ExactSources { Memory = memory });
                }

                double wholeMs = Stopwatch.GetElapsedTime(w0).TotalMilliseconds;
                foreach (var (name, limits) in modes)
                {
                    using ProcessMemoryReader memory = ProcessMemoryReader.TryOpen(procFs, pid, out _)!;
                    var sources = new ExactSources { Memory = memory, MallocLimits = limits };
                    TimeSpan c0 = ThreadCpuClock.Now();
                    long t0 = Stopwatch.GetTimestamp();
                    RegionClassifier.Classify(table, classification, sources);
                    double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    double cpuMs = (ThreadCpuClock.Now() - c0).TotalMilliseconds;
                    if (r >= 2)
                    {
                        wall[name].Add(ms);
                        cpu[name].Add(cpuMs);
                        reads[name] = memory.Reads;
                    }

                    if (name == "walk")
                    {
                        arenas = classification.Arenas.Count;
                    }
                }

                if (r >= 2)
                {
                    whole.Add(wholeMs);
                }
            }

            string Line(string name) => FormattableString.Invariant($"{WholeScan.Median(wall[name]):F3} ms wall, {WholeScan.Median(cpu[name]):F3} ms cpu, {reads[name]} reads");
            Console.WriteLine(FormattableString.Invariant($"pid {pid} mappings {table.VmaCount} arenas {arenas} malloc_fallback {classification.Fallbacks.Contains(DecisionMethod.MallocState)}"));
            Console.WriteLine($"  classify_off    {Line("off")}");
            Console.WriteLine($"  classify_states {Line("states")}");
            Console.WriteLine($"  classify_walk   {Line("walk")}");
            Console.WriteLine(FormattableString.Invariant($"  whole_read_ms   {WholeScan.Median(whole):F3} (smaps read + parse + exact classification with the walk)"));
            Console.WriteLine(FormattableString.Invariant($"  added_states_ms {WholeScan.Median(wall["states"]) - WholeScan.Median(wall["off"]):F3} added_walk_ms {WholeScan.Median(wall["walk"]) - WholeScan.Median(wall["off"]):F3} (the walk's reads beyond the states': {reads["walk"] - reads["states"]})"));
        }

        return 0;
    }
}
