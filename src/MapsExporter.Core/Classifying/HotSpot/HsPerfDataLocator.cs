using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// Finds a JVM's hsperfdata file: the <c>/tmp/hsperfdata_USER/PID</c> file it maps itself (a stale file of a
/// killed JVM is mapped by nobody, so only a mapped one is trusted), read through <c>/proc/PID/root</c> so a
/// JVM in a container, whose /tmp and PID namespace differ, works too.
/// </summary>
public static class HsPerfDataLocator
{
    public static HsPerfData? Read(ProcFs procFs, int pid, MappingTable table, ProcFileReader reader) => Read(procFs, pid, table, reader, out _);

    /// <summary>
    /// The JVM's hsperfdata, or null with the reason when it maps none (<c>-XX:-UsePerfData</c>: reason null) or
    /// the file cannot be read (reason says why; for a permission, which capability is missing).
    /// </summary>
    public static HsPerfData? Read(ProcFs procFs, int pid, MappingTable table, ProcFileReader reader, out string? reason)
    {
        reason = null;
        string? mapped = MappedPath(table);
        if (mapped is null)
        {
            return null;
        }

        string path = procFs.PidPath(pid, "root") + mapped;
        try
        {
            return HsPerfData.Parse(reader.ReadAll(path));
        }
        catch (UnauthorizedAccessException)
        {
            reason = PtraceGuardedFile.Denied(path);
        }
        catch (IOException e)
        {
            reason = $"cannot read {path}: {e.Message}";
        }

        return null;
    }

    /// <summary>The path of the mapped <c>.../hsperfdata_USER/NNN</c> file, as the process sees it.</summary>
    public static string? MappedPath(MappingTable table)
    {
        foreach (ref readonly Mapping m in table.Items)
        {
            if (m.Kind != MappingKind.File || (m.Permissions & Permissions.Shared) == 0)
            {
                continue;
            }

            string? path = table.PathOf(m);
            if (path is null || path.EndsWith(" (deleted)", StringComparison.Ordinal))
            {
                continue;
            }

            ReadOnlySpan<char> name = FileMappingClassifier.BaseName(path);
            ReadOnlySpan<char> directory = FileMappingClassifier.BaseName(path.AsSpan(0, path.Length - name.Length - 1));
            if (directory.StartsWith("hsperfdata_", StringComparison.Ordinal) && name.Length > 0 && !name.ContainsAnyExceptInRange('0', '9'))
            {
                return path;
            }
        }

        return null;
    }
}
