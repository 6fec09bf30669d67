using System.Globalization;
using System.Net;
using System.Text;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Web;

namespace MapsExporter.MemoryConsole;

/// <summary>
/// <c>/process/PID</c>: one process's last hour (the <c>--web.history</c> window) as a chart, what grew, and the last
/// scan's findings. One self-contained HTML document: inline CSS and SVG, no script, nothing loaded from elsewhere.
/// Every figure carries a <c>title</c> saying what it is and where it comes from; every text from the process (its
/// app name, thread names, cgroup) is HTML-encoded.
/// </summary>
internal static class ProcessPage
{
    /// <summary>The text report read for the page: <see cref="Resident"/> when from smaps, with resident figures.</summary>
    public sealed record TextReport(string Text, bool Resident);

    public const string ContentType = "text/html; charset=utf-8";

    private const string Style = """
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .3em; }
        table { border-collapse: collapse; } th, td { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .up { color: #b00020; } .note { color: #555; } pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 12px; }
        [title] { text-decoration: underline dotted #999; }
        </style>
        """;

    /// <summary>The page for <paramref name="sample"/> of the scan at <paramref name="scanned"/>; <paramref name="textReport"/>: the layout read now, or null.</summary>
    public static string Render(ProcessSample sample, HistoryWindow history, DateTimeOffset scanned, TextReport? textReport)
    {
        MemoryReport report = sample.Report;
        var html = new StringBuilder(65536);
        string pid = sample.Pid.ToString(CultureInfo.InvariantCulture);
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="{LandingPage.RefreshSeconds}">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{pid} {Encode(report.App)} · MapsExporter</title>
            {Style}
            </head>
            <body>
            <p><a href="../">All processes</a> · <a href="../api/v1/processes/{pid}">JSON</a> · <a href="../api/v1/processes/{pid}/history">history JSON</a></p>
            <h1 id="title">{pid} {Encode(report.App)}{(report.IsJvm ? ", JVM" : "")}</h1>

            """);
        string where = ProcessPlace.Describe(report);
        html.Append(CultureInfo.InvariantCulture,
            $"<p id=\"summary\">{(where.Length > 0 ? Encode("Lives in " + where) + "; " : "")}last scan {Clock(scanned)} (read by {sample.Mode.Id()}); "
            + $"{history.Rows} scans over the last {Encode(FormatWindow(history.Window))}, first seen {Clock(DateTimeOffset.FromUnixTimeMilliseconds(history.First[HistoryColumns.Time]))}.</p>\n");

        html.Append("<h2>Resident bytes by category over the window</h2>\n");
        html.Append(StackedAreaChart.Render(history));
        html.Append("<p class=\"note\">Each band is the Rss of the process's regions of one category (smaps, or pagemap between smaps reads), stacked, the Java heap at the bottom; labels at the right name the bands by their last value. Dashed lines: the cgroup's memory limit and the Java heap's maximum.</p>\n");

        AppendGrowth(html, report, history);
        AppendCounts(html, history);
        AppendArenas(html, report);
        AppendStacks(html, report);
        AppendJvm(html, report);
        AppendWhere(html, report);

        html.Append("<h2>The full text report</h2>\n");
        if (textReport is null)
        {
            html.Append("<p class=\"note\">The process could not be read just now.</p>\n");
        }
        else
        {
            html.Append(textReport.Resident
                ? "<p class=\"note\">What <code>mapsexporter report PID</code> prints, read from smaps when this page was served.</p>\n"
                : "<p class=\"note\">What <code>mapsexporter report PID --maps-only</code> prints, read when this page was served: maps only, since this process is too large (4 GiB resident or more) for a page view to walk its page tables (smaps would stall its memory-map changes), or smaps is off. Resident figures are above, from the last scan.</p>\n");
            html.Append("<pre id=\"text-report\">").Append(Encode(textReport.Text)).Append("</pre>\n");
        }

        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>A short page for a 400 or 404.</summary>
    public static string Problem(string message) =>
        $"<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>MapsExporter</title></head>\n<body>\n<p><a href=\"../\">All processes</a></p>\n<p id=\"problem\">{Encode(message)}</p>\n</body>\n</html>\n";

    /// <summary>Each category now, at the window's start and first seen, with the changes; largest growth first.</summary>
    private static void AppendGrowth(StringBuilder html, MemoryReport report, HistoryWindow history)
    {
        html.Append("<h2>What grew</h2>\n<table id=\"growth\">\n<thead><tr><th>category</th>")
            .Append("<th title=\"resident bytes (Rss) in the last scan\">now</th>")
            .Append("<th title=\"resident bytes in the oldest scan the window holds\">window start</th>")
            .Append("<th title=\"resident bytes when the exporter first saw the process (kept beyond the window)\">first seen</th>")
            .Append("<th title=\"now minus window start\">change over window</th>")
            .Append("<th title=\"now minus first seen\">change since first seen</th><th>regions</th></tr></thead>\n<tbody>\n");
        int last = history.Rows - 1;
        var rows = RegionCategories.All
            .Select(c => (Category: c, Column: HistoryColumns.Resident(c)))
            .Select(c => (c.Category, Now: history[last, c.Column], Start: history[0, c.Column], First: history.First[c.Column], Change: history.Change(c.Column)))
            .Where(r => report[r.Category].Regions > 0 || r.Now > 0 || r.First > 0)
            .OrderByDescending(r => r.Change ?? long.MinValue).ThenByDescending(r => r.Now)
            .ToList();
        foreach (var (category, now, start, first, change) in rows)
        {
            string id = category.Id();
            long? sinceFirst = now == HistoryColumns.Unknown || first == HistoryColumns.Unknown ? null : now - first;
            html.Append(CultureInfo.InvariantCulture, $"<tr data-category=\"{id}\" data-change=\"{change?.ToString(CultureInfo.InvariantCulture) ?? ""}\"><td>{id}</td>")
                .Append(Cell(Known(now), $"{id}: resident now (Rss summed over its regions, last scan)"))
                .Append(Cell(Known(start), $"{id}: resident at the window's start"))
                .Append(Cell(Known(first), $"{id}: resident when first seen"))
                .Append(Cell(change, $"{id}: change over the window", signed: true))
                .Append(Cell(sinceFirst, $"{id}: change since first seen", signed: true))
                .Append(CultureInfo.InvariantCulture, $"<td title=\"{id}: mappings (VMAs) of this category in the last scan\">{report[category].Regions}</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    /// <summary>Arenas, malloc, threads and mappings: now, at the window's start and the change.</summary>
    private static void AppendCounts(StringBuilder html, HistoryWindow history)
    {
        html.Append("<h2>Counts and malloc</h2>\n<table id=\"counts\">\n<thead><tr><th>figure</th><th>now</th><th>window start</th><th>change</th></tr></thead>\n<tbody>\n");
        (string Name, int Column, bool Bytes, string What)[] figures =
        [
            ("libc arenas", HistoryColumns.LibcArenas, false, "glibc arenas besides the main one (from their heap headers, else the layout)"),
            ("malloc in use", HistoryColumns.MallocInUse, true, "bytes in allocated chunks over glibc's arenas (malloc_stats' in use, read from the process's memory)"),
            ("malloc free", HistoryColumns.MallocFree, true, "bytes in free chunks over glibc's arenas (malloc_info's totals)"),
            ("malloc releasable", HistoryColumns.MallocReleasable, true, "resident bytes malloc_trim(0) would give back"),
            ("malloc mmapped", HistoryColumns.MallocMmapped, true, "glibc's separately mmapped allocations (mp_.mmapped_mem)"),
            ("threads", HistoryColumns.Threads, false, "entries of /proc/PID/task"),
            ("thread stacks", HistoryColumns.ThreadStacks, false, "thread stacks mapped"),
            ("mappings", HistoryColumns.Mappings, false, "VMAs of the process (against vm.max_map_count)"),
            ("cgroup usage", HistoryColumns.CgroupUsage, true, "the memory cgroup's usage (memory.current, v1 usage_in_bytes)"),
            ("cgroup limit", HistoryColumns.CgroupLimit, true, "the memory cgroup's effective limit"),
        ];
        int last = history.Rows - 1;
        foreach (var (name, column, bytes, what) in figures)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{name}</td>")
                .Append(Cell(Known(history[last, column]), $"{name} now: {what}", bytes: bytes))
                .Append(Cell(Known(history[0, column]), $"{name} at the window's start", bytes: bytes))
                .Append(Cell(history.Change(column), $"{name}: change over the window", signed: true, bytes: bytes))
                .Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendArenas(StringBuilder html, MemoryReport report)
    {
        html.Append("<h2>Arenas</h2>\n");
        if (report.Arenas.Count == 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p id=\"arenas\" class=\"note\">{report.LibcArenas} arenas found by layout; none read from their headers (not glibc, or its memory unreadable).</p>\n");
            return;
        }

        AppendTableStart(html, "arenas", ["arena", "heaps", "resident", "virtual", "system", "in use", "free", "releasable"]);
        foreach (ArenaInfo arena in report.Arenas.OrderByDescending(a => a.SystemBytes ?? a.ResidentBytes))
        {
            string name = (arena.Main ? "main " : "") + "0x" + arena.Address.ToString("x", CultureInfo.InvariantCulture);
            html.Append(CultureInfo.InvariantCulture, $"<tr><td title=\"where its malloc_state lives\">{name}</td><td title=\"64 MiB heaps of this arena (0 for main: [heap])\">{arena.Heaps}</td>")
                .Append(Cell(report.ResidentKnown ? arena.ResidentBytes : null, "Rss of its heaps (smaps)"))
                .Append(Cell(arena.VirtualBytes, "virtual size of its heaps"))
                .Append(Cell(arena.SystemBytes, "glibc's system_mem: what malloc_stats prints as system bytes"))
                .Append(Cell(arena.InUseBytes, "system less free: malloc_stats' in use bytes"))
                .Append(Cell(arena.FreeBytes, "top, fastbins, unsorted and regular bins (malloc_info)"))
                .Append(Cell(arena.ReleasableBytes, "resident bytes malloc_trim(0) would give back"))
                .Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendStacks(StringBuilder html, MemoryReport report)
    {
        html.Append("<h2>Thread stacks by thread group</h2>\n");
        if (report.ThreadGroups.Count == 0)
        {
            html.Append(CultureInfo.InvariantCulture, $"<p id=\"stacks\" class=\"note\">{report.ThreadStacks} thread stacks; not grouped by thread name (the threads' stack pointers were not read).</p>\n");
            return;
        }

        AppendTableStart(html, "stacks", ["thread group", "threads", "resident", "virtual"]);
        foreach (var (group, stacks) in report.ThreadGroups.OrderByDescending(g => g.Value.ResidentBytes).ThenBy(g => g.Key, StringComparer.Ordinal))
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td title=\"thread names (comm), digits folded\">{Encode(group)}</td><td title=\"threads whose stack pointer is in one of these stacks\">{stacks.Threads}</td>")
                .Append(Cell(stacks.ResidentBytes, $"{group}: Rss of their stacks (smaps)"))
                .Append(Cell(stacks.VirtualBytes, $"{group}: virtual size of their stacks"))
                .Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendTableStart(StringBuilder html, string id, string[] headers)
    {
        html.Append(CultureInfo.InvariantCulture, $"<table id=\"{id}\">\n<thead><tr>");
        foreach (string header in headers)
        {
            html.Append("<th>").Append(header).Append("</th>");
        }

        html.Append("</tr></thead>\n<tbody>\n");
    }

    private static void AppendJvm(StringBuilder html, MemoryReport report)
    {
        html.Append("<h2>The JVM's own figures</h2>\n");
        if (report.Jvm is not { } jvm)
        {
            html.Append("<p id=\"jvm\" class=\"note\">None: no hsperfdata found (not a JVM, -XX:-UsePerfData, or another /tmp).</p>\n");
            return;
        }

        html.Append(CultureInfo.InvariantCulture, $"<table id=\"jvm\">\n<tbody>\n<tr><td>version</td><td title=\"java.vm.version (hsperfdata)\">{Encode(jvm.Version ?? "?")}</td></tr>\n<tr><td>collector</td><td title=\"the GC's name (hsperfdata)\">{Encode(jvm.Gc ?? "?")}</td></tr>\n");
        html.Append("<tr><td>heap max</td>").Append(Cell(jvm.HeapMaxBytes, "the heap's maximum capacity (hsperfdata, sun.gc generation capacities)")).Append("</tr>\n");
        html.Append("<tr><td>heap committed</td>").Append(Cell(jvm.HeapCommittedBytes, "heap committed by the JVM (hsperfdata)")).Append("</tr>\n");
        html.Append("<tr><td>heap used</td>").Append(Cell(jvm.HeapUsedBytes, "heap in use by objects (hsperfdata)")).Append("</tr>\n");
        html.Append("<tr><td>metaspace max</td>").Append(Cell(jvm.MetaspaceMaxBytes, "metaspace's maximum (hsperfdata)")).Append("</tr>\n");
        html.Append("</tbody>\n</table>\n");
    }

    private static void AppendWhere(StringBuilder html, MemoryReport report)
    {
        html.Append("<h2>Where it lives</h2>\n");
        if (report.Cgroup is not { } where)
        {
            html.Append("<p id=\"where\" class=\"note\">Unknown (/proc/PID/cgroup not read).</p>\n");
            return;
        }

        html.Append("<table id=\"where\">\n<tbody>\n");
        void Row(string name, string value, string what)
        {
            if (value.Length > 0)
            {
                html.Append(CultureInfo.InvariantCulture, $"<tr><td>{name}</td><td title=\"{Encode(what)}\">{Encode(value)}</td></tr>\n");
            }
        }

        Row("cgroup", where.Path, "the process's cgroup (/proc/PID/cgroup)");
        Row("systemd unit", where.Identity.SystemdUnit, "the unit the cgroup path names");
        Row("container", (where.Identity.ContainerRuntime + " " + where.Identity.ContainerId).Trim(), "runtime and container ID, from the cgroup path");
        Row("pod", where.Pod.Length > 0 ? where.Pod : where.Identity.PodUid, "the Kubernetes pod (name, else UID)");
        Row("QoS class", where.Identity.QosClass, "the pod's QoS class, from the cgroup path");
        if (where.Memory is { } memory)
        {
            html.Append("<tr><td>memory limit</td>").Append(Cell(memory.LimitBytes, $"effective limit (lowest over the cgroup and its ancestors){(memory.LimitCgroup is { } c ? ", set on " + c : "")}")).Append("</tr>\n");
            html.Append("<tr><td>memory usage</td>").Append(Cell(memory.UsageBytes, "the cgroup's usage (memory.current, v1 usage_in_bytes)")).Append("</tr>\n");
            html.Append("<tr><td>headroom</td>").Append(Cell(MemoryHeadroom.Of(report), "limit − (heap maximum + resident outside the heap): below 0 the kernel kills the JVM before its heap fills", signed: true)).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
    }

    private static long? Known(long value) => value == HistoryColumns.Unknown ? null : value;

    /// <summary>A table cell with its explanation as the tooltip; "unknown" where the figure was not read.</summary>
    private static string Cell(long? value, string what, bool signed = false, bool bytes = true)
    {
        string text = value is not { } v ? "unknown"
            : bytes ? (signed && v > 0 ? "+" : "") + LandingPage.Bytes(v)
            : (signed && v > 0 ? "+" : "") + v.ToString(CultureInfo.InvariantCulture);
        string cls = signed && value > 0 ? " class=\"up\"" : "";
        string raw = value?.ToString(CultureInfo.InvariantCulture) ?? "";
        return $"<td{cls} data-value=\"{raw}\" title=\"{Encode(what)}\">{text}</td>";
    }

    private static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string FormatWindow(TimeSpan window) => Configuration.PrometheusDuration.Format(window);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}

