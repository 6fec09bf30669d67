using System.Diagnostics;
using System.Globalization;
using System.Text;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Benchmarks;

/// <summary>
/// A generated procfs tree for --path.procfs: PROCESSES JVM-like processes (they map libjvm.so) made from one
/// captured fixture, padded to MAPPINGS mappings with thread stacks (a guard page and a 1 MiB stack, like
/// HotSpot's) placed in the largest address gap, so the layout stays a JVM's.
/// </summary>
internal static class GeneratedProcFs
{
    private const string Fields =
        "KernelPageSize:        4 kB\nMMUPageSize:           4 kB\nRss:                {0} kB\nPss:                {0} kB\nPss_Dirty:          {0} kB\n" +
        "Shared_Clean:          0 kB\nShared_Dirty:          0 kB\nPrivate_Clean:         0 kB\nPrivate_Dirty:      {0} kB\nReferenced:         {0} kB\n" +
        "Anonymous:          {0} kB\nKSM:                   0 kB\nLazyFree:              0 kB\nAnonHugePages:         0 kB\nShmemPmdMapped:        0 kB\n" +
        "FilePmdMapped:         0 kB\nShared_Hugetlb:        0 kB\nPrivate_Hugetlb:       0 kB\nSwap:                  0 kB\nSwapPss:               0 kB\n" +
        "Locked:                0 kB\nTHPeligible:           0\nVmFlags: {1}\n";

