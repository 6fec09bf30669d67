using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// Reads one process each way, ROUNDS times, 200 ms apart, and prints each read's window as
/// <c>reader start_ns end_ns</c> on CLOCK_MONOTONIC (Stopwatch's clock on Linux), so bench/stall.c's log of its own
/// slow mmap/munmap calls can be matched against them: how long the target waited while it was read.
/// </summary>
internal static class StallWindows
{
    public static int Run(string[] args)
    {
        int pid = int.Parse(args[0], CultureInfo.InvariantCulture);
        int rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
        var procFs = new ProcFs();
        using var reader = new ProcFileReader();
        using var inspector = new ProcessInspector(procFs);
        var readers = new (string Name, Action Read)[]
        {
            ("idle", () => Thread.Sleep(100)),
            ("cat_smaps", () => reader.ReadAll(procFs.PidPath(pid, "smaps"))),
            ("smaps_rollup", () => reader.ReadAll(procFs.PidPath(pid, "smaps_rollup"))),
            ("exporter_smaps", () => inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Smaps })),
            ("exporter_pagemap", () => Check(inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Pagemap }))),
        };
        for (int r = 0; r < rounds + 1; r++)
        {
            foreach (var (name, read) in readers)
            {
                Thread.Sleep(200);
                long start = Stopwatch.GetTimestamp();
                read();
                long end = Stopwatch.GetTimestamp();
                if (r > 0)
                {
                    Console.WriteLine($"{name} {Nanoseconds(start)} {Nanoseconds(end)}");
                }
            }
        }

        return 0;
    }

    private static void Check(InspectionResult result)
    {
        if (result.Mode != ScanMode.Pagemap)
        {
            throw new InvalidOperationException($"pagemap read fell back to {result.Mode.Id()}: {result.PagemapFallback}");
        }
    }

    private static long Nanoseconds(long timestamp) => (long)(timestamp * (1e9 / Stopwatch.Frequency));
}
