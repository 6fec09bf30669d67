using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Benchmarks;

/// <summary>
/// Parser and classifier alone on saved smaps files (no kernel time): nanoseconds per mapping, best of
/// <c>BENCH_ROUNDS</c> rounds of 20 parses each, to compare parser changes quickly and without the noise of reading.
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
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < 20; i++)
                {
                    SmapsParser.Parse(content, table, path);
                }

                long t1 = Stopwatch.GetTimestamp();
                for (int i = 0; i < 20; i++)
                {
                    RegionClassifier.Classify(table, classification);
                }

                long t2 = Stopwatch.GetTimestamp();
                if (r > 0)
                {
                    parseBest = Math.Min(parseBest, Stopwatch.GetElapsedTime(t0, t1).TotalNanoseconds / 20 / table.Count);
                    classifyBest = Math.Min(classifyBest, Stopwatch.GetElapsedTime(t1, t2).TotalNanoseconds / 20 / table.Count);
                }
            }

            Console.WriteLine(FormattableString.Invariant(
                $"parsefile {Path.GetFileName(path)} mappings={table.Count} bytes={content.Length} parse_ns_per_mapping={parseBest:F1} classify_ns_per_mapping={classifyBest:F1}"));
        }

        return 0;
    }
}
