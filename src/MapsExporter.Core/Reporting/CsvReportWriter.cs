using System.Globalization;
using System.Text;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Core.Reporting;

/// <summary>One row per process, a column per category and measure; unknown figures are empty fields.</summary>
public static class CsvReportWriter
{
    private static readonly string[] Measures = ["regions", "virtual_bytes", "resident_bytes", "proportional_bytes", "swap_bytes"];

    public static string Header()
    {
        var line = new StringBuilder("pid,app,threads,thread_stacks,libc_arenas,libc_arena_heaps");
        foreach (RegionCategory category in RegionCategories.All)
        {
            AppendMeasures(line, category.Id());
        }

        AppendMeasures(line, "total");
        line.Append(",cgroup_path,systemd_unit,container_runtime,container_id,pod_uid,qos_class,pod,memory_limit_bytes,memory_limit_cgroup,memory_usage_bytes,memory_anon_bytes,memory_file_bytes,oom_kills");
        return line.ToString();
    }

    public static string Row(MemoryReport report)
    {
        var line = new StringBuilder();
        line.Append(Number(report.Pid)).Append(',').Append(Quote(report.App)).Append(',')
            .Append(Number(report.Threads)).Append(',').Append(Number(report.ThreadStacks)).Append(',').Append(Number(report.LibcArenas))
            .Append(',').Append(Number(report.LibcArenaHeaps));
        foreach (RegionCategory category in RegionCategories.All)
        {
            AppendTotals(line, report[category]);
        }

        AppendTotals(line, report.Total);
        AppendCgroup(line, report.Cgroup);
        return line.ToString();
    }

    private static void AppendMeasures(StringBuilder line, string prefix)
    {
        foreach (string measure in Measures)
        {
            line.Append(',').Append(prefix).Append('_').Append(measure);
        }
    }

    private static void AppendTotals(StringBuilder line, in CategoryTotals t) =>
        line.Append(',').Append(Number(t.Regions)).Append(',').Append(Number(t.VirtualBytes)).Append(',').Append(Number(t.ResidentBytes))
            .Append(',').Append(Number(t.ProportionalBytes)).Append(',').Append(Number(t.SwapBytes));

    // Where the process lives (issue 15): empty fields where unknown, not applying or unlimited.
    private static void AppendCgroup(StringBuilder line, Cgroups.CgroupPlacement? where)
    {
        Cgroups.CgroupIdentity id = where?.Identity ?? Cgroups.CgroupIdentity.None;
        Cgroups.CgroupMemory? memory = where?.Memory;
        foreach (string field in (string[])[where?.Path ?? "", id.SystemdUnit, id.ContainerRuntime, id.ContainerId, id.PodUid, id.QosClass, where?.Pod ?? ""])
        {
            line.Append(',').Append(Quote(field));
        }

        line.Append(',').Append(Number(memory?.LimitBytes)).Append(',').Append(Quote(memory?.LimitCgroup ?? "")).Append(',').Append(Number(memory?.UsageBytes))
            .Append(',').Append(Number(memory?.AnonBytes)).Append(',').Append(Number(memory?.FileBytes)).Append(',').Append(Number(memory?.OomKills));
    }

    private static string Number(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    // RFC 4180: quote fields holding a comma, quote or line break.
    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
