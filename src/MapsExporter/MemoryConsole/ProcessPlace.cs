using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Reporting;

namespace MapsExporter.MemoryConsole;

/// <summary>Where a process lives, in a few words: its pod (name, else UID), systemd unit, or container; empty when none applies.</summary>
internal static class ProcessPlace
{
    public static string Describe(MemoryReport report)
    {
        CgroupIdentity? id = report.Cgroup?.Identity;
        return id is null ? ""
            : id.PodUid.Length > 0 ? "pod " + (report.Cgroup!.Pod.Length > 0 ? report.Cgroup.Pod : id.PodUid)
            : id.SystemdUnit.Length > 0 ? "unit " + id.SystemdUnit
            : id.ContainerId.Length > 0 ? "container " + id.ContainerId[..Math.Min(12, id.ContainerId.Length)]
            : "";
    }
}
