using MapsExporter.Core.Cgroups;
using Prometheus;

namespace MapsExporter.Metrics;

/// <summary>
/// <c>mapsexporter_process_cgroup_info</c>: always 1, a reported process with where it lives (its memory cgroup, the
/// systemd unit, container and pod its cgroup names); labels empty where they do not apply.
/// </summary>
internal sealed class ProcessCgroupInfo(string name, string help)
    : MetricFamily(name, help, ["pid", "app", "cgroup", "systemd_unit", "container_runtime", "container_id", "pod_uid", "qos_class", "pod"])
{
    private LabelledSeries? _series;

    public override void Register(MetricFactory factory) => _series = new LabelledSeries(factory.CreateGauge(Name, Help, Labels.ToArray()));

    public override void SetProcess(Core.Scanning.ProcessSample sample, string pid)
    {
        CgroupPlacement where = sample.Report.Cgroup ?? CgroupPlacement.Unknown;
        CgroupIdentity id = where.Identity;
        _series!.Set(1, pid, sample.Report.App, where.Path, id.SystemdUnit, id.ContainerRuntime, id.ContainerId, id.PodUid, id.QosClass, where.Pod);
    }

    public override void Finish(ScanFigures scan) => _series!.Commit();
}

/// <summary>
/// A gauge labelled <c>cgroup</c>: one series per memory cgroup of the scan's processes, however many of them it
/// holds; a null figure is not published, and a cgroup no process of the last scan is in goes.
/// </summary>
internal sealed class CgroupGauge(string name, string help, Func<CgroupMemory, long?> value) : MetricFamily(name, help, ["cgroup"])
{
    private LabelledSeries? _series;

    public override void Register(MetricFactory factory) => _series = new LabelledSeries(factory.CreateGauge(Name, Help, "cgroup"));

    public override void Finish(ScanFigures scan)
    {
        foreach (CgroupMemory memory in Cgroups(scan))
        {
            if (value(memory) is { } v)
            {
                _series!.Set(v, memory.Path);
            }
        }

        _series!.Commit();
    }

    internal static IEnumerable<CgroupMemory> Cgroups(ScanFigures scan) =>
        scan.Snapshot.Processes.Select(p => p.Report.Cgroup?.Memory).OfType<CgroupMemory>().DistinctBy(m => m.Path, StringComparer.Ordinal);
}

/// <summary>
/// A counter labelled <c>cgroup</c> raised to a count the kernel keeps (OOM kills); a cgroup no process is in any
/// more loses its series, so a cgroup made again under the same name starts a new one.
/// </summary>
internal sealed class CgroupCounter(string name, string help, Func<CgroupMemory, long?> total) : MetricFamily(name, help, ["cgroup"])
{
    private Counter? _counter;
    private HashSet<string> _current = new(StringComparer.Ordinal);

    public override void Register(MetricFactory factory) => _counter = factory.CreateCounter(Name, Help, "cgroup");

    public override void Finish(ScanFigures scan)
    {
        var next = new HashSet<string>(StringComparer.Ordinal);
        foreach (CgroupMemory memory in CgroupGauge.Cgroups(scan))
        {
            if (total(memory) is { } v)
            {
                _counter!.WithLabels(memory.Path).IncTo(v);
                next.Add(memory.Path);
            }
        }

        foreach (string gone in _current.Except(next))
        {
            _counter!.RemoveLabelled(gone);
        }

        _current = next;
    }
}
