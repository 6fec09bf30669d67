using MapsExporter.Configuration;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Scanning;
using MapsExporter.Daemon;
using MapsExporter.Logging;
using MapsExporter.Scanning;
using MapsExporter.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MapsExporter.Tests.Daemon;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2_000)]
    [InlineData("15s", 15_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("1w", 604_800_000)]
    [InlineData("1y", 31_536_000_000)]
    [InlineData("1m30s500ms", 90_500)]
    [InlineData("0", 0)]
    public void Prometheus_durations_parse(string text, long milliseconds)
    {
        Assert.True(PrometheusDuration.TryParse(text, out TimeSpan duration));
        Assert.Equal(milliseconds, (long)duration.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("s")]
    [InlineData("1m1h")]
    [InlineData("1s1s")]
    [InlineData("-1s")]
    [InlineData("1.5s")]
    [InlineData("15 s")]
    [InlineData("1S")]
    [InlineData("99999999999999999999s")]
    [InlineData("9999999999999y")]
    public void Malformed_durations_do_not_parse(string text) => Assert.False(PrometheusDuration.TryParse(text, out _));

    [Theory]
    [InlineData(90_500, "1m30s500ms")]
    [InlineData(15_000, "15s")]
    [InlineData(0, "0s")]
    public void Durations_format_the_way_they_parse(long milliseconds, string text)
    {
        Assert.Equal(text, PrometheusDuration.Format(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.True(PrometheusDuration.TryParse(text == "0s" ? "0" : text, out TimeSpan back));
        Assert.Equal(milliseconds, (long)back.TotalMilliseconds);
    }

    [Theory]
    [InlineData(":10135", null, false, 10135)]
    [InlineData("127.0.0.1:0", "127.0.0.1", false, 0)]
    [InlineData("[::1]:9999", "::1", false, 9999)]
    [InlineData("localhost:80", null, true, 80)]
    public void Listen_addresses_parse(string text, string? ip, bool localhost, int port)
    {
        Assert.True(ListenAddress.TryParse(text, out ListenAddress address, out string problem), problem);
        Assert.Equal(ip, address.Address?.ToString());
        Assert.Equal(localhost, address.Localhost);
        Assert.Equal(port, address.Port);
    }

    [Theory]
    [InlineData("10135")]
    [InlineData(":65536")]
    [InlineData(":http")]
    [InlineData("::1:80")]
    [InlineData("example.com:80")]
    public void Bad_listen_addresses_do_not_parse(string text) => Assert.False(ListenAddress.TryParse(text, out _, out _));

    [Fact]
    public void Flags_map_to_configuration_keys_and_unknown_ones_are_found()
    {
        CommandLineFlags flags = DaemonHost.Flags;
        Assert.Equal("Scan:Interval", flags.SwitchMappings["--scan.interval"]);
        Assert.Equal("Scan:ProcFs", flags.SwitchMappings["--path.procfs"]);
        Assert.Equal("Scan:SysFs", flags.SwitchMappings["--path.sysfs"]);
        Assert.Equal("Selection:IncludeApp", flags.SwitchMappings["--selection.include-app"]);
        Assert.Null(flags.FindUnknown(["--scan.interval=1s", "--path.procfs", "/host/proc"]));
        Assert.Equal("unknown flag --scan.intervall", flags.FindUnknown(["--scan.intervall=1s"]));
        Assert.Equal("--path.procfs needs a value", flags.FindUnknown(["--path.procfs"]));
        Assert.Equal("unexpected argument 'x'", flags.FindUnknown(["x"]));
        Assert.Equal("--scan.interval (Scan:Interval)", flags.Describe("scan:interval"));
    }

    [Fact]
    public void Flags_are_grouped_by_prefix_as_node_exporter_groups_them()
    {
        string[] prefixes = ["--web.", "--path.", "--scan.", "--selection.", "--log."];
        Assert.All(DaemonHost.Flags.All, flag => Assert.Contains(prefixes, p => flag.Name.StartsWith(p, StringComparison.Ordinal)));
        Assert.Equal(
            ["--web.listen-address", "--web.config.file", "--web.history", "--web.privsep", "--path.procfs", "--path.sysfs", "--path.cgroupfs", "--scan.interval", "--scan.smaps", "--scan.smaps-interval",
             "--scan.rollup-above-bytes", "--scan.resident", "--selection.include-app", "--selection.exclude-app", "--selection.include-native", "--log.level", "--log.format"],
            DaemonHost.Flags.All.Select(f => f.Name));
    }

    [Theory]
    [InlineData("--scan-interval", "--scan.interval")]
    [InlineData("--include-app", "--selection.include-app")]
    [InlineData("--exclude-app", "--selection.exclude-app")]
    [InlineData("--include-native", "--selection.include-native")]
    public void Old_spellings_still_set_their_key(string old, string current)
    {
        CommandLineFlags flags = DaemonHost.Flags;
        Assert.Equal(flags.SwitchMappings[current], flags.SwitchMappings[old]);
        Assert.Null(flags.FindUnknown([$"{old}=x", old, "y"]));
        Assert.Equal(current, Assert.Single(flags.FindOldSpellings([$"{old}=x", current, "z", old, "y"])).Name);
    }

    [Fact]
    public async Task Old_spellings_are_found_once_each_in_the_order_first_used_and_their_values_bind()
    {
        string[] args = ["--include-native=sleep", "--scan-interval", "7s", "--scan.smaps=false", "--include-native", "java", "--exclude-app=Test.*"];
        Assert.Equal(["--include-native", "--scan-interval", "--exclude-app"], DaemonHost.Flags.FindOldSpellings(args).Select(f => f.OldName));
        Assert.Empty(DaemonHost.Flags.FindOldSpellings(["--scan.interval=7s", "--web.listen-address", "--scan-interval"]));

        await using WebApplication app = DaemonHost.Build(["--web.listen-address=127.0.0.1:0", .. args]);
        ScanOptions scan = app.Services.GetRequiredService<IOptions<ScanOptions>>().Value;
        SelectionOptions selection = app.Services.GetRequiredService<IOptions<SelectionOptions>>().Value;
        Assert.Equal("7s", scan.Interval);
        Assert.False(scan.Smaps);
        Assert.Equal("java", selection.IncludeNative);
        Assert.Equal("Test.*", selection.ExcludeApp);
    }

    [Fact]
    public async Task Each_old_spelling_used_logs_one_warning_naming_the_new_one_and_takes_effect()
    {
        using DaemonProcess daemon = DaemonProcess.Start(
            ["--web.listen-address=127.0.0.1:0", "--scan-interval=1h", "--include-native=nothing-by-this-name", "--scan-interval", "2h", "--scan.smaps=false"]);
        await Poll.UntilAsync(() => Task.FromResult(daemon.Stderr), t => t.Contains("Listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the listening line");
        DaemonProcess.Terminate(daemon.Process.Id);
        await daemon.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        string[] lines = daemon.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] warnings = [.. lines.Where(l => l.Contains("deprecated", StringComparison.Ordinal))];
        Assert.Equal(2, warnings.Length);
        Assert.Single(warnings, w => w.Contains("level=warn", StringComparison.Ordinal) && w.Contains("--scan-interval", StringComparison.Ordinal) && w.Contains("use --scan.interval", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("--include-native", StringComparison.Ordinal) && w.Contains("use --selection.include-native", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("every 2h", StringComparison.Ordinal));
        Assert.Equal(0, daemon.Process.ExitCode);
    }

    [Fact]
    public void Defaults_are_the_options_classes_own()
    {
        Assert.Equal(new ScanOptions().Interval, ScanOptions.Flags.Interval.Default);
        Assert.Equal("true", ScanOptions.Flags.Smaps.Default);
        Assert.Equal("0", ScanOptions.Flags.RollupAboveBytes.Default);
        Assert.Equal(new WebOptions().ListenAddress, WebOptions.Flags.ListenAddress.Default);
        Assert.Equal(new LogOptions().Level, LogOptions.Flags.Level.Default);
    }

    [Fact]
    public void Usage_lists_every_flag_with_its_default()
    {
        string usage = Program.Usage;
        foreach (string flag in DaemonHost.Flags.SwitchMappings.Keys)
        {
            Assert.Contains(flag, usage, StringComparison.Ordinal);
        }

        Assert.Contains("(default :10135)", usage, StringComparison.Ordinal);
        Assert.Contains("(default /sys)", usage, StringComparison.Ordinal);
        Assert.Contains("(default 15s, formerly --scan-interval)", usage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sysfs_without_the_online_cpu_list_is_refused()
    {
        Assert.True(new ScanOptionsValidator().Validate(null, new ScanOptions()).Succeeded);
        string root = Directory.CreateTempSubdirectory("mx-sysfs-").FullName;
        try
        {
            ValidateOptionsResult result = new ScanOptionsValidator().Validate(null, new ScanOptions { SysFs = root });
            Assert.True(result.Failed);
            Assert.Equal($"--path.sysfs (Scan:SysFs): '{root}' is not a sysfs mount (no {root}/devices/system/cpu/online)", result.FailureMessage);

            Directory.CreateDirectory(Path.Combine(root, "devices/system/cpu"));
            File.WriteAllText(Path.Combine(root, "devices/system/cpu/online"), "0-1\n");
            Assert.True(new ScanOptionsValidator().Validate(null, new ScanOptions { SysFs = root }).Succeeded);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Selection_is_every_jvm_by_default_narrowed_by_anchored_regexes()
    {
        Assert.True(ProcessSelector.All.SelectJvm("anything"));
        Assert.False(ProcessSelector.All.SelectNative("nginx"));

        var selector = new ProcessSelector(includeApp: "kafka\\..*|Workload", excludeApp: ".*Test.*", includeNative: "envoy|nginx");
        Assert.True(selector.SelectJvm("kafka.Kafka"));
        Assert.True(selector.SelectJvm("Workload"));
        Assert.False(selector.SelectJvm("MyWorkload"), "anchored at the start");
        Assert.False(selector.SelectJvm("kafka.TestKafka"), "excluded");
        Assert.True(selector.SelectNative("nginx"));
        Assert.False(selector.SelectNative("nginx-helper"), "anchored at the end");
        Assert.NotNull(ProcessSelector.Check("("));
        Assert.Null(ProcessSelector.Check(""));
    }

    [Theory]
    [InlineData("IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n", "17.0.15")]
    [InlineData("JAVA_VERSION=\"25.0.3\"", "25.0.3")]
    [InlineData("JAVA_VERSION=\"1.8.0_402\"", "1.8.0_402")]
    [InlineData("JAVA_VERSION=\"21\\\"}<x>\"", "21x")]
    [InlineData("JAVA_RUNTIME_VERSION=\"17\"", null)]
    [InlineData("JAVA_VERSION=\"\"", null)]
    public void Java_version_comes_from_the_release_file_and_is_safe_as_a_label(string release, string? expected) =>
        Assert.Equal(expected, JvmVersionResolver.ParseJavaVersion(release));
}
