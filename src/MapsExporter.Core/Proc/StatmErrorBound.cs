namespace MapsExporter.Core.Proc;

/// <summary>
/// How far <c>/proc/PID/statm</c>'s resident count can be from the page tables' on a kernel. Since 6.2 (f1a7941243c1)
/// the RSS counters are per-CPU counters and statm read them without the per-CPU deltas, each CPU holding up to
/// <c>max(32, 2·cpus)</c> pages per counter (anon, file, shmem); 82241a83cd15 (6.16) sums them exactly. Before 6.2
/// (SPLIT_RSS_COUNTING) each thread cached up to 64 page faults per counter. 6.12.y and 6.15.y took the fix in a
/// stable release this does not know the number of: they are given the bound (an overstatement there).
/// </summary>
public static class StatmErrorBound
{
    private static readonly long PageSize = (long)SystemPage.Size;
    private const int Counters = 3;

    /// <summary>The bound in bytes for a process of <paramref name="threads"/> threads on <paramref name="cpus"/> CPUs.</summary>
    public static long Bytes(Version kernel, int cpus, int threads)
    {
        if (kernel >= new Version(6, 16))
        {
            return 0;
        }

        if (kernel >= new Version(6, 2))
        {
            return Counters * (long)cpus * Math.Max(32, 2 * cpus) * PageSize;
        }

        return Counters * 64L * threads * PageSize;
    }

    /// <summary>The version at the start of a kernel release string (<c>6.18.44-fc-v1045</c>: 6.18.44), or null.</summary>
    public static Version? ParseRelease(string release)
    {
        int end = 0;
        while (end < release.Length && (char.IsAsciiDigit(release[end]) || release[end] == '.'))
        {
            end++;
        }

        return Version.TryParse(release.AsSpan(0, end).TrimEnd('.'), out Version? version) && version.Major > 0 ? version : null;
    }

    /// <summary>The running kernel's version from <c>sys/kernel/osrelease</c> under <paramref name="procFs"/>, or null.</summary>
    public static Version? ReadKernel(ProcFs procFs)
    {
        try
        {
            return ParseRelease(File.ReadAllText(procFs.HostPath("sys/kernel/osrelease")).Trim());
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            return null;
        }
    }

    /// <summary>CPUs with a line in <c>stat</c> under <paramref name="procFs"/> (online CPUs), at least 1.</summary>
    public static int ReadCpus(ProcFs procFs)
    {
        try
        {
            int cpus = File.ReadLines(procFs.HostPath("stat")).Count(line => line.StartsWith("cpu", StringComparison.Ordinal) && line.Length > 3 && char.IsAsciiDigit(line[3]));
            return Math.Max(cpus, 1);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            return Environment.ProcessorCount;
        }
    }
}
