using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.MemoryConsole;

namespace MapsExporter.Tests.Deploy;

/// <summary>/process/PID rendered from reports: everything from the process encoded, a maps-only history charts nothing.</summary>
public sealed class ProcessPageTests
{
    private const string Hostile = "<script>alert('x')</script>&\"q\"";

    private static MemoryReport Report(string app, bool resident, long heap)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        Array.Fill(categories, CategoryTotals.Empty(resident));
        categories[(int)RegionCategory.JavaHeap] = new CategoryTotals(1, 1 << 20, resident ? heap : null, resident ? heap : null, resident ? 0 : null);
        return new MemoryReport(categories)
        {
            Pid = 42, App = app, IsJvm = true, ResidentKnown = resident, Source = "/proc/42/smaps",
            ThreadGroups = new Dictionary<string, ThreadGroupStacks> { [Hostile] = new(1, 4096, 8192) },
        };
    }

    private static HistoryWindow Window(params MemoryReport[] reports)
    {
        var store = new HistoryStore(TimeSpan.FromHours(1), TimeSpan.FromSeconds(15));
        for (int i = 0; i < reports.Length; i++)
        {
            store.Observe(new ScanSnapshot(DateTimeOffset.UnixEpoch.AddSeconds(15 * i), TimeSpan.Zero, true, null, [new ProcessSample(reports[i], 1, 0, null)], [], [], null));
        }

        return store.Get(42)!;
    }

    [Fact]
    public void Every_text_from_the_process_is_encoded()
    {
        MemoryReport report = Report(Hostile, resident: true, 4096);
        string html = ProcessPage.Render(new ProcessSample(report, 1, 0, null), Window(report, Report(Hostile, true, 8192)), DateTimeOffset.UnixEpoch, new ProcessPage.TextReport("Process 42 (" + Hostile + ")", true));
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;q&quot;", html, StringComparison.Ordinal);
        // The heap grew by 4096 bytes: first in the table, and a band in the chart.
        Assert.Contains("<tr data-category=\"java_heap\" data-change=\"4096\">", html, StringComparison.Ordinal);
        Assert.Contains("<path class=\"band\" data-category=\"java_heap\" data-bytes=\"8192\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_history_without_resident_figures_says_there_is_nothing_to_chart()
    {
        MemoryReport report = Report("App", resident: false, 0);
        string html = ProcessPage.Render(new ProcessSample(report, 1, 0, null), Window(report, report), DateTimeOffset.UnixEpoch, null);
        Assert.Contains("No resident figures in the window (maps only)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"band\"", html, StringComparison.Ordinal);
        Assert.Contains("The process could not be read just now.", html, StringComparison.Ordinal);
        Assert.Contains("<td data-value=\"\" title=\"java_heap: resident now (Rss summed over its regions, last scan)\">unknown</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sparkline_of_a_full_hour_draws_at_most_60_points_from_the_first_to_the_last()
    {
        long[] totals = [.. Enumerable.Range(0, 241).Select(i => 1000L + i)];
        string svg = Sparkline.Render(42, totals);
        string[] points = System.Text.RegularExpressions.Regex.Match(svg, "points=\"([^\"]*)\"").Groups[1].Value.Split(' ');
        Assert.Equal(60, points.Length);
        Assert.Equal("1,22.0", points[0]);
        Assert.Equal("119,2.0", points[^1]);
        Assert.Contains("1000 B then 1.2 KiB (241 scans", svg, StringComparison.Ordinal);
        Assert.Empty(Sparkline.Render(42, [1000]));
    }
}
