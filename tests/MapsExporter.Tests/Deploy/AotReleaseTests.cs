using System.Net;
using MapsExporter.Core.Classifying;
using MapsExporter.Tests.Daemon;

namespace MapsExporter.Tests.Deploy;

/// <summary>The Native AOT binary serves the same HTTP endpoints as the JIT build, for a real JVM.</summary>
[Collection(DeployCollection.Name)]
public sealed class AotReleaseTests(DeployFixture fixture)
{
    private static readonly string[] PerProcessFamilies =
    [
        "mapsexporter_region_resident_bytes", "mapsexporter_region_virtual_bytes", "mapsexporter_region_proportional_bytes",
        "mapsexporter_region_swap_bytes", "mapsexporter_regions", "mapsexporter_libc_arenas", "mapsexporter_libc_arena_heaps",
        "mapsexporter_thread_stacks", "mapsexporter_thread_stack_resident_bytes", "mapsexporter_threads", "mapsexporter_mappings",
        "mapsexporter_process_start_time_seconds", "mapsexporter_process_info", "mapsexporter_java_heap_max_bytes",
    ];

    [Fact]
    public async Task The_aot_binary_publishes_every_per_process_family_of_a_real_jvm_and_passes_promtool()
    {
        string text = await fixture.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        MetricsScrape scrape = MetricsScrape.Parse(text);
        Assert.All(PerProcessFamilies, family => Assert.Contains(fixture.Pid, scrape.Pids(family)));
        Assert.Equal("Workload", scrape.Find("mapsexporter_process_info", $"pid={fixture.Pid}").Single().Label("app"));
        Assert.Equal(256.0 * 1024 * 1024, scrape.Value("mapsexporter_java_heap_max_bytes", $"pid={fixture.Pid}"));
        Assert.True(scrape.Value("mapsexporter_libc_arenas", $"pid={fixture.Pid}") >= 1, "the JVM's native threads have arenas");
        Assert.Equal(RegionCategories.Count, scrape.Find("mapsexporter_region_resident_bytes", $"pid={fixture.Pid}").Count());
        Assert.Equal(1, scrape.Value("mapsexporter_last_scan_success"));
        Assert.True(scrape.Value("mapsexporter_host_cpus") >= 1);
        // Its own footprint, from the AOT runtime: the working set it reported lies within what the kernel saw.
        long peakRss = StatusBytes(fixture.ExporterPid, "VmHWM:");
        Assert.InRange(scrape.Value("mapsexporter_self_resident_bytes"), 4 << 20, peakRss);
        Assert.True(scrape.Value("mapsexporter_self_cpu_seconds_total") > 0);
        Assert.True(scrape.Value("mapsexporter_self_allocated_bytes_total") > 0);
        Assert.InRange(scrape.Value("mapsexporter_self_gc_heap_bytes"), 1, scrape.Value("mapsexporter_self_gc_committed_bytes"));
        var (code, output) = Promtool.CheckMetrics(text);
        Assert.True(code == 0, output);
    }

    [Fact]
    public async Task The_aot_binary_answers_healthz_and_the_landing_page()
    {
        using HttpResponseMessage health = await fixture.Http.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using HttpResponseMessage page = await fixture.Http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"data-pid=\"{fixture.Pid}\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static long StatusBytes(int pid, string key) => 1024 * long.Parse(
        File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(key, StringComparison.Ordinal))[key.Length..].Trim().Split(' ')[0],
        System.Globalization.CultureInfo.InvariantCulture);
}
