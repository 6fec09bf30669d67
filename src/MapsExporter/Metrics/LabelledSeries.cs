using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// The series of one gauge family that the last update set: an update sets the new ones and removes the rest,
/// so a process that exited disappears at the next scan instead of lingering with its last value.
/// </summary>
internal sealed class LabelledSeries(Gauge gauge)
{
    private Dictionary<string, string[]> _current = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> _next = new(StringComparer.Ordinal);

    public void Set(double value, params string[] labels)
    {
        _next[string.Join('\0', labels)] = labels;
        gauge.WithLabels(labels).Set(value);
    }

    /// <summary>Removes every series not set since the last call.</summary>
    public void Commit()
    {
        foreach (var (key, labels) in _current)
        {
            if (!_next.ContainsKey(key))
            {
                gauge.RemoveLabelled(labels);
            }
        }

        (_current, _next) = (_next, _current);
        _next.Clear();
    }
}
