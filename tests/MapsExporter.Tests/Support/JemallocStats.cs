using System.Globalization;
using System.Text.RegularExpressions;

namespace MapsExporter.Tests.Support;

/// <summary>
/// jemalloc's own figures, from the summary line of malloc_stats_print(): <c>Allocated: A, active: B, metadata: C (n_thp
/// D), resident: E, mapped: F, retained: G</c>. Mapped is what jemalloc has mapped and not retained (extents in use,
/// dirty and muzzy, and its metadata); retained is virtual memory it keeps mapped but purged; resident is its upper
/// bound on resident pages (pages it dirtied, counted whether or not the kernel still backs them).
/// </summary>
public sealed partial record JemallocStats(long Allocated, long Active, long Metadata, long Resident, long Mapped, long Retained)
{
    /// <summary>Makes the process call malloc_stats_print() through gdb (it writes to the process's stderr, <paramref name="stderrPath"/>) and parses it.</summary>
    public static JemallocStats Read(int pid, string stderrPath)
    {
        long before = new FileInfo(stderrPath).Length;
        var (code, stdout, stderr) = ToolRunner.Run("gdb", ["-p", pid.ToString(CultureInfo.InvariantCulture), "-batch", "-nx",
            "-ex", "handle SIGSEGV nostop noprint pass", "-ex", "handle SIGBUS nostop noprint pass",
            "-ex", "call (void)malloc_stats_print(0, 0, \"gmdablxe\")"], TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            throw new InvalidOperationException($"gdb failed ({code}): {stdout}{stderr}");
        }

        for (int i = 0; i < 50; i++)
        {
            using var stream = new FileStream(stderrPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(before, SeekOrigin.Begin);
            string text = new StreamReader(stream).ReadToEnd();
            if (TryParse(text) is { } stats)
            {
                return stats;
            }

            Thread.Sleep(20);
        }

        throw new InvalidOperationException("malloc_stats_print printed no summary line");
    }

    public static JemallocStats? TryParse(string text)
    {
        Match m = Summary().Match(text);
        return m.Success
            ? new JemallocStats(Long(m, 1), Long(m, 2), Long(m, 3), Long(m, 4), Long(m, 5), Long(m, 6))
            : null;
    }

    private static long Long(Match m, int group) => long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Allocated: (\d+), active: (\d+), metadata: (\d+) \(n_thp \d+\), resident: (\d+), mapped: (\d+), retained: (\d+)", RegexOptions.Multiline)]
    private static partial Regex Summary();
}
