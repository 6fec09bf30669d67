using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The release binary says what it is: <c>--version</c> prints the VERSION file's version, the commit it was built
/// from and its .NET runtime, and the daemon publishes the same as <c>mapsexporter_build_info</c> and on <c>/</c>.
/// </summary>
public sealed class BuildInfoTests
{
    private static string ExpectedVersion => File.ReadAllText(Path.Combine(RepoPaths.Root, "VERSION")).Trim();

    /// <summary>The commit of this checkout, which deploy/publish.sh built the binary from (scripts/test.sh runs it first).</summary>
    private static string ExpectedRevision
    {
        get
        {
            var (code, stdout, stderr) = ToolRunner.Run("git", ["-C", RepoPaths.Root, "rev-parse", "--short=12", "HEAD"]);
            Assert.True(code == 0, $"git rev-parse: {stderr}");
            return stdout.Trim();
        }
    }

    [Fact]
    public void Version_flag_prints_the_version_the_commit_and_the_runtime()
    {
        var (code, stdout, stderr) = ToolRunner.Run(AotBinary.Require(), ["--version"]);

        Assert.True(code == 0, stderr);
        string[] lines = stdout.TrimEnd().Split('\n');
        Assert.Equal($"mapsexporter, version {ExpectedVersion} (revision: {ExpectedRevision})", lines[0]);
        Assert.Equal($"  dotnet version: {Environment.Version}", lines[1]);
        Assert.Equal("  platform: linux/amd64", lines[2]);
    }

    [Fact]
    public async Task Build_info_is_published_once_with_version_revision_and_runtime_and_shown_on_the_landing_page()
    {
        int port = Ports.Free();
        var exporter = AotBinary.Start(port, null, $"--path.procfs={Path.Combine(RepoPaths.Fixtures, "procfs", "tree")}");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            MetricsScrape scrape = await AotBinary.WaitForAsync(http, exporter, s => s.Family("mapsexporter_build_info").Any(), "build info");

            Sample info = Assert.Single(scrape.Family("mapsexporter_build_info"));
            Assert.Equal(1, info.Value);
            Assert.Equal(ExpectedVersion, info.Label("version"));
            Assert.Equal(ExpectedRevision, info.Label("revision"));
            Assert.Equal(Environment.Version.ToString(), info.Label("dotnet_version"));
            Assert.Contains("# HELP mapsexporter_build_info ", scrape.Text, StringComparison.Ordinal);

            string page = await http.GetStringAsync(new Uri("/", UriKind.Relative));
            Assert.Contains($"Version {ExpectedVersion}, revision {ExpectedRevision}, .NET {Environment.Version}", page, StringComparison.Ordinal);
        }
        finally
        {
            AotBinary.Stop(exporter);
        }
    }
}
