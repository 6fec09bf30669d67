using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Places processes in their cgroups: where a process lives from /proc/PID/cgroup (<see cref="Locate"/>, which the
/// caller keeps between scans and refreshes as it likes: a process is seldom moved), each memory cgroup's files once
/// per scan (<see cref="BeginScan"/>) however many processes it holds (<see cref="Read(CgroupLocation, out string?)"/>).
/// Never throws for a cgroup that cannot be read: the placement has what could be filled and the problem is returned to
/// be counted (reason <c>cgroup</c>). Nothing comes from a process's environment. Not thread-safe: one per scanning loop.
/// </summary>
public sealed class ProcessCgroupReader
{
    private const int MaxHostnameLength = 253;
    private readonly ProcessFiles _files;
    private readonly CgroupFs _cgroupFs;
    private readonly Dictionary<(string, bool), (CgroupMemory Memory, string? Problem)> _scanCache = new();
    private readonly List<string> _problems = [];
    private string? _referenceUts;

    /// <param name="files">The scan's reads of /proc (the process's cgroup file is read through it).</param>
    /// <param name="cgroupFs">Where the cgroups are read.</param>
    public ProcessCgroupReader(ProcessFiles files, CgroupFs cgroupFs)
    {
        _files = files;
        _cgroupFs = cgroupFs;
    }

    public CgroupFs CgroupFs => _cgroupFs;

    /// <summary>Forgets the last scan's cgroup figures (the next read of each cgroup reads its files again).</summary>
    public void BeginScan()
    {
        _scanCache.Clear();
        _referenceUts = null;
    }

    /// <summary>The process's placement with this scan's memory figures: <see cref="Locate"/> then <see cref="Read(CgroupLocation, out string?)"/>.</summary>
    public CgroupPlacement Read(int pid, out string? problem) => Read(Locate(pid), out problem);

    /// <summary>
    /// Where the process lives, from /proc/PID/cgroup: its cgroup, identity and pod, and its memory cgroup's directory
    /// (the problem, if any, inside). Throws <see cref="ProcessReadException"/> (vanished) only when /proc/PID/cgroup
    /// itself is gone: the process is.
    /// </summary>
    public CgroupLocation Locate(int pid)
    {
        string source = _files.ProcFs.PidPath(pid, "cgroup");
        ProcCgroup cgroup;
        try
        {
            cgroup = ProcCgroupParser.Parse(System.Text.Encoding.UTF8.GetString(_files.Read(pid, "cgroup")), source);
        }
        catch (ProcessReadException failure) when (failure.Reason != ReadFailure.Vanished)
        {
            return CgroupLocation.Unplaced(failure.Message);
        }
        catch (ProcessReadException) when (Directory.Exists(_files.ProcFs.PidDirectory(pid)))
        {
            // No file with the process's directory still there: a kernel without cgroups (or a capture without the
            // file), where there is nothing to place; without the directory, the process is gone (thrown on).
            return CgroupLocation.Unplaced(null);
        }
        catch (Parsing.ProcParseException e)
        {
            return CgroupLocation.Unplaced(e.Message);
        }

        CgroupIdentity identity = CgroupIdentity.FromPath(cgroup.IdentityPath);
        string? problem = identity.UnknownRuntime ? $"{source}: {cgroup.IdentityPath}: a container id under an engine this does not know" : null;
        string pod = identity.PodUid.Length > 0 ? PodHostname(pid) : "";
        if (cgroup.MemoryPath is not { } memoryPath)
        {
            return new CgroupLocation(new CgroupPlacement("", identity, pod, null), null, false, problem ?? $"{source}: no memory cgroup (no v1 memory line, no v2 line)");
        }

        if (_cgroupFs.Absolute(memoryPath) is not { } absolute)
        {
            return new CgroupLocation(new CgroupPlacement(memoryPath, identity, pod, null), null, false,
                problem ?? $"{source}: {memoryPath} is relative to a cgroup namespace whose root was not found in {_cgroupFs.Root}");
        }

        return new CgroupLocation(new CgroupPlacement(absolute, identity, pod, null), absolute, cgroup.MemoryIsV1, problem);
    }

    /// <summary>
    /// The placement at <paramref name="location"/> with its memory cgroup's figures of this scan; <paramref name="problem"/>
    /// says what could not be read or parsed (null: nothing).
    /// </summary>
    public CgroupPlacement Read(CgroupLocation location, out string? problem)
    {
        problem = location.Problem;
        if (location.MemoryDirectory is not { } directory)
        {
            return location.Placement;
        }

        if (!_scanCache.TryGetValue((directory, location.MemoryIsV1), out var read))
        {
            _problems.Clear();
            CgroupMemory memory = CgroupMemoryReader.Read(_cgroupFs, directory, location.MemoryIsV1, _problems);
            read = (memory, _problems.Count == 0 ? null : string.Join("; ", _problems));
            _scanCache[(directory, location.MemoryIsV1)] = read;
        }

        problem ??= read.Problem;
        return location.Placement with { Memory = read.Memory };
    }

    /// <summary>
    /// The pod's name as its containers' hostname, through the process's own root (containerd and CRI-O bind-mount
    /// the sandbox's hostname file at /etc/hostname), only when the process has a UTS namespace of its own: a
    /// hostNetwork pod shares the node's, and its hostname is the node's name. Empty when it cannot be read.
    /// </summary>
    private string PodHostname(int pid)
    {
        string? own = ReadLink(_files.ProcFs.PidPath(pid, "ns/uts"));
        // The host's UTS namespace is PID 1's (hostPID); where that link is refused, ours stands in for it.
        _referenceUts ??= ReadLink(_files.ProcFs.HostPath("1/ns/uts")) ?? ReadLink(_files.ProcFs.HostPath("self/ns/uts")) ?? "";
        if (own is null || own == _referenceUts)
        {
            return "";
        }

        try
        {
            string name = File.ReadAllText(_files.ProcFs.PidPath(pid, "root/etc/hostname")).Trim();
            return name.Length <= MaxHostnameLength && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_') ? name : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string? ReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
