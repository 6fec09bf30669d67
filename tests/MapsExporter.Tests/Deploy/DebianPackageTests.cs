using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// deploy/package.sh's Debian packages, for real: lintian on both; the amd64 one installed on this machine with
/// <c>dpkg -i</c>, its files and unit checked, its binary run, an edited conffile kept across a reinstall, then
/// <c>dpkg --purge</c> (always, in a finally block) and nothing of it left.
/// </summary>
public sealed class DebianPackageTests
{
    private const string Binary = "/usr/bin/mapsexporter";
    private const string Unit = "/lib/systemd/system/mapsexporter.service";
    private const string Defaults = "/etc/default/mapsexporter";

    private static readonly string[] Files =
    [
        Binary, Unit, Defaults, "/usr/share/man/man1/mapsexporter.1.gz",
        "/usr/share/doc/mapsexporter/copyright", "/usr/share/doc/mapsexporter/changelog.gz",
    ];

    private static string Version => File.ReadAllText(Path.Combine(RepoPaths.Root, "VERSION")).Trim();

    /// <summary>Both packages, built once from the release binaries (deploy/publish.sh) into a folder of the test's.</summary>
    private static readonly Lazy<string> Packages = new(() =>
    {
        AotBinary.Require();
        Arm64Binary.Require();
        var (code, stdout, stderr) = ToolRunner.Run("bash", [Path.Combine(RepoPaths.Root, "deploy", "package.sh")]);
        Assert.True(code == 0, $"deploy/package.sh exited {code}: {stdout}{stderr}");
        return Path.Combine(RepoPaths.Root, "artifacts");
    });

    private static string Deb(string arch) => Path.Combine(Packages.Value, $"mapsexporter_{Version}_{arch}.deb");

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public void Lintian_reports_no_errors(string arch)
    {
        string deb = Deb(arch);
        var (_, stdout, stderr) = ToolRunner.Run("lintian", ["--tag-display-limit", "0", deb], TimeSpan.FromMinutes(5));
        string[] errors = stdout.Split('\n').Where(l => l.StartsWith("E: ", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 0 && !stderr.Contains("error", StringComparison.OrdinalIgnoreCase), $"lintian {deb}:\n{stdout}{stderr}");

        var (code, fields, _) = ToolRunner.Run("dpkg-deb", ["--field", deb, "Package", "Version", "Architecture", "Depends"]);
        Assert.Equal(0, code);
        Assert.Contains($"Version: {Version}\n", fields, StringComparison.Ordinal);
        Assert.Contains($"Architecture: {arch}\n", fields, StringComparison.Ordinal);
        Assert.Contains("Depends: libc6 (>= 2.", fields, StringComparison.Ordinal);
    }

    [Fact]
    public void Installs_runs_keeps_an_edited_conffile_on_reinstall_and_purges_to_nothing()
    {
        Assert.True(ToolRunner.Run("dpkg", ["-s", "mapsexporter"]).ExitCode != 0, "a mapsexporter package is installed already: this test installs and purges its own");
        string deb = Deb("amd64");
        try
        {
            Dpkg("-i", deb);
            foreach (string file in Files)
            {
                Assert.True(File.Exists(file), $"{file} is not installed");
            }

            Assert.Equal(0, ToolRunner.Run("test", ["-x", Binary]).ExitCode);
            var (_, conffiles, _) = ToolRunner.Run("dpkg-query", ["-W", "-f=${Conffiles}", "mapsexporter"]);
            Assert.Contains(Defaults, conffiles, StringComparison.Ordinal);

            // The unit as installed: clean for systemd, running the package's binary with the settings file's flags.
            var verify = ToolRunner.Run("systemd-analyze", ["verify", Unit]);
            Assert.True(verify.ExitCode == 0 && verify.Stdout.Length == 0 && verify.Stderr.Length == 0, $"systemd-analyze verify {Unit}: exit {verify.ExitCode}\n{verify.Stdout}{verify.Stderr}");
            string[] unit = File.ReadAllLines(Unit);
            Assert.Contains("ExecStart=/usr/bin/mapsexporter $ARGS", unit);
            Assert.Contains("EnvironmentFile=-/etc/default/mapsexporter", unit);
            Assert.Contains("DynamicUser=yes", unit);
            Assert.Contains(File.ReadAllLines(Defaults), l => l == "ARGS=\"\"");

            // The installed binary: its version, and a fixture's report equal to the release binary's.
            var version = ToolRunner.Run(Binary, ["--version"]);
            Assert.StartsWith($"mapsexporter, version {Version} (revision: ", version.Stdout, StringComparison.Ordinal);
            string fixture = RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps");
            var report = ToolRunner.Run(Binary, ["report", "--format", "json", fixture]);
            Assert.True(report.ExitCode == 0, report.Stderr);
            Assert.Equal(ToolRunner.Run(AotBinary.Require(), ["report", "--format", "json", fixture]).Stdout, report.Stdout);

            // The man page carries --help's text (every flag).
            var man = ToolRunner.Run("bash", ["-c", "zcat /usr/share/man/man1/mapsexporter.1.gz"]);
            foreach (string flag in new[] { "web.listen\\-address", "scan.interval", "path.procfs", "selection.include\\-app", "log.format" })
            {
                Assert.Contains($"\\-\\-{flag}", man.Stdout, StringComparison.Ordinal);
            }

            // An operator's edit of the conffile survives installing the package again.
            File.AppendAllText(Defaults, "ARGS=\"--scan.interval=30s\"\n");
            Dpkg("-i", deb);
            Assert.Contains(File.ReadAllLines(Defaults), l => l == "ARGS=\"--scan.interval=30s\"");
        }
        finally
        {
            ToolRunner.Run("dpkg", ["--purge", "mapsexporter"]);
        }

        Assert.True(ToolRunner.Run("dpkg", ["-s", "mapsexporter"]).ExitCode != 0, "the package is still known to dpkg after --purge");
        foreach (string file in Files.Append("/usr/share/doc/mapsexporter").Append("/etc/systemd/system/mapsexporter.service"))
        {
            Assert.False(File.Exists(file) || Directory.Exists(file), $"{file} is left after dpkg --purge");
        }

        string[] left = Directory.EnumerateFileSystemEntries("/etc/systemd/system", "mapsexporter*", SearchOption.AllDirectories)
            .Concat(Directory.Exists("/var/lib/systemd/deb-systemd-helper-enabled")
                ? Directory.EnumerateFileSystemEntries("/var/lib/systemd/deb-systemd-helper-enabled", "*mapsexporter*", SearchOption.AllDirectories)
                : [])
            .Concat(Directory.Exists("/var/lib/systemd/deb-systemd-helper-masked")
                ? Directory.EnumerateFileSystemEntries("/var/lib/systemd/deb-systemd-helper-masked", "*mapsexporter*", SearchOption.AllDirectories)
                : [])
            .ToArray();
        Assert.True(left.Length == 0, $"left after dpkg --purge: {string.Join(", ", left)}");
    }

    private static void Dpkg(params string[] args)
    {
        var (code, stdout, stderr) = ToolRunner.Run("dpkg", args);
        Assert.True(code == 0, $"dpkg {string.Join(' ', args)} exited {code}: {stdout}{stderr}");
    }
}
