namespace MapsExporter.Core.Classifying.Native;

/// <summary>How much one process's free-list walks may cost: chunks read, time, and reads of a torn arena.</summary>
public sealed record MallocReadLimits(long MaxChunks, TimeSpan MaxDuration, int Attempts)
{
    /// <summary>
    /// A million chunks (32 MiB of 32-byte reads; a busy JVM has a few thousand), 200 ms, three tries: a live JVM
    /// needed at most two retries of an arena in the research runs.
    /// </summary>
    public static readonly MallocReadLimits Default = new(1_000_000, TimeSpan.FromMilliseconds(200), 3);

    /// <summary>The arenas' states and tops only, no free list (every arena then counts as a fallback): the benchmark's middle step.</summary>
    public static readonly MallocReadLimits StatesOnly = new(0, TimeSpan.FromMilliseconds(200), 1);

    /// <summary>Nothing read: the arenas as their heaps show them, as before the reader existed.</summary>
    public static readonly MallocReadLimits Off = new(-1, TimeSpan.Zero, 0);
}
