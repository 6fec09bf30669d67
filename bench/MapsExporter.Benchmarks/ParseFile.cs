using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Benchmarks;

/// <summary>
/// Parser and classifier alone on saved smaps files (no kernel time): nanoseconds per mapping, best of
/// <c>BENCH_ROUNDS</c> rounds of 20 parses each, to compare parser changes quickly and without the noise of reading.
/// Timed in the thread's CPU time (<see cref="ThreadCpuClock"/>), so the time other processes take the CPU away
/// (a shared machine) does not count.
/// </summary>
internal static class ParseFile
{
    public static int Run(string[] args)
    {
        int rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "15", CultureInfo.InvariantCulture);
        var table = new MappingTable();
        var classification = new Classification();
        // Tiered JIT: enough calls that Parse and the classifier steps run fully optimised before any timing.
        for (int i = 0; i < 60; i++)
        {
            foreach (string path in args)
            {
                SmapsParser.Parse(File.ReadAllBytes(path), table, path);
                RegionClassifier.Classify(table, classification);
            }
        }

        foreach (string path in args)
        {
            byte[] content = File.ReadAllBytes(path);
            double parseBest = double.MaxValue, classifyBest = double.MaxValue;
            for (int r = 0; r < rounds + 1; r++)
            {
                TimeSpan t0 = ThreadCpuClock.Now();
                for (int i = 0; i < 20; i++)
                {
                    SmapsParser.Parse(content, table, path);
                }

                TimeSpan t1 = ThreadCpuClock.Now();
                for (int i = 0; i < 20; i++)
                {
                    RegionClassifier.Classify(table, classification);
                }

                TimeSpan t2 = ThreadCpuClock.Now();
                if (r > 0)
                {
                    parseBest = Math.Min(parseBest, (t1 - t0).TotalNanoseconds / 20 / table.Count);
                    classifyBest = Math.Min(classifyBest, (t2 - t1).TotalNanoseconds / 20 / table.Count);
                }
            }

            Console.WriteLine(FormattableString.Invariant(
                $"parsefile {Path.GetFileName(path)} mappings={table.Count} bytes={content.Length} parse_ns_per_mapping={parseBest:F1} classify_ns_per_mapping={classifyBest:F1}"));
        }

        return 0;
    }
}
