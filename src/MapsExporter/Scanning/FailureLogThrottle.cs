namespace MapsExporter.Scanning;

/// <summary>
/// Decides when a class of failure (a read-failure reason, smaps fallback, a failed scan) is logged: the first
/// time, then at most once per period with how many occurrences were not logged, so a scan every few seconds
/// over many processes never floods the journal.
/// </summary>
internal sealed class FailureLogThrottle(TimeProvider time, TimeSpan period)
{
    private readonly Dictionary<string, (DateTimeOffset Logged, long Suppressed)> _classes = [];

    public TimeSpan Period => period;

    /// <summary>Records <paramref name="count"/> occurrences; true when they should be logged now, with the occurrences suppressed since the last log.</summary>
    public bool ShouldLog(string failureClass, long count, out long suppressed)
    {
        DateTimeOffset now = time.GetUtcNow();
        if (_classes.TryGetValue(failureClass, out var state) && now - state.Logged < period)
        {
            _classes[failureClass] = state with { Suppressed = state.Suppressed + count };
            suppressed = 0;
            return false;
        }

        suppressed = state.Suppressed;
        _classes[failureClass] = (now, 0);
        return true;
    }
}
