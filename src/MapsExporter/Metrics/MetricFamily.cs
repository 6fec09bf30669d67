using MapsExporter.Core.Scanning;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// One family of <see cref="MetricFamilies"/>: its name, HELP and labels, and how its values follow from a scan.
/// A publication calls <see cref="SetProcess"/> for every process of the snapshot, then <see cref="Finish"/> once.
/// </summary>
internal abstract class MetricFamily(string name, string help, IReadOnlyList<string> labels)
{
    public string Name => name;

    public string Help => help;

    public IReadOnlyList<string> Labels => labels;

    /// <summary>Labelled by process: each series belongs to one process and must go when the process does.</summary>
    public bool IsPerProcess => labels.Contains("pid");

    /// <summary>Creates the collector; called once, in table order (the exposition's family order).</summary>
    public abstract void Register(MetricFactory factory);

    public virtual void SetProcess(ProcessSample sample, string pid)
    {
    }

    public abstract void Finish(ScanFigures scan);
}

/// <summary>What one publication shows: the scan, the host's CPUs (read before the publisher's lock), the exporter's own figures.</summary>
internal sealed record ScanFigures(ScanSnapshot Snapshot, int HostCpus, SelfFigures Self);

/// <summary>
/// A gauge labelled <c>pid</c>, <c>app</c> and at most two more labels. Its series are the ones the last scan set:
/// <see cref="Finish"/> removes the rest, so no series of this kind outlives its process.
/// </summary>
internal sealed class ProcessGauge(string name, string help, string[] labels, Action<ProcessSample, ProcessSeries> values)
    : MetricFamily(name, help, ["pid", "app", .. labels])
{
    private ProcessSeries? _series;

    public override void Register(MetricFactory factory) =>
        _series = new ProcessSeries(new LabelledSeries(factory.CreateGauge(Name, Help, Labels.ToArray())));

    public override void SetProcess(ProcessSample sample, string pid)
    {
        _series!.For(pid, sample.Report.App);
        values(sample, _series);
    }

    public override void Finish(ScanFigures scan) => _series!.Series.Commit();
}

/// <summary>The series of one <see cref="ProcessGauge"/> for the process being published.</summary>
internal sealed class ProcessSeries(LabelledSeries series)
{
    private string _pid = "";
    private string _app = "";

    public LabelledSeries Series => series;

    public void For(string pid, string app) => (_pid, _app) = (pid, app);

    public void Set(double value) => series.Set(value, _pid, _app);

    public void Set(string label, double value) => series.Set(value, _pid, _app, label);

    public void Set(string label, string other, double value) => series.Set(value, _pid, _app, label, other);

    public void SetIfKnown(double? value)
    {
        if (value is { } v)
        {
            Set(v);
        }
    }
}

/// <summary>An unlabelled gauge of the scan as a whole; a null value unpublishes it (no fake zero).</summary>
internal sealed class ScanGauge(string name, string help, Func<ScanFigures, double?> value) : MetricFamily(name, help, [])
{
    private Gauge? _gauge;

    public override void Register(MetricFactory factory) => _gauge = factory.CreateGauge(Name, Help);

    public override void Finish(ScanFigures scan)
    {
        if (value(scan) is { } v)
        {
            _gauge!.Set(v);
        }
        else
        {
            _gauge!.Unpublish();
        }
    }
}

/// <summary>A gauge of one series, always 1, whose labels are fixed for the life of the process (build information).</summary>
internal sealed class InfoGauge(string name, string help, params (string Label, string Value)[] labels)
    : MetricFamily(name, help, labels.Select(l => l.Label).ToArray())
{
    private Gauge? _gauge;

    public override void Register(MetricFactory factory) => _gauge = factory.CreateGauge(Name, Help, Labels.ToArray());

    public override void Finish(ScanFigures scan) => _gauge!.WithLabels(labels.Select(l => l.Value).ToArray()).Set(1);
}

/// <summary>An unlabelled counter raised to a running total kept elsewhere (the runtime's).</summary>
internal sealed class ScanTotal(string name, string help, Func<ScanFigures, double> total) : MetricFamily(name, help, [])
{
    private Counter? _counter;

    public override void Register(MetricFactory factory) => _counter = factory.CreateCounter(Name, Help);

    public override void Finish(ScanFigures scan) => _counter!.IncTo(total(scan));
}

/// <summary>
/// A counter with one label that counts events of each scan. Its known label values are registered at once, so
/// each shows 0 before it first happens (a rate over a series that appears later misses its first increase).
/// </summary>
internal sealed class EventCounter(string name, string help, string label, IReadOnlyList<string> known, Func<ScanFigures, IEnumerable<string>> events)
    : MetricFamily(name, help, [label])
{
    private Counter? _counter;

    public override void Register(MetricFactory factory)
    {
        _counter = factory.CreateCounter(Name, Help, label);
        foreach (string value in known)
        {
            _counter.WithLabels(value);
        }
    }

    public override void Finish(ScanFigures scan)
    {
        foreach (string value in events(scan))
        {
            _counter!.WithLabels(value).Inc();
        }
    }
}
