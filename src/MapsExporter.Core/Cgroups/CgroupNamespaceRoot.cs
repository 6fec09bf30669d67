using System.Globalization;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Where the reader's own cgroup namespace root lies inside a mounted cgroup tree, for resolving /proc/PID/cgroup
/// paths that the kernel shows relative to that root (cgroup-v2.rst, "The Root and Views"): containerd gives every
/// unprivileged container on a v2 host a private cgroup namespace, hostPID or not. The mount's root field in our own
/// /proc/self/mountinfo is shown relative to our namespace too: <c>/../../..</c> = three levels above our root. Our
/// root's last three names are then found by looking for our own PID in the <c>cgroup.procs</c> of the mount's
/// directories at that depth (PIDs there are shown in the reader's PID namespace).
/// </summary>
/// <param name="PathInMount">Our namespace root as a path below the mount's root (<c>/</c>: the mount is rooted at it).</param>
public sealed record CgroupNamespaceRoot(string PathInMount)
{
    /// <summary>The init cgroup namespace's inode (PROC_CGROUP_INIT_INO, 0xEFFFFFFB).</summary>
    public const string InitNamespace = "cgroup:[4026531835]";

    /// <summary>
    /// Our namespace root in the mount at <paramref name="mountPoint"/>, or null when we are in the init namespace
    /// (paths are absolute) or it cannot be found (then only absolute paths resolve).
    /// </summary>
    /// <param name="mountPoint">The directory a cgroup hierarchy is mounted on (v1: its memory mount).</param>
    /// <param name="namespaceLink">readlink /proc/self/ns/cgroup.</param>
    /// <param name="mountInfo">/proc/self/mountinfo.</param>
    /// <param name="ownPath">Our own memory (v1) or v2 path from /proc/self/cgroup (relative to our root).</param>
    /// <param name="ownPid">Our PID as our PID namespace numbers it.</param>
    public static CgroupNamespaceRoot? Find(string mountPoint, string namespaceLink, string mountInfo, string ownPath, int ownPid)
    {
        if (namespaceLink == InitNamespace || MountRoot(mountInfo, mountPoint) is not { } root)
        {
            return null;
        }

        if (root == "/")
        {
            return new CgroupNamespaceRoot("/");
        }

        string[] ups = root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (ups.Any(p => p != ".."))
        {
            // A mount of a cgroup beside ours: not a tree our paths can be walked in.
            return null;
        }

        string own = ownPath == "/" ? "" : ownPath;
        foreach (string candidate in DirectoriesAtDepth(mountPoint, ups.Length))
        {
            if (ListsPid($"{candidate}{own}/cgroup.procs", ownPid))
            {
                return new CgroupNamespaceRoot(candidate[mountPoint.Length..]);
            }
        }

        return null;
    }

    /// <summary>The root field (4th) of the mount whose mount point (5th) is <paramref name="mountPoint"/> (proc(5), mountinfo).</summary>
    internal static string? MountRoot(string mountInfo, string mountPoint)
    {
        string? found = null;
        foreach (string line in mountInfo.Split('\n'))
        {
            string[] fields = line.Split(' ');
            // Later mounts over the same point hide earlier ones: the last one wins.
            if (fields.Length > 4 && Unescape(fields[4]) == mountPoint)
            {
                found = Unescape(fields[3]);
            }
        }

        return found;
    }

    // mountinfo writes space, tab, newline and backslash as \ooo.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && int.TryParse(field.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int octal))
            {
                text.Append((char)Convert.ToInt32(octal.ToString(CultureInfo.InvariantCulture), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    private static IEnumerable<string> DirectoriesAtDepth(string directory, int depth)
    {
        if (depth == 0)
        {
            yield return directory;
            yield break;
        }

        string[] children;
        try
        {
            children = Directory.GetDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (string child in children)
        {
            foreach (string found in DirectoriesAtDepth(child, depth - 1))
            {
                yield return found;
            }
        }
    }

    private static bool ListsPid(string procs, int pid)
    {
        try
        {
            string wanted = pid.ToString(CultureInfo.InvariantCulture);
            return File.ReadLines(procs).Any(line => line == wanted);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
