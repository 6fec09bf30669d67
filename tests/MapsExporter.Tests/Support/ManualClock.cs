using System.Diagnostics;

namespace MapsExporter.Tests.Support;

/// <summary>A clock whose timestamps move only when a test says (the caches' re-check intervals without waiting).</summary>
internal sealed class ManualClock : TimeProvider
{
    private long _timestamp = Stopwatch.GetTimestamp();

    public override long GetTimestamp() => _timestamp;

    public void Advance(TimeSpan by) => _timestamp += (long)(by.TotalSeconds * TimestampFrequency);
}
