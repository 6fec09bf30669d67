namespace MapsExporter.Metrics;

/// <summary>
/// The host's online CPUs, for glibc's default arena limit (8 × cores, main arena included). Read from sysfs, which
/// a container sees as the host's: <see cref="Environment.ProcessorCount"/> would give the exporter's own CPU
/// quota or affinity instead (1 under a Kubernetes limit of 200m).
/// </summary>
internal static class HostCpus
{
    /// <summary>The online CPU list under the sysfs mount point <paramref name="sysFs"/> (<c>--path.sysfs</c>).</summary>
    public static string OnlinePath(string sysFs) => Path.Combine(sysFs, "devices/system/cpu/online");

    /// <summary>The count in <see cref="OnlinePath"/> (a list such as <c>0-3,6</c>), else <see cref="Environment.ProcessorCount"/>.</summary>
    public static int Read(string sysFs)
    {
        try
        {
            return Parse(File.ReadAllText(OnlinePath(sysFs))) ?? Environment.ProcessorCount;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>Counts a kernel CPU list (<c>0-3,6,8-9</c>); null when it is not one.</summary>
    public static int? Parse(string list)
    {
        int count = 0;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            if (!int.TryParse(range[0], out int first) || range.Length > 2)
            {
                return null;
            }

            int last = first;
            if (range.Length == 2 && !int.TryParse(range[1], out last))
            {
                return null;
            }

            if (last < first)
            {
                return null;
            }

            count += last - first + 1;
        }

        return count > 0 ? count : null;
    }
}
