namespace MapsExporter.Core.Cgroups;

/// <summary>
/// One memory cgroup's figures, read once a scan however many processes it holds. Null: not known (a file missing
/// or unreadable; the limit also when no level of the hierarchy sets one).
/// </summary>
/// <param name="Path">The cgroup's path as the process's /proc/PID/cgroup names it (the <c>cgroup</c> label).</param>
/// <param name="LimitBytes">The effective limit: the lowest over the cgroup and its ancestors, as the JVM computes it.</param>
/// <param name="LimitCgroup">The cgroup that sets <see cref="LimitBytes"/> (the deepest one of that value).</param>
/// <param name="UsageBytes">memory.current (v2) or memory.usage_in_bytes (v1): the cgroup and its descendants.</param>
/// <param name="AnonBytes">memory.stat <c>anon</c> (v2) or <c>total_rss</c> (v1).</param>
/// <param name="FileBytes">memory.stat <c>file</c> (v2) or <c>total_cache</c> (v1): page cache, shmem included.</param>
/// <param name="OomKills">memory.events <c>oom_kill</c> (v2, descendants included) or memory.oom_control <c>oom_kill</c> (v1, this cgroup's only).</param>
public sealed record CgroupMemory(string Path, long? LimitBytes, string? LimitCgroup, long? UsageBytes, long? AnonBytes, long? FileBytes, long? OomKills);
