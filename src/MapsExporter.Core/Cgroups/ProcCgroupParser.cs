using MapsExporter.Core.Parsing;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Where <c>/proc/PID/cgroup</c> puts a process: the path whose memory files apply and the path that names its unit,
/// container and pod. v2 has one line <c>0::PATH</c>; v1 one line per hierarchy (<c>ID:CONTROLLERS:PATH</c>), whose
/// paths may differ per controller; a hybrid host has both.
/// </summary>
/// <param name="MemoryPath">The v1 <c>memory</c> hierarchy's path, else the v2 one; null when neither is listed.</param>
/// <param name="IdentityPath">
/// The most specific of the v2, v1 <c>name=systemd</c> and v1 <c>memory</c> paths: systemd's hierarchy always holds
/// the whole unit path, while the memory one stops where memory accounting stops (or is the only one set, as on a
/// host that moves processes in the memory hierarchy alone).
/// </param>
/// <param name="MemoryIsV1">The memory path is a v1 hierarchy's (its files are v1's: memory.limit_in_bytes, ...).</param>
public sealed record ProcCgroup(string? MemoryPath, string IdentityPath, bool MemoryIsV1);

/// <summary>Parses <c>/proc/PID/cgroup</c> (man 7 cgroups, "/proc/[pid]/cgroup").</summary>
public static class ProcCgroupParser
{
    public static ProcCgroup Parse(string text, string source)
    {
        string? unified = null, systemd = null, memory = null;
        int number = 0;
        foreach (string line in text.Split('\n'))
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            // The path may itself hold ':' (a cgroup name can): only the first two separate fields.
            int first = line.IndexOf(':', StringComparison.Ordinal);
            int second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (first <= 0 || second < 0 || !int.TryParse(line.AsSpan(0, first), out int hierarchy) || hierarchy < 0)
            {
                throw new ProcParseException(source, number, "expected HIERARCHY-ID:CONTROLLERS:PATH");
            }

            string controllers = line[(first + 1)..second];
            string path = line[(second + 1)..];
            if (!path.StartsWith('/'))
            {
                throw new ProcParseException(source, number, "the cgroup path does not start with /");
            }

            if (hierarchy == 0 && controllers.Length == 0)
            {
                unified = path;
            }
            else if (controllers == "name=systemd")
            {
                systemd = path;
            }
            else if (controllers.Split(',').Contains("memory"))
            {
                memory = path;
            }
        }

        if (unified is null && systemd is null && memory is null)
        {
            throw new ProcParseException(source, 0, "no cgroup v2 line, no v1 memory or name=systemd line");
        }

        string identity = MostSpecific(unified, systemd, memory);
        return new ProcCgroup(memory ?? unified, identity, memory is not null);
    }

    // The deepest path; ties go to the v2 path, then systemd's.
    private static string MostSpecific(params string?[] paths)
    {
        string best = "/";
        int bestDepth = -1;
        foreach (string? path in paths)
        {
            int depth = path is null ? -1 : path.Count(c => c == '/') - (path == "/" ? 1 : 0);
            if (depth > bestDepth)
            {
                (best, bestDepth) = (path!, depth);
            }
        }

        return best;
    }
}
