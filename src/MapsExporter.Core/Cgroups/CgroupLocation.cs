namespace MapsExporter.Core.Cgroups;

/// <summary>
/// Where a process lives as its /proc/PID/cgroup said when it was read: the placement without figures, the memory
/// cgroup's directory whose files give them (null: none found), and what was wrong (null: nothing).
/// </summary>
public sealed record CgroupLocation(CgroupPlacement Placement, string? MemoryDirectory, bool MemoryIsV1, string? Problem)
{
    public static CgroupLocation Unplaced(string? problem) => new(CgroupPlacement.Unknown, null, false, problem);
}
