using System.Globalization;
using System.Net;
using System.Text;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Web;

namespace MapsExporter.MemoryConsole;

/// <summary>
/// Resident bytes by category over the window as an inline SVG stacked area chart, the Java heap at the bottom.
/// Readable without colour: every band is named by a label at its right end (labels pushed apart, with a leader
/// line to their band), the limit and the heap maximum are dashed lines with their own labels, and every band and
/// line has a <c>&lt;title&gt;</c> tooltip saying what it is and where it comes from.
/// </summary>
internal static class StackedAreaChart
{
    private const int Width = 960, Height = 320, Left = 72, Right = 190, Top = 12, Bottom = 30;
    private const double LabelSpacing = 13;

    /// <summary>One colour per category in <see cref="RegionCategory"/> order, as the landing page's bars.</summary>
    public static readonly string[] Colors =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
        "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#17becf", "#bcbd22", "#d37295", "#7f7f7f",
    ];

    public static string Render(HistoryWindow history)
    {
        int[] rows = [.. Enumerable.Range(0, history.Rows).Where(r => history[r, HistoryColumns.ResidentTotal] != HistoryColumns.Unknown)];
        if (rows.Length == 0)
        {
            return "<p id=\"chart\" class=\"note\">No resident figures in the window (maps only): nothing to chart.</p>\n";
        }

        long t0 = history[rows[0], HistoryColumns.Time], t1 = history[rows[^1], HistoryColumns.Time];
        long top = 1;
        foreach (int r in rows)
        {
            top = Math.Max(top, Math.Max(history[r, HistoryColumns.ResidentTotal], Math.Max(history[r, HistoryColumns.CgroupLimit], history[r, HistoryColumns.HeapMax])));
        }

        top += top / 20;
        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double X(int i) => rows.Length == 1 ? Left + (i * plotWidth) : Left + (plotWidth * (history[rows[i], HistoryColumns.Time] - t0) / Math.Max(1, t1 - t0));
        double Y(double bytes) => Top + plotHeight - (plotHeight * bytes / top);
        // One row alone is drawn as a flat band across the plot.
        int points = rows.Length == 1 ? 2 : rows.Length;
        int RowAt(int i) => rows[Math.Min(i, rows.Length - 1)];

        var svg = new StringBuilder(16384);
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg id=\"chart\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"resident bytes by category over the window\">\n");
        AppendAxes(svg, top, t0, t1, Y);
        var bases = new double[points];
        var labels = new List<(double Y, double BandY, string Text, string Category)>();
        foreach (RegionCategory category in RegionCategories.All)
        {
            int column = HistoryColumns.Resident(category);
            if (!rows.Any(r => history[r, column] > 0))
            {
                continue;
            }

            var upper = new double[points];
            for (int i = 0; i < points; i++)
            {
                long v = history[RowAt(i), column];
                upper[i] = bases[i] + (v == HistoryColumns.Unknown ? 0 : v);
            }

            var path = new StringBuilder();
            for (int i = 0; i < points; i++)
            {
                path.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? 'M' : 'L')}{X(i):F1},{Y(upper[i]):F1} ");
            }

            for (int i = points - 1; i >= 0; i--)
            {
                path.Append(CultureInfo.InvariantCulture, $"L{X(i):F1},{Y(bases[i]):F1} ");
            }

            long now = history[rows[^1], column], start = history[rows[0], column];
            string id = category.Id();
            string title = $"{id}: resident now {LandingPage.Bytes(now)}, at the window's start {LandingPage.Bytes(start)} (Rss of the process's {id} regions, each scan)";
            svg.Append(CultureInfo.InvariantCulture,
                $"<path class=\"band\" data-category=\"{id}\" data-bytes=\"{now}\" fill=\"{Colors[(int)category]}\" stroke=\"#fff\" stroke-width=\"0.5\" d=\"{path.ToString().TrimEnd()}Z\"><title>{Encode(title)}</title></path>\n");
            labels.Add((Y((bases[^1] + upper[^1]) / 2), Y((bases[^1] + upper[^1]) / 2), $"{id} {LandingPage.Bytes(now)}", id));
            bases = upper;
        }

        AppendLine(svg, "limit", "cgroup limit", "#c00", "8 4", history, rows, HistoryColumns.CgroupLimit, X, Y, labels,
            "the effective memory limit of the process's cgroup (lowest over it and its ancestors), each scan");
        AppendLine(svg, "heap-max", "heap max", "#222", "3 3", history, rows, HistoryColumns.HeapMax, X, Y, labels,
            "the Java heap's maximum (hsperfdata's, else the heap's reservation), each scan");
        AppendLabels(svg, labels);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void AppendAxes(StringBuilder svg, long top, long t0, long t1, Func<double, double> y)
    {
        for (int i = 0; i <= 4; i++)
        {
            double bytes = top * i / 4.0;
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y(bytes):F1}\" y2=\"{y(bytes):F1}\" stroke=\"#ddd\"/><text x=\"{Left - 6}\" y=\"{y(bytes) + 4:F1}\" text-anchor=\"end\" font-size=\"11\">{LandingPage.Bytes((long)bytes)}</text>\n");
        }

        string Clock(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
        svg.Append(CultureInfo.InvariantCulture,
            $"<text x=\"{Left}\" y=\"{Height - 8}\" font-size=\"11\">{Clock(t0)} UTC</text><text x=\"{Width - Right}\" y=\"{Height - 8}\" font-size=\"11\" text-anchor=\"end\">{Clock(t1)} UTC</text>\n");
    }

    private static void AppendLine(StringBuilder svg, string kind, string name, string color, string dash, HistoryWindow history, int[] rows, int column,
        Func<int, double> x, Func<double, double> y, List<(double Y, double BandY, string Text, string Category)> labels, string what)
    {
        var points = new StringBuilder();
        long last = HistoryColumns.Unknown;
        int count = rows.Length == 1 ? 2 : rows.Length;
        for (int i = 0; i < count; i++)
        {
            long v = history[rows[Math.Min(i, rows.Length - 1)], column];
            if (v != HistoryColumns.Unknown)
            {
                points.Append(CultureInfo.InvariantCulture, $"{x(i):F1},{y(v):F1} ");
                last = v;
            }
        }

        if (last == HistoryColumns.Unknown)
        {
            return;
        }

        svg.Append(CultureInfo.InvariantCulture,
            $"<polyline class=\"line\" data-line=\"{kind}\" data-bytes=\"{last}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" stroke-dasharray=\"{dash}\" points=\"{points.ToString().TrimEnd()}\"><title>{Encode($"{name}: {LandingPage.Bytes(last)}, {what}")}</title></polyline>\n");
        labels.Add((y(last), y(last), $"{name} {LandingPage.Bytes(last)}", kind));
    }

    /// <summary>The labels at the right of the plot, top to bottom, each at least a line apart, a leader to its band.</summary>
    private static void AppendLabels(StringBuilder svg, List<(double Y, double BandY, string Text, string Category)> labels)
    {
        labels.Sort((a, b) => a.Y.CompareTo(b.Y));
        double next = Top + 4;
        var placed = new double[labels.Count];
        for (int i = 0; i < labels.Count; i++)
        {
            placed[i] = Math.Max(labels[i].Y, next);
            next = placed[i] + LabelSpacing;
        }

        // Pushed below the chart: each label at most as low as the ones after it leave room for (at most 16 fit).
        for (int i = placed.Length - 1; i >= 0; i--)
        {
            placed[i] = Math.Min(placed[i], Height - 4 - ((placed.Length - 1 - i) * LabelSpacing));
        }

        for (int i = 0; i < labels.Count; i++)
        {
            var (_, bandY, text, category) = labels[i];
            double lx = Width - Right + 6;
            svg.Append(CultureInfo.InvariantCulture,
                $"<line x1=\"{Width - Right}\" y1=\"{bandY:F1}\" x2=\"{lx + 8}\" y2=\"{placed[i] - 4:F1}\" stroke=\"#888\" stroke-width=\"0.7\"/><text class=\"label\" data-for=\"{category}\" x=\"{lx + 10}\" y=\"{placed[i]:F1}\" font-size=\"11\">{Encode(text)}</text>\n");
        }
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
