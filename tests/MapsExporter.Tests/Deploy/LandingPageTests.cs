using MapsExporter.Core.Classifying;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Metrics;
using MapsExporter.Web;

namespace MapsExporter.Tests.Deploy;

/// <summary>The landing page's HTML from made-up snapshots: escaping, the no-scan and no-JVM states, and the CPU count.</summary>
public sealed class LandingPageTests
{
    [Fact]
    public void App_names_from_processes_are_html_encoded()
    {
        string html = LandingPage.Render(Snapshot("<script>alert('x')</script>&\"q\""));
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;q&quot;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"http", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_bar_has_a_segment_per_category_with_memory_sized_by_share()
    {
        string html = LandingPage.Render(Snapshot("App"));
        Assert.Contains("data-category=\"java_heap\" data-bytes=\"3072\"", html, StringComparison.Ordinal);
        Assert.Contains("width:75.000%", html, StringComparison.Ordinal);
        Assert.Contains("data-category=\"thread_stack\" data-bytes=\"1024\"", html, StringComparison.Ordinal);
        Assert.Contains("width:25.000%", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-category=\"metaspace\"", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Before_the_first_scan_and_without_jvms_the_page_says_so()
    {
        Assert.Contains("No scan yet", LandingPage.Render(null), StringComparison.Ordinal);
        var empty = new ScanSnapshot(DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), true, null, [], [], [], null);
        Assert.Contains("No JVM found", LandingPage.Render(empty), StringComparison.Ordinal);
        var failed = ScanSnapshot.Failed(DateTimeOffset.UnixEpoch, TimeSpan.Zero, "cannot read /proc: <denied>");
        Assert.Contains("failed: cannot read /proc: &lt;denied&gt;", LandingPage.Render(failed), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0-1\n", 2)]
    [InlineData("0\n", 1)]
    [InlineData("0-3,6,8-9\n", 7)]
    [InlineData("", null)]
    [InlineData("3-1", null)]
    [InlineData("x", null)]
    public void Host_cpus_count_the_kernels_cpu_list(string list, int? expected) => Assert.Equal(expected, HostCpus.Parse(list));

    [Fact]
    public void Host_cpus_are_read_from_sysfs() => Assert.Equal(HostCpus.Parse(File.ReadAllText(HostCpus.OnlinePath("/sys"))), HostCpus.Read("/sys"));

    private static ScanSnapshot Snapshot(string app)
    {
        var categories = new CategoryTotals[RegionCategories.Count];
        for (int i = 0; i < categories.Length; i++)
        {
            categories[i] = CategoryTotals.Empty(residentKnown: true);
        }

        categories[(int)RegionCategory.JavaHeap] = new CategoryTotals(1, 8192, 3072, 3072, 0);
        categories[(int)RegionCategory.ThreadStack] = new CategoryTotals(2, 4096, 1024, 1024, 0);
        var report = new MemoryReport(categories) { Pid = 42, App = app, Threads = 2, ThreadStacks = 2, ResidentKnown = true, Source = "/proc/42/smaps" };
        return new ScanSnapshot(DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), true, null, [new ProcessSample(report, 0, 0, null)], [], [], null);
    }
}
