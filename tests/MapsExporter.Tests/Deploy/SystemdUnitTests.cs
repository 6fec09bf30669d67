using System.Globalization;
using System.Text.RegularExpressions;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>systemd/mapsexporter.service: verify clean, exposure at most 2.0, and the install script's staging.</summary>
public sealed partial class SystemdUnitTests
{
    [Fact]
    public void The_unit_declares_notify_restart_policy_and_hardening()
    {
        Assert.Equal("notify", SystemdUnit.One("Type"));
        Assert.Equal("/usr/local/bin/mapsexporter", SystemdUnit.One("ExecStart"));
        Assert.Equal("78", SystemdUnit.One("RestartPreventExitStatus"));
        Assert.Equal("on-failure", SystemdUnit.One("Restart"));
        Assert.Equal("strict", SystemdUnit.One("ProtectSystem"));
        Assert.Equal(new[] { "dac_read_search", "sys_ptrace" }, SystemdUnit.Capabilities().Order());
        Assert.Equal("AF_INET AF_INET6 AF_UNIX", SystemdUnit.One("RestrictAddressFamilies"));
        // The scanner's own filter (privilege separation) is set through seccomp(2), which @system-service lacks.
        Assert.Contains("seccomp", SystemdUnit.Values("SystemCallFilter"));
    }

    [Fact]
    public void Systemd_analyze_verify_prints_nothing_for_the_unit_run_on_the_aot_binary()
    {
        // verify checks that ExecStart's binary exists: a copy of the unit points at the built release binary.
        string dir = UnitCopy(AotBinary.Require());
        try
        {
            var (code, stdout, stderr) = ToolRunner.Run("systemd-analyze", ["verify", Path.Combine(dir, "mapsexporter.service")]);
            Assert.True(code == 0 && stderr.Length == 0 && stdout.Length == 0, $"systemd-analyze verify: exit {code}\n{stdout}{stderr}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Systemd_analyze_security_rates_the_exposure_at_most_2_0()
    {
        string dir = UnitCopy(AotBinary.Require());
        try
        {
            var (code, stdout, stderr) = ToolRunner.Run("systemd-analyze", ["security", "--offline=yes", "--no-pager", Path.Combine(dir, "mapsexporter.service")]);
            Match overall = Exposure().Match(stdout);
            Assert.True(overall.Success, $"no exposure level in: exit {code}\n{stdout}{stderr}");
            double exposure = double.Parse(overall.Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.True(exposure <= 2.0, $"exposure {exposure} > 2.0:\n{stdout}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_install_script_stages_the_binary_the_unit_and_the_environment_file()
    {
        string dest = Directory.CreateTempSubdirectory("mapsexporter-install-").FullName;
        try
        {
            var (code, stdout, stderr) = ToolRunner.Run("bash", [Path.Combine(RepoPaths.Root, "systemd", "install.sh"), AotBinary.Require()],
                environment: new Dictionary<string, string> { ["DESTDIR"] = dest, ["PREFIX"] = "/opt/mapsexporter" });
            Assert.True(code == 0, stdout + stderr);
            string binary = Path.Combine(dest, "opt/mapsexporter/bin/mapsexporter");
            Assert.True(File.Exists(binary), $"{binary} missing: {stdout}");
            Assert.Equal("755", ToolRunner.Run("stat", ["-c", "%a", binary]).Stdout.Trim());
            string unit = File.ReadAllText(Path.Combine(dest, "etc/systemd/system/mapsexporter.service"));
            Assert.Contains("\nExecStart=/opt/mapsexporter/bin/mapsexporter\n", unit, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dest, "etc/mapsexporter/environment")));
        }
        finally
        {
            Directory.Delete(dest, recursive: true);
        }
    }

    private static string UnitCopy(string binary)
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-unit-").FullName;
        string text = SystemdUnit.Text.Replace("ExecStart=/usr/local/bin/mapsexporter", $"ExecStart={binary}", StringComparison.Ordinal);
        Assert.Contains($"ExecStart={binary}", text, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "mapsexporter.service"), text);
        return dir;
    }

    [GeneratedRegex(@"Overall exposure level for mapsexporter\.service: (\d+\.\d+)")]
    private static partial Regex Exposure();
}
