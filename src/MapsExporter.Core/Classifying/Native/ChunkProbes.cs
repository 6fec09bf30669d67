using System.Runtime.InteropServices;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// What <see cref="MallocChunkDetector.DetectBehind"/> found in each leftover VMA of one process, keyed by the VMA's
/// bounds, so that a scan does not read a header at every page of the same VMAs of the same long-lived processes
/// again and again. It belongs to the process's state (<see cref="Scanning.ProcessState"/>: a reused PID starts
/// empty, and it is forgotten with the process).
/// <list type="bullet">
/// <item>A VMA searched without finding a chain is skipped while its bounds stay the same. A new mmapped chunk can
/// only be mapped in free address space, so a chain appears behind a VMA only with a change of its bounds (the chunk
/// merges into it); the one way back to identical bounds, an unmap then a re-map that merges back exactly, is caught
/// by searching again once the result is <see cref="RecheckAfter"/> old.</item>
/// <item>A VMA where a chain was found keeps the chain's start: one walk from there confirms it (and counts the
/// chunks); when that walk no longer ends at the VMA's end, the VMA is searched again.</item>
/// <item>VMAs not seen at an inspection are dropped.</item>
/// </list>
/// </summary>
public sealed class ChunkProbes
{
    /// <summary>A remembered result is searched for again once this old.</summary>
    public static readonly TimeSpan RecheckAfter = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly Dictionary<(ulong Start, ulong End), Entry> _vmas = [];
    private int _inspection;
    private int _seen;

    /// <param name="time">The clock of the re-checks (tests pass one they move).</param>
    public ChunkProbes(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>VMAs remembered (for tests and bounds).</summary>
    public int Count => _vmas.Count;

    internal void BeginInspection()
    {
        _inspection++;
        _seen = 0;
    }

    /// <summary>
    /// Whether [<paramref name="start"/>, <paramref name="end"/>) was searched less than <see cref="RecheckAfter"/>
    /// ago; then <paramref name="chainStart"/> is where its chain started, 0 when it had none.
    /// </summary>
    internal bool TryGetRecent(ulong start, ulong end, out ulong chainStart)
    {
        if (_vmas.TryGetValue((start, end), out Entry entry) && _time.GetElapsedTime(entry.SearchedAt) < RecheckAfter)
        {
            chainStart = entry.ChainStart;
            Keep(start, end, entry.ChainStart, entry.SearchedAt);
            return true;
        }

        chainStart = 0;
        return false;
    }

    /// <summary>A complete search of [<paramref name="start"/>, <paramref name="end"/>) found a chain at <paramref name="chainStart"/> (0: none).</summary>
    internal void Searched(ulong start, ulong end, ulong chainStart) => Keep(start, end, chainStart, _time.GetTimestamp());

    /// <summary>Drops the VMAs this inspection did not see (unmapped, resized, or classified otherwise now).</summary>
    internal void EndInspection()
    {
        if (_vmas.Count == _seen)
        {
            return;
        }

        foreach (((ulong, ulong) bounds, Entry entry) in _vmas)
        {
            if (entry.Inspection != _inspection)
            {
                _vmas.Remove(bounds);
            }
        }
    }

    private void Keep(ulong start, ulong end, ulong chainStart, long searchedAt)
    {
        ref Entry entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_vmas, (start, end), out _);
        if (entry.Inspection != _inspection)
        {
            _seen++;
        }

        entry = new Entry(chainStart, searchedAt, _inspection);
    }

    private readonly record struct Entry(ulong ChainStart, long SearchedAt, int Inspection);
}
