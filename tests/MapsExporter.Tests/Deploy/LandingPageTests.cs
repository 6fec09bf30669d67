using MapsExporter.Core.Cgroups;
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

    [Fact]
    public void The_bar_draws_the_limit_and_the_heap_maximum_and_names_the_pod_beside_the_app()
    {
        ScanSnapshot plain = Snapshot("Shop");
        MemoryReport report = plain.Processes[0].Report;
        // Heap maximum 8192 (the heap's reservation, no hsperfdata), limit 16384: the scale is the limit's, so the
        // 4096-byte bar is a quarter of the track, the heap maximum half of it; headroom 16384 - (8192 + 1024).
        var where = new CgroupPlacement("/kubepods/burstable/pod0b7632a2/c", new CgroupIdentity("", "", new string('c', 64), "0b7632a2-a56e-4278-987a-22de18008dbe", "Burstable", false), "shop-7d9f8c6b5-x2x4q", new CgroupMemory("/kubepods/burstable/pod0b7632a2/c", 16384, "/kubepods/burstable/pod0b7632a2", 5000, 4000, 1000, 0));
        var withCgroup = new MemoryReport([.. report.Categories]) { Pid = 42, App = "Shop", IsJvm = true, ResidentKnown = true, Source = report.Source, Cgroup = where };
        string html = LandingPage.Render(plain with { Processes = [new ProcessSample(withCgroup, 0, 0, null)] });
        Assert.Contains("<a href=\"process/42\">42 Shop</a> <span class=\"where\">(pod shop-7d9f8c6b5-x2x4q)</span>", html, StringComparison.Ordinal);
        Assert.Contains("class=\"bar\" style=\"width:25.00%\"", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"mark limit\" data-bytes=\"16384\" title=\"memory limit: 16.0 KiB\" style=\"left:100.00%\">", html, StringComparison.Ordinal);
        Assert.Contains("<div class=\"mark heap-max\" data-bytes=\"8192\" title=\"heap maximum: 8.0 KiB\" style=\"left:50.00%\">", html, StringComparison.Ordinal);
        Assert.Contains("limit 16.0 KiB, headroom 7.0 KiB", html, StringComparison.Ordinal);
        // Without a cgroup: no marks, nothing beside the app.
        Assert.DoesNotContain("class=\"mark", LandingPage.Render(plain), StringComparison.Ordinal);
    }

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
