using MapsExporter.Configuration;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Scanning;

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
        Assert.Equal("Scan:Interval", CommandLineFlags.SwitchMappings["--scan-interval"]);
        Assert.Equal("Scan:ProcFs", CommandLineFlags.SwitchMappings["--path.procfs"]);
        Assert.Null(CommandLineFlags.FindUnknown(["--scan-interval=1s", "--path.procfs", "/host/proc"]));
        Assert.Equal("unknown flag --scan.interval", CommandLineFlags.FindUnknown(["--scan.interval=1s"]));
        Assert.Equal("--path.procfs needs a value", CommandLineFlags.FindUnknown(["--path.procfs"]));
        Assert.Equal("unexpected argument 'x'", CommandLineFlags.FindUnknown(["x"]));
        Assert.Equal("--scan-interval (Scan:Interval)", CommandLineFlags.Describe("scan:interval"));
    }

    [Fact]
    public void Usage_lists_every_flag_with_its_default()
    {
        string usage = Program.Usage;
        foreach (string flag in CommandLineFlags.SwitchMappings.Keys)
        {
            Assert.Contains(flag, usage, StringComparison.Ordinal);
        }

        Assert.Contains("(default :10135)", usage, StringComparison.Ordinal);
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
