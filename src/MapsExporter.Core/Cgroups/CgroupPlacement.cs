namespace MapsExporter.Core.Cgroups;

/// <summary>Where one process lives: its cgroup, what the cgroup's name says, its pod's hostname, and its memory cgroup's figures.</summary>
/// <param name="Path">
/// The memory cgroup's path in the mounted tree (absolute, the host's when the host's tree is mounted), or as
/// /proc/PID/cgroup shows it when it cannot be resolved; empty when unknown.
/// </param>
/// <param name="Identity">The systemd unit, container and pod its identity path names.</param>
/// <param name="Pod">The container's hostname (the pod's name) when a pod UID was found and the process has its own UTS namespace; else empty.</param>
/// <param name="Memory">The memory cgroup's figures, shared by every process of that cgroup in a scan; null when not read.</param>
public sealed record CgroupPlacement(string Path, CgroupIdentity Identity, string Pod, CgroupMemory? Memory)
{
    public static CgroupPlacement Unknown { get; } = new("", CgroupIdentity.None, "", null);
}
