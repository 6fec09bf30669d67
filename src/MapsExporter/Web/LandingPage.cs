using System.Globalization;
using System.Net;
using System.Text;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.MemoryConsole;

namespace MapsExporter.Web;

/// <summary>
/// The page at <c>/</c>: every reported process's memory from the last scan, as a stacked bar by category and a
/// table. One self-contained HTML document (inline CSS, no script, no external assets) that reloads itself.
/// Every text that comes from a process (the app name) is HTML-encoded. Each process links to its page
/// (<c>process/PID</c>) and shows its resident total over the history window as a sparkline; <c>?sort=size</c>
/// (the default) or <c>?sort=growth</c> orders them, on the server.
/// </summary>
internal static class LandingPage
{
    /// <summary>Seconds between reloads of the page.</summary>
    public const int RefreshSeconds = 15;

    /// <summary>One color per category, in <see cref="RegionCategory"/> order; chosen to stay apart from their neighbours.</summary>
    private static readonly string[] Colors = StackedAreaChart.Colors;

    /// <summary>The orders <c>?sort=</c> takes: resident size, or growth over the history window; largest first.</summary>
    public static bool IsSort(string? sort) => sort is null or "size" or "growth";

    private static readonly string Head = $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="refresh" content="{{RefreshSeconds}}">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>MapsExporter</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        h1 { font-size: 1.4em; margin: 0 0 .3em; }
        .jvm { margin: .6em 0; }
        .label { font-weight: 600; }
        .track { width: 100%; max-width: 60em; background: #f3f3f3; }
        .bar { display: flex; height: 1.6em; min-width: 2px; }
        .seg { height: 100%; }
        .track { position: relative; }
        .mark { position: absolute; top: -0.2em; height: 2em; border-left: 2px solid; }
        .mark.limit { border-color: #c00; }
        .mark.heap-max { border-color: #333; border-left-style: dashed; }
        .where { font-weight: normal; color: #555; }
        .legend span { display: inline-block; margin: 0 1em .3em 0; white-space: nowrap; }
        .legend i { display: inline-block; width: .9em; height: .9em; margin-right: .3em; vertical-align: -.1em; }
        table { border-collapse: collapse; margin-top: 1em; }
        th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: right; }
        th:nth-child(2), td:nth-child(2) { text-align: left; }
        .bad { color: #b00020; font-weight: 600; }
        </style>
        </head>
        <body>
        <h1>MapsExporter</h1>
        <p>Where each JVM's memory goes beyond -Xmx, from /proc/PID/smaps: resident memory by category, from the last scan.
        <a href="metrics">Metrics</a> · <a href="healthz">Health</a></p>

        """;

    /// <summary>The page for <paramref name="snapshot"/> (null before the first scan).</summary>
    public static string Render(ScanSnapshot? snapshot, IReadOnlyDictionary<int, long[]>? totals = null, string? sort = null)
    {
        totals ??= new Dictionary<int, long[]>();
        var html = new StringBuilder(8192);
        html.Append(Head);
        html.Append(CultureInfo.InvariantCulture, $"<p id=\"version\">Version {BuildInfo.Version}, revision {BuildInfo.Revision}, .NET {BuildInfo.DotnetVersion}</p>\n");
        if (snapshot is null)
        {
            html.Append("<p id=\"status\">No scan yet.</p>\n</body>\n</html>\n");
            return html.ToString();
        }

        string scanned = snapshot.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
        html.Append(CultureInfo.InvariantCulture, $"<p id=\"status\">Last scan {scanned}, {snapshot.Duration.TotalMilliseconds:F0} ms, {snapshot.Processes.Count} processes");
        if (!snapshot.Success)
        {
            html.Append(CultureInfo.InvariantCulture, $"; <span class=\"bad\">failed: {Encode(snapshot.FailureMessage ?? "")}</span>");
        }
        else if (snapshot.Errors.Count > 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"; <span class=\"bad\">{snapshot.Errors.Count} could not be read</span> (see mapsexporter_scan_errors_total)");
        }

        html.Append(".</p>\n");
        if (snapshot.Processes.Count == 0)
        {
            html.Append("<p>No JVM found.</p>\n</body>\n</html>\n");
            return html.ToString();
        }

        AppendLegend(html);
        bool byGrowth = sort == "growth";
        html.Append(byGrowth
            ? "<p id=\"sort\">Sorted by growth over the history window (<a href=\"?sort=size\">sort by size</a>).</p>\n"
            : "<p id=\"sort\">Sorted by size (<a href=\"?sort=growth\">sort by growth over the history window</a>).</p>\n");
        long Growth(ProcessSample p) => totals.TryGetValue(p.Pid, out long[]? t) && HistoryWindow.Change(t) is { } g ? g : long.MinValue;
        List<ProcessSample> processes = byGrowth
            ? [.. snapshot.Processes.OrderByDescending(Growth).ThenByDescending(p => Size(p.Report)).ThenBy(p => p.Pid)]
            : [.. snapshot.Processes.OrderByDescending(p => Size(p.Report)).ThenBy(p => p.Pid)];
        // The scale holds each bar and the limit and heap maximum drawn on it.
        long largest = Math.Max(1, processes.Max(p => Math.Max(Size(p.Report), Math.Max(p.Report.Cgroup?.Memory?.LimitBytes ?? 0, MemoryHeadroom.HeapMaxBytes(p.Report) ?? 0))));
        foreach (ProcessSample process in processes)
        {
            AppendBar(html, process, largest, totals);
        }

        AppendTable(html, processes, scanned, totals);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>What a bar shows: resident bytes, or virtual bytes when only maps could be read.</summary>
    private static long Size(MemoryReport report) => report.ResidentKnown ? report.Total.ResidentBytes ?? 0 : report.Total.VirtualBytes;

    private static long Size(MemoryReport report, RegionCategory category) =>
        report.ResidentKnown ? report[category].ResidentBytes ?? 0 : report[category].VirtualBytes;

    private static void AppendLegend(StringBuilder html)
    {
        html.Append("<div class=\"legend\">");
        foreach (RegionCategory category in RegionCategories.All)
        {
            html.Append(CultureInfo.InvariantCulture, $"<span><i style=\"background:{Colors[(int)category]}\"></i>{category.Id()}</span>");
        }

        html.Append("</div>\n");
    }

    private static void AppendBar(StringBuilder html, ProcessSample process, long largest, IReadOnlyDictionary<int, long[]> totals)
    {
        MemoryReport report = process.Report;
        long total = Size(report);
        string what = report.ResidentKnown ? "resident" : "virtual (smaps unreadable)";
        double width = 100.0 * total / largest;
        string spark = totals.TryGetValue(process.Pid, out long[]? series) ? Sparkline.Render(process.Pid, series) : "";
        string growth = series is not null && HistoryWindow.Change(series) is { } g ? $", {(g > 0 ? "+" : "")}{Bytes(g)} over the window" : "";
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"jvm\" data-pid=\"{process.Pid}\">\n<div class=\"label\"><a href=\"process/{process.Pid}\">{process.Pid} {Encode(report.App)}</a>{Where(report)}: {Bytes(total)} {what}{growth}{LimitText(report)} {spark}</div>\n");
        html.Append(CultureInfo.InvariantCulture, $"<div class=\"track\"><div class=\"bar\" style=\"width:{width:F2}%\">");
        foreach (RegionCategory category in RegionCategories.All)
        {
            long bytes = Size(report, category);
            if (bytes <= 0 || total <= 0)
            {
                continue;
            }

            double share = 100.0 * bytes / total;
            string title = $"{category.Id()}: {Bytes(bytes)} ({share:F1}%)";
            html.Append(CultureInfo.InvariantCulture,
                $"<div class=\"seg\" data-category=\"{category.Id()}\" data-bytes=\"{bytes}\" title=\"{Encode(title)}\" style=\"width:{share:F3}%;background:{Colors[(int)category]}\"></div>");
        }

        html.Append("</div>");
        AppendMark(html, "limit", "memory limit", report.Cgroup?.Memory?.LimitBytes, largest);
        AppendMark(html, "heap-max", "heap maximum", MemoryHeadroom.HeapMaxBytes(report), largest);
        html.Append("</div>\n</div>\n");
    }

    /// <summary>A line across the track at <paramref name="bytes"/> on the page's scale (the bar starts with the Java heap).</summary>
    private static void AppendMark(StringBuilder html, string kind, string name, long? bytes, long largest)
    {
        if (bytes is { } b)
        {
            html.Append(CultureInfo.InvariantCulture, $"<div class=\"mark {kind}\" data-bytes=\"{b}\" title=\"{name}: {Bytes(b)}\" style=\"left:{100.0 * b / largest:F2}%\"></div>");
        }
    }

    /// <summary>Where the process lives, beside its name (<see cref="ProcessPlace"/>).</summary>
    private static string Where(MemoryReport report) =>
        ProcessPlace.Describe(report) is { Length: > 0 } where ? $" <span class=\"where\">({Encode(where)})</span>" : "";

    private static string LimitText(MemoryReport report)
    {
        if (report.Cgroup?.Memory?.LimitBytes is not { } limit)
        {
            return "";
        }

        string headroom = MemoryHeadroom.Of(report) is { } h ? $", headroom {Bytes(h)}" : "";
        return $"; limit {Bytes(limit)}{headroom}";
    }

    private static void AppendTable(StringBuilder html, List<ProcessSample> processes, string scanned, IReadOnlyDictionary<int, long[]> totals)
    {
        html.Append("<table id=\"processes\">\n<thead><tr><th>pid</th><th>app</th><th>resident</th><th>virtual</th><th>Java heap</th><th>arenas</th><th>thread stacks</th><th>threads</th><th>last scan</th><th title=\"resident total now minus at the window's start\">growth</th></tr></thead>\n<tbody>\n");
        foreach (ProcessSample process in processes)
        {
            MemoryReport report = process.Report;
            CategoryTotals total = report.Total;
            string resident = report.ResidentKnown ? Bytes(total.ResidentBytes ?? 0) : "unknown";
            html.Append(CultureInfo.InvariantCulture,
                $"<tr data-pid=\"{process.Pid}\"><td><a href=\"process/{process.Pid}\">{process.Pid}</a></td><td>{Encode(report.App)}</td><td>{resident}</td><td>{Bytes(total.VirtualBytes)}</td>" +
                $"<td>{Bytes(report.ResidentKnown ? report[RegionCategory.JavaHeap].ResidentBytes ?? 0 : report[RegionCategory.JavaHeap].VirtualBytes)}</td>" +
                $"<td>{report.LibcArenas}</td><td>{report.ThreadStacks}</td><td>{report.Threads?.ToString(CultureInfo.InvariantCulture) ?? ""}</td><td>{scanned}</td>" +
                $"<td>{(totals.TryGetValue(process.Pid, out long[]? t) && HistoryWindow.Change(t) is { } g ? (g > 0 ? "+" : "") + Bytes(g) : "")}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>Binary units, one decimal: 1.5 GiB, 640.0 KiB.</summary>
    internal static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:F1} {units[unit]}");
    }
}
