using System.Globalization;
using System.IO.Enumeration;

namespace MapsExporter.Core.Proc;

/// <summary>
/// A procfs mount. The root is a setting (like node_exporter's <c>--path.procfs</c>) so the scanner runs
/// on a captured tree in tests and on the host's /proc mounted elsewhere in a container.
/// </summary>
public sealed class ProcFs
{
    public ProcFs(string root = "/proc")
    {
        Root = root.Length > 1 ? root.TrimEnd('/') : root;
    }

    public string Root { get; }

    public string PidPath(int pid, string file) => $"{Root}/{pid.ToString(CultureInfo.InvariantCulture)}/{file}";

    public string PidDirectory(int pid) => $"{Root}/{pid.ToString(CultureInfo.InvariantCulture)}";

    public string HostPath(string file) => $"{Root}/{file}";

    /// <summary>Numeric entries of the root; garbage names are skipped.</summary>
    public IEnumerable<int> EnumeratePids()
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories(Root);
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        foreach (string path in entries)
        {
            ReadOnlySpan<char> name = Path.GetFileName(path.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0)
            {
                yield return pid;
            }
        }
    }

    /// <summary>Number of threads: entries of /proc/PID/task.</summary>
    public int CountThreads(int pid)
    {
        var tids = new List<int>();
        ListTasks(PidPath(pid, "task"), tids);
        return tids.Count;
    }

    /// <summary>The numeric entries (TIDs) of a task directory, parsed from the directory entries without a string each.</summary>
    public static void ListTasks(string taskDirectory, List<int> tids)
    {
        tids.Clear();
        var entries = new FileSystemEnumerable<int>(
            taskDirectory,
            static (ref FileSystemEntry entry) => int.TryParse(entry.FileName, NumberStyles.None, CultureInfo.InvariantCulture, out int tid) ? tid : -1,
            new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = false })
        {
            ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory,
        };
        foreach (int tid in entries)
        {
            if (tid >= 0)
            {
                tids.Add(tid);
            }
        }
    }
}
