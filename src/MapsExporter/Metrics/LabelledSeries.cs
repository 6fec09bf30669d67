using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// The series of one gauge family that the last update set: an update sets the new ones and removes the rest,
/// so a process that exited disappears at the next scan instead of lingering with its last value. Each series'
/// child is kept: a scan sets thousands of series, and looking each one up in the registry by its label values
/// (what <c>WithLabels</c> does) was a tenth of the daemon's CPU per scan in a profile of 20 JVMs.
/// </summary>
internal sealed class LabelledSeries(Gauge gauge)
{
    private readonly Dictionary<SeriesKey, Series> _series = [];
    private int _update;

    public void Set(double value, string first) => Set(value, new SeriesKey(first, null, null, null), null);

    public void Set(double value, string first, string second) => Set(value, new SeriesKey(first, second, null, null), null);

    public void Set(double value, string first, string second, string third) =>
        Set(value, new SeriesKey(first, second, third, null), null);

    public void Set(double value, string first, string second, string third, string fourth) =>
        Set(value, new SeriesKey(first, second, third, fourth), null);

    /// <summary>Any number of labels (the info families): their values joined make the key.</summary>
    public void Set(double value, params string[] labels) => Set(value, new SeriesKey(string.Join('\0', labels), null, null, null), labels);

    /// <summary>Removes every series not set since the last call.</summary>
    public void Commit()
    {
        foreach (var (key, series) in _series)
        {
            if (series.Update != _update)
            {
                series.Child.Remove();
                _series.Remove(key);
            }
        }

        _update++;
    }

    private void Set(double value, SeriesKey key, string[]? labels)
    {
        if (!_series.TryGetValue(key, out Series? series))
        {
            series = new Series(gauge.WithLabels(labels ?? key.Labels()));
            _series.Add(key, series);
        }

        series.Update = _update;
        series.Child.Set(value);
    }

    /// <summary>Up to four label values held as they are (no string built per lookup).</summary>
    private readonly record struct SeriesKey(string First, string? Second, string? Third, string? Fourth)
    {
        public string[] Labels() => Fourth is not null ? [First, Second!, Third!, Fourth]
            : Third is not null ? [First, Second!, Third]
            : Second is not null ? [First, Second] : [First];
    }

    private sealed class Series(Gauge.Child child)
    {
        public Gauge.Child Child => child;

        public int Update { get; set; }
    }
}