    public static int Generate(string[] args)
    {
        string dir = args[0], fixture = args[1];
        int processes = int.Parse(args[2], CultureInfo.InvariantCulture), target = int.Parse(args[3], CultureInfo.InvariantCulture);
        (string smaps, string maps, int count) = Pad(File.ReadAllText(Path.Combine(fixture, "smaps")), target);
        Directory.CreateDirectory(Path.Combine(dir, "sys/vm"));
        File.WriteAllText(Path.Combine(dir, "stat"), "cpu  1 2 3 4\nbtime 1700000000\n");
        File.WriteAllText(Path.Combine(dir, "sys/vm/max_map_count"), "1048576\n");
        byte[] smapsBytes = Encoding.UTF8.GetBytes(smaps), mapsBytes = Encoding.UTF8.GetBytes(maps);
        for (int i = 0; i < processes; i++)
        {
            int pid = 10000 + i;
            string p = Path.Combine(dir, pid.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(Path.Combine(p, "task", pid.ToString(CultureInfo.InvariantCulture)));
            File.WriteAllBytes(Path.Combine(p, "smaps"), smapsBytes);
            File.WriteAllBytes(Path.Combine(p, "maps"), mapsBytes);
            File.WriteAllText(Path.Combine(p, "stat"), $"{pid} (java) S {string.Join(' ', Enumerable.Repeat("0", 18))} {500 + i} 1073741824 0\n");
            File.WriteAllText(Path.Combine(p, "statm"), "1000000 100000 5000 1 0 90000 0\n");
            File.WriteAllText(Path.Combine(p, "comm"), "java\n");
            File.WriteAllText(Path.Combine(p, "cmdline"), $"/usr/bin/java\0-Xmx512m\0-cp\0/app\0com.example.Generated{i}\0");
        }

        Console.WriteLine($"generated {processes} processes of {count} mappings ({smapsBytes.Length} bytes of smaps each) in {dir}");
        return 0;
    }

    /// <summary>Scans DIR with 0..COUNT processes present (the others moved aside), several times each; prints medians.</summary>
    public static int Scale(string[] args)
    {
        string dir = args[0];
        int rounds = int.Parse(Environment.GetEnvironmentVariable("BENCH_ROUNDS") ?? "5", CultureInfo.InvariantCulture);
        string aside = dir + ".aside";
        Directory.CreateDirectory(aside);
        var pids = new ProcFs(dir).EnumeratePids().Order().ToList();
        // Three scans of the whole tree first, so that every size is measured on tiered-up code (without them the
        // first size measured paid for tier-0 code: 1,332 ns a mapping at 100 processes against 522 and 495 at 250
        // and 500; without tiered compilation all sizes ran 790-940 ns, code without dynamic PGO).
        using (var warmUp = new ProcessScanner(new ProcFs(dir), ProcessSelector.All))
        {
            for (int r = 0; r < 3; r++)
            {
                warmUp.Scan();
            }
        }

        // Smallest first, the others moved aside and brought back as the count grows: the first size measured
        // must not be the one that pays for the page cache just after the tree was written (run.sh syncs first).
        foreach (int pid in pids)
        {
            Directory.Move(Path.Combine(dir, pid.ToString(CultureInfo.InvariantCulture)), Path.Combine(aside, pid.ToString(CultureInfo.InvariantCulture)));
        }

        foreach (int count in args[1..].Select(a => int.Parse(a, CultureInfo.InvariantCulture)).Order())
        {
            foreach (int pid in pids.Take(count))
            {
                string from = Path.Combine(aside, pid.ToString(CultureInfo.InvariantCulture));
                if (Directory.Exists(from))
                {
                    Directory.Move(from, Path.Combine(dir, pid.ToString(CultureInfo.InvariantCulture)));
                }
            }

            // The generated tree has no mem or task/*/syscall: the exact methods fall back at once.
            using var scanner = new ProcessScanner(new ProcFs(dir), ProcessSelector.All);
            var times = new List<double>();
            int mappings = 0, processes = 0;
            for (int r = 0; r < rounds + 1; r++)
            {
                ScanSnapshot s = scanner.Scan();
                if (r == 0)
                {
                    continue; // warm-up
                }

                times.Add(s.Duration.TotalMilliseconds);
                processes = s.Processes.Count;
                mappings = s.Processes.Sum(p => p.Report.Mappings);
            }

            double ms = WholeScan.Median(times);
            Console.WriteLine(FormattableString.Invariant($"scale processes={processes} mappings={mappings} scan_ms={ms:F1} ns_per_mapping={ms * 1e6 / mappings:F0} ms_per_process={ms / processes:F2}"));
        }

        foreach (string moved in Directory.EnumerateDirectories(aside))
        {
            Directory.Move(moved, Path.Combine(dir, Path.GetFileName(moved)));
        }

        Directory.Delete(aside);
        return 0;
    }

    private static (string Smaps, string Maps, int Count) Pad(string smaps, int target)
    {
        // Records: a header line and its fields.
        var records = new List<(ulong Start, ulong End, string Text)>();
        var current = new StringBuilder();
        ulong start = 0, end = 0;
        foreach (string line in smaps.Split('\n'))
        {
            if (line.Length > 0 && MapsLineParser.LooksLikeHeader(Encoding.UTF8.GetBytes(line)))
            {
                if (current.Length > 0)
                {
                    records.Add((start, end, current.ToString()));
                    current.Clear();
                }

                int dash = line.IndexOf('-', StringComparison.Ordinal), space = line.IndexOf(' ', StringComparison.Ordinal);
                start = ulong.Parse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                end = ulong.Parse(line[(dash + 1)..space], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            }

            if (line.Length > 0)
            {
                current.Append(line).Append('\n');
            }
        }

        records.Add((start, end, current.ToString()));
        int gapAfter = 0;
        ulong gap = 0;
        for (int i = 0; i + 1 < records.Count; i++)
        {
            ulong g = records[i + 1].Start - records[i].End;
            if (g > gap && records[i + 1].Start < 0x7fff00000000)
            {
                (gap, gapAfter) = (g, i);
            }
        }

        const ulong Guard = 0x1000, Stack = 0x100000 - 0x1000;
        int pairs = Math.Max(0, (target - records.Count) / 2);
        Debug.Assert((ulong)pairs * (Guard + Stack) < gap, "the gap holds the stacks");
        var added = new List<(ulong, ulong, string)>();
        ulong at = records[gapAfter].End + ((gap - ((ulong)pairs * (Guard + Stack))) / 2 & ~0xfffffUL);
        for (int i = 0; i < pairs; i++)
        {
            added.Add((at, at + Guard, FormattableString.Invariant($"{at:x}-{at + Guard:x} ---p 00000000 00:00 0 \nSize:                  4 kB\n") + string.Format(CultureInfo.InvariantCulture, Fields, 0, "mr mw me nr ")));
            at += Guard;
            added.Add((at, at + Stack, FormattableString.Invariant($"{at:x}-{at + Stack:x} rw-p 00000000 00:00 0 \nSize:               1020 kB\n") + string.Format(CultureInfo.InvariantCulture, Fields, 64, "rd wr mr mw me ac nh ")));
            at += Stack;
        }

        records.InsertRange(gapAfter + 1, added);
        var outSmaps = new StringBuilder();
        var outMaps = new StringBuilder();
        foreach (var (_, _, text) in records)
        {
            outSmaps.Append(text);
            outMaps.Append(text[..(text.IndexOf('\n', StringComparison.Ordinal) + 1)]);
        }

        return (outSmaps.ToString(), outMaps.ToString(), records.Count);
    }
}
