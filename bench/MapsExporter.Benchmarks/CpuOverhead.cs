using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core;

namespace MapsExporter.Benchmarks;

/// <summary>
/// The overhead ratio in CPU time rather than wall time: on a loaded machine wall time mostly measures the
/// scheduler, CPU time (user + system, getrusage through <see cref="Process"/>) what this process spent. Runs
/// read-only and read+parse+classify alternately in blocks of 20 and prints the ratio of their CPU time.
/// </summary>
internal static class CpuOverhead
{
    public static int Run(string[] args)
    {
        int blocks = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "15", CultureInfo.InvariantCulture);
        using var reader = new ProcFileReader();
        var table = new MappingTable();
        var classification = new Classification();
        using Process self = Process.GetCurrentProcess();
        foreach (string arg in args)
        {
            int pid = int.Parse(arg, CultureInfo.InvariantCulture);
            string smaps = $"/proc/{pid}/smaps";
            TimeSpan readUser = default, readSys = default, fullUser = default, fullSys = default;
            for (int b = 0; b < blocks + 1; b++)
            {
                var (u0, s0) = Cpu(self);
                for (int i = 0; i < 20; i++)
                {
                    reader.ReadAll(smaps);
                }

                var (u1, s1) = Cpu(self);
                for (int i = 0; i < 20; i++)
                {
                    SmapsParser.Parse(reader.ReadAll(smaps), table, smaps);
                    RegionClassifier.Classify(table, classification);
                }

                var (u2, s2) = Cpu(self);
                if (b == 0)
                {
                    continue; // warm-up
                }

                (readUser, readSys) = (readUser + (u1 - u0), readSys + (s1 - s0));
                (fullUser, fullSys) = (fullUser + (u2 - u1), fullSys + (s2 - s1));
            }

            double n = blocks * 20;
            Console.WriteLine(FormattableString.Invariant(
                $"cpu pid={pid} mappings={table.Count} read_ms={(readUser + readSys).TotalMilliseconds / n:F3} (user {readUser.TotalMilliseconds / n:F3}) full_ms={(fullUser + fullSys).TotalMilliseconds / n:F3} (user {fullUser.TotalMilliseconds / n:F3}) ratio={(fullUser + fullSys) / (readUser + readSys):F3} parse_classify_user_ms={(fullUser - readUser).TotalMilliseconds / n:F3}"));
        }

        return 0;
    }

    private static (TimeSpan User, TimeSpan System) Cpu(Process self)
    {
        self.Refresh();
        return (self.UserProcessorTime, self.PrivilegedProcessorTime);
    }
}
