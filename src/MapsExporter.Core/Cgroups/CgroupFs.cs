using System.Globalization;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// A cgroup filesystem mount (like <see cref="Proc.ProcFs"/>, its root is a setting: <c>--path.cgroupfs</c>, the host's
/// /sys/fs/cgroup mounted in a container). v2 when the root holds <c>cgroup.controllers</c>, else v1 with one mount per
/// controller below it (<c>memory/</c>). Turns a path of /proc/PID/cgroup into the directory that holds its files,
/// also when those paths are relative to the reader's cgroup namespace (<c>/../../kubepods/...</c>, a DaemonSet on a
/// v2 host with a private cgroup namespace): see <see cref="CgroupNamespaceRoot"/>.
/// </summary>
public sealed class CgroupFs
{
    private readonly CgroupNamespaceRoot? _namespaceRoot;

    /// <param name="root">The mount point of the hierarchy (v2) or of the per-controller mounts (v1).</param>
    /// <param name="namespaceRoot">Where the reader's cgroup namespace root lies in this tree; null: the init namespace (paths are absolute).</param>
    public CgroupFs(string root = "/sys/fs/cgroup", CgroupNamespaceRoot? namespaceRoot = null)
    {
        Root = root.Length > 1 ? root.TrimEnd('/') : root;
        _namespaceRoot = namespaceRoot;
        IsUnified = File.Exists($"{Root}/cgroup.controllers");
    }

    public string Root { get; }

    /// <summary>
    /// The mount at <paramref name="root"/> as this process sees it: in a private cgroup namespace, with our
    /// namespace root found in it (<see cref="CgroupNamespaceRoot"/>), so that other processes' relative paths resolve.
    /// </summary>
    public static CgroupFs ForThisProcess(string root = "/sys/fs/cgroup")
    {
        var plain = new CgroupFs(root);
        try
        {
            string link = new FileInfo("/proc/self/ns/cgroup").LinkTarget ?? CgroupNamespaceRoot.InitNamespace;
            if (link == CgroupNamespaceRoot.InitNamespace)
            {
                return plain;
            }

            ProcCgroup own = ProcCgroupParser.Parse(File.ReadAllText("/proc/self/cgroup"), "/proc/self/cgroup");
            bool v1 = !plain.IsUnified;
            CgroupNamespaceRoot? namespaceRoot = CgroupNamespaceRoot.Find(plain.MemoryMount(v1), link, File.ReadAllText("/proc/self/mountinfo"), own.MemoryPath ?? "/", Environment.ProcessId);
            return namespaceRoot is null ? plain : new CgroupFs(root, namespaceRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Parsing.ProcParseException)
        {
            // Absolute paths (the init namespace's, or a host's) still resolve.
            return plain;
        }
    }

    /// <summary>Where our cgroup namespace's root was found in this tree; null: paths are taken as absolute.</summary>
    public CgroupNamespaceRoot? NamespaceRoot => _namespaceRoot;

    /// <summary>cgroup v2 (one hierarchy) rather than v1 per-controller mounts.</summary>
    public bool IsUnified { get; }

    /// <summary>The directory of the hierarchy's root that a memory path of the given kind lives in.</summary>
    public string MemoryMount(bool v1) => v1 ? $"{Root}/memory" : Root;

    /// <summary>
    /// The directory of the memory cgroup <paramref name="path"/> (as /proc/PID/cgroup shows it), or null when it is
    /// outside what this mount shows (a namespace-relative path with no known namespace root).
    /// </summary>
    public string? MemoryDirectory(string path, bool v1)
    {
        string? absolute = Absolute(path);
        return absolute is null ? null : absolute == "/" ? MemoryMount(v1) : MemoryMount(v1) + absolute;
    }

    /// <summary><paramref name="path"/> made absolute in the host's tree (the tree this mount shows), or null when it cannot be.</summary>
    public string? Absolute(string path)
    {
        if (!path.Contains("/..", StringComparison.Ordinal) && _namespaceRoot is null)
        {
            return path;
        }

        // Relative to the namespace root R: walk R's host path with the path's components.
        var parts = new List<string>(_namespaceRoot?.PathInMount.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? []);
        if (_namespaceRoot is null)
        {
            return null;
        }

        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    return null;
                }

                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>The parent of an absolute cgroup path, or null for the root.</summary>
    public static string? Parent(string absolute)
    {
        if (absolute == "/")
        {
            return null;
        }

        int slash = absolute.LastIndexOf('/');
        return slash <= 0 ? "/" : absolute[..slash];
    }

    /// <summary>A number as cgroup files write it (decimal), or null for <c>max</c> and anything unparsable.</summary>
    internal static long? Number(string text) =>
        long.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : null;
}
