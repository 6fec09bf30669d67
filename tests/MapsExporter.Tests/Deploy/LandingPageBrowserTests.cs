using System.Text.RegularExpressions;

namespace MapsExporter.Tests.Deploy;

/// <summary>The landing page as headless Chromium (Debian's package) renders it from the AOT binary watching a real JVM.</summary>
[Collection(DeployCollection.Name)]
public sealed partial class LandingPageBrowserTests(DeployFixture fixture)
{
    /// <summary>Where the screenshot is left for a person to look at.</summary>
    public static string ScreenshotPath => Path.Combine(Path.GetTempPath(), "mapsexporter-landing-page.png");

    [Fact]
    public void Chromium_renders_the_jvms_bar_with_its_category_segments_and_its_table_row()
    {
        string profile = Directory.CreateTempSubdirectory("mapsexporter-chromium-").FullName;
        try
        {
            string dom = Chromium(profile, "--dump-dom", fixture.Address.ToString());
            // The JVM's bar: one segment per category with resident bytes, at least the heap, the stacks and libraries.
            Match bar = JvmBar().Match(dom);
            Assert.True(bar.Success, $"no bar for pid {fixture.Pid} in the rendered page:\n{dom}");
            string[] segments = Segment().Matches(bar.Value).Select(m => m.Groups[1].Value).ToArray();
            Assert.Contains("java_heap", segments);
            Assert.Contains("thread_stack", segments);
            Assert.Contains("shared_library", segments);
            Assert.Contains("libc_arena", segments);
            Assert.Equal(segments.Length, segments.Distinct().Count());
            // Its row in the table: pid, app, resident, virtual, heap, arenas, stacks, threads, last scan.
            Match row = Regex.Match(dom, $"<tr data-pid=\"{fixture.Pid}\">(.*?)</tr>", RegexOptions.Singleline);
            Assert.True(row.Success, $"no table row for pid {fixture.Pid}:\n{dom}");
            string[] cells = Regex.Matches(row.Groups[1].Value, "<td>(.*?)</td>").Select(m => m.Groups[1].Value).ToArray();
            Assert.Equal(10, cells.Length);
            Assert.Equal($"<a href=\"process/{fixture.Pid}\">{fixture.Pid}</a>", cells[0]);
            Assert.Equal("Workload", cells[1]);
            Assert.Matches(@"^\d+\.\d (MiB|GiB)$", cells[2]);
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", cells[8]);
            Assert.DoesNotContain("http://", dom.Replace(fixture.Address.ToString(), "", StringComparison.Ordinal), StringComparison.Ordinal);

            Chromium(profile, $"--screenshot={ScreenshotPath}", "--window-size=1280,900", fixture.Address.ToString());
            Assert.True(new FileInfo(ScreenshotPath).Length > 10_000, "the screenshot is empty");
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static string Chromium(string profile, params string[] args) => MapsExporter.Tests.Support.Chromium.Run(profile, args);

    private Regex JvmBar() => new($"<div class=\"jvm\" data-pid=\"{fixture.Pid}\">.*?<div class=\"track\">.*?</div></div>", RegexOptions.Singleline);

    [GeneratedRegex("<div class=\"seg\" data-category=\"(\\w+)\"")]
    private static partial Regex Segment();
}
