namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Where <see cref="JemallocExtentLocator"/> found jemalloc's page-map root in one process: libjemalloc's .bss does not
/// move while the process lives, so later inspections check it with a few reads instead of reading 2 MiB again. It
/// belongs to the process's state (a reused PID starts empty).
/// </summary>
public sealed class JemallocRootCache
{
    /// <summary>The root's address, null until found.</summary>
    public ulong? Address { get; internal set; }
}
