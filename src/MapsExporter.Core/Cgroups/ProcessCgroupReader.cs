using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Places processes in their cgroups: /proc/PID/cgroup each time (a process can be moved), each memory cgroup's
/// files once per scan (<see cref="BeginScan"/>) however many processes it holds. Never throws for a cgroup that
/// cannot be read: the placement has what could be filled and the problem is returned to be counted (reason
/// <c>cgroup</c>). Nothing comes from a process's environment. Not thread-safe: one per scanning loop.
/// </summary>
public sealed class ProcessCgroupReader
{
    private const int MaxHostnameLength = 253;
    private readonly ProcFs _procFs;
    private readonly CgroupFs _cgroupFs;
    private readonly Dictionary<(string, bool), (CgroupMemory Memory, string? Problem)> _scanCache = new();
    private readonly List<string> _problems = [];
    private string? _referenceUts;

    public ProcessCgroupReader(ProcFs procFs, CgroupFs cgroupFs)
    {
        _procFs = procFs;
        _cgroupFs = cgroupFs;
    }

    public CgroupFs CgroupFs => _cgroupFs;

    /// <summary>Forgets the last scan's cgroup figures (the next read of each cgroup reads its files again).</summary>
    public void BeginScan()
    {
        _scanCache.Clear();
        _referenceUts = null;
    }

    /// <summary>
    /// The process's placement; <paramref name="problem"/> says what could not be read or parsed (null: nothing).
    /// Throws <see cref="ProcessReadException"/> (vanished) only when /proc/PID/cgroup itself is gone: the process is.
    /// </summary>
    public CgroupPlacement Read(int pid, out string? problem)
    {
        problem = null;
        string source = _procFs.PidPath(pid, "cgroup");
        ProcCgroup cgroup;
        try
        {
            cgroup = ProcCgroupParser.Parse(File.ReadAllText(source), source);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            ProcessReadException failure = ProcReadErrors.Translate(pid, source, e);
            if (failure.Reason != ReadFailure.Vanished)
            {
                problem = failure.Message;
                return CgroupPlacement.Unknown;
            }

            // No file with the process's directory still there: a kernel without cgroups (or a capture without the
            // file), where there is nothing to place; without the directory, the process is gone.
            return Directory.Exists(_procFs.PidDirectory(pid)) ? CgroupPlacement.Unknown : throw failure;
        }
        catch (Parsing.ProcParseException e)
        {
            problem = e.Message;
            return CgroupPlacement.Unknown;
        }

        CgroupIdentity identity = CgroupIdentity.FromPath(cgroup.IdentityPath);
        if (identity.UnknownRuntime)
        {
            problem = $"{source}: {cgroup.IdentityPath}: a container id under an engine this does not know";
        }

        string pod = identity.PodUid.Length > 0 ? PodHostname(pid) : "";
        if (cgroup.MemoryPath is not { } memoryPath)
        {
            problem ??= $"{source}: no memory cgroup (no v1 memory line, no v2 line)";
            return new CgroupPlacement("", identity, pod, null);
        }

        if (_cgroupFs.Absolute(memoryPath) is not { } absolute)
        {
            problem ??= $"{source}: {memoryPath} is relative to a cgroup namespace whose root was not found in {_cgroupFs.Root}";
            return new CgroupPlacement(memoryPath, identity, pod, null);
        }

        if (!_scanCache.TryGetValue((absolute, cgroup.MemoryIsV1), out var read))
        {
            _problems.Clear();
            CgroupMemory memory = CgroupMemoryReader.Read(_cgroupFs, absolute, cgroup.MemoryIsV1, _problems);
            read = (memory, _problems.Count == 0 ? null : string.Join("; ", _problems));
            _scanCache[(absolute, cgroup.MemoryIsV1)] = read;
        }

        problem ??= read.Problem;
        return new CgroupPlacement(absolute, identity, pod, read.Memory);
    }

    /// <summary>
    /// The pod's name as its containers' hostname, through the process's own root (containerd and CRI-O bind-mount
    /// the sandbox's hostname file at /etc/hostname), only when the process has a UTS namespace of its own: a
    /// hostNetwork pod shares the node's, and its hostname is the node's name. Empty when it cannot be read.
    /// </summary>
    private string PodHostname(int pid)
    {
        string? own = ReadLink(_procFs.PidPath(pid, "ns/uts"));
        // The host's UTS namespace is PID 1's (hostPID); where that link is refused, ours stands in for it.
        _referenceUts ??= ReadLink(_procFs.HostPath("1/ns/uts")) ?? ReadLink(_procFs.HostPath("self/ns/uts")) ?? "";
        if (own is null || own == _referenceUts)
        {
            return "";
        }

        try
        {
            string name = File.ReadAllText(_procFs.PidPath(pid, "root/etc/hostname")).Trim();
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
