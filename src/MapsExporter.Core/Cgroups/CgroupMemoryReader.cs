namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Reads a memory cgroup's limit, usage, memory.stat and OOM kills (kernel Documentation/admin-guide/cgroup-v2.rst
/// and cgroup-v1/memory.rst). The effective limit is the lowest over the cgroup and its ancestors, as HotSpot's
/// hierarchy walk computes it (cgroupUtil_linux.cpp adjust_controller): a JVM without -Xmx sizes its heap from it.
/// </summary>
public static class CgroupMemoryReader
{
    // v1 writes "no limit" as PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages); no real limit is this high.
    private const long V1Unlimited = 1L << 62;

    /// <summary>
    /// The figures of the memory cgroup at <paramref name="absolute"/> (a path in <paramref name="fs"/>'s tree).
    /// <paramref name="problems"/> gets one line per file that could not be read or parsed; its figure stays null.
    /// </summary>
    public static CgroupMemory Read(CgroupFs fs, string absolute, bool v1, List<string> problems)
    {
        string directory = Directory(fs, absolute, v1);
        (long? limit, string? setter) = EffectiveLimit(fs, absolute, v1, problems);
        Dictionary<string, long>? stat = ReadKeyed(directory, "memory.stat", problems);
        if (v1 && stat is not null && stat.TryGetValue("hierarchical_memory_limit", out long hierarchical) && hierarchical < V1Unlimited && (limit is null || hierarchical < limit))
        {
            // Set above the part of the tree this mount shows (the kernel's own figure covers every ancestor).
            (limit, setter) = (hierarchical, null);
        }

        long? usage = ReadNumber(directory, v1 ? "memory.usage_in_bytes" : "memory.current", problems);
        long? anon = Key(stat, v1 ? "total_rss" : "anon", directory, problems);
        long? file = Key(stat, v1 ? "total_cache" : "file", directory, problems);
        Dictionary<string, long>? events = ReadKeyed(directory, v1 ? "memory.oom_control" : "memory.events", problems);
        long? oomKills = Key(events, "oom_kill", directory, problems);
        return new CgroupMemory(absolute, limit, setter, usage, anon, file, oomKills);
    }

    private static string Directory(CgroupFs fs, string absolute, bool v1) => absolute == "/" ? fs.MemoryMount(v1) : fs.MemoryMount(v1) + absolute;

    /// <summary>The lowest limit from the cgroup up to the mount's root, and the deepest cgroup that sets it; (null, null) when none does.</summary>
    private static (long? Limit, string? Setter) EffectiveLimit(CgroupFs fs, string absolute, bool v1, List<string> problems)
    {
        long? lowest = null;
        string? setter = null;
        for (string? level = absolute; level is not null; level = CgroupFs.Parent(level))
        {
            string directory = Directory(fs, level, v1);
            string file = v1 ? "memory.limit_in_bytes" : "memory.max";
            if (!File.Exists($"{directory}/{file}"))
            {
                // The root cgroup has no limit file (v2), nor does a level above a bind-mounted subtree.
                if (level == absolute)
                {
                    problems.Add(System.IO.Directory.Exists(directory) ? $"{directory}/{file} does not exist" : $"{directory} does not exist (the cgroup vanished)");
                }

                break;
            }

            string? text = ReadText(directory, file, problems);
            long? value = text is null || text.Trim() == "max" ? null : CgroupFs.Number(text);
            if (text is not null && text.Trim() != "max" && value is null)
            {
                problems.Add($"{directory}/{file}: '{text.Trim()}' is not a number or max");
            }

            if (value is { } v && (!v1 || v < V1Unlimited) && (lowest is null || v < lowest))
            {
                (lowest, setter) = (v, level);
            }
        }

        return (lowest, setter);
    }

    private static long? ReadNumber(string directory, string file, List<string> problems)
    {
        string? text = ReadText(directory, file, problems);
        long? value = text is null ? null : CgroupFs.Number(text);
        if (text is not null && value is null)
        {
            problems.Add($"{directory}/{file}: '{text.Trim()}' is not a number");
        }

        return value;
    }

    private static long? Key(Dictionary<string, long>? keyed, string key, string directory, List<string> problems)
    {
        if (keyed is null)
        {
            return null;
        }

        if (keyed.TryGetValue(key, out long value))
        {
            return value;
        }

        problems.Add($"{directory}: no {key} in its memory files");
        return null;
    }

    /// <summary>A flat-keyed file (<c>key value</c> per line: memory.stat, memory.events, memory.oom_control).</summary>
    internal static Dictionary<string, long>? ReadKeyed(string directory, string file, List<string> problems)
    {
        string? text = ReadText(directory, file, problems);
        if (text is null)
        {
            return null;
        }

        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0 || CgroupFs.Number(line[(space + 1)..]) is not { } value)
            {
                problems.Add($"{directory}/{file}: '{line}' is not KEY VALUE");
                return null;
            }

            values[line[..space]] = value;
        }

        return values;
    }

    private static string? ReadText(string directory, string file, List<string> problems)
    {
        string path = $"{directory}/{file}";
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add(e is FileNotFoundException or DirectoryNotFoundException ? $"{path} does not exist (the cgroup vanished?)" : $"cannot read {path}: {e.Message}");
            return null;
        }
    }
}
