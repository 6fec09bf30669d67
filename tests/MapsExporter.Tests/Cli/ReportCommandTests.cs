using System.Text.Json;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Cli;

/// <summary>The report command, run as a real process: what a user sees from a shell.</summary>
public sealed class ReportCommandTests
{
    private static readonly string[] CategoryIds =
        ["java_heap", "code_cache", "metaspace", "cds_archive", "thread_stack", "main_arena", "libc_arena", "shared_library", "mapped_file", "kernel", "malloc_mmap", "gc", "native_allocator", "unknown"];

    private static readonly string[] Measures = ["regions", "virtual_bytes", "resident_bytes", "proportional_bytes", "swap_bytes"];

    // JSON says where each resident figure came from (smaps; pagemap, or statm minus pagemap for the heap).
    private static readonly string[] JsonMeasures = ["regions", "virtual_bytes", "resident_bytes", "resident_source", "proportional_bytes", "swap_bytes"];

    internal static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) =>
        ToolRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "mapsexporter.dll"), .. args]);

    [Fact]
    public void No_arguments_prints_usage()
    {
        var (code, stdout, stderr) = Run("report");
        Assert.NotEqual(0, code);
        Assert.Contains("name a PID or a maps/smaps dump", stderr, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        var (code, stdout, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("report", stdout, StringComparison.Ordinal);
        (code, stdout, _) = Run("report", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--format text|csv|json", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_for_a_live_jvm_has_exactly_the_documented_shape_and_the_library_figures()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx256m", "-Dpassword=hunter2"], 10);
        var (code, stdout, stderr) = Run("report", jvm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--format", "json");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(
            ["pid", "app", "threads", "thread_stacks", "libc_arenas", "libc_arena_heaps", "mappings", "allocator", "categories", "total", "arenas", "malloc", "thread_groups", "jvm", "methods", "fallbacks", "cgroup"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.All(root.GetProperty("arenas").EnumerateArray(), a => Assert.Equal(
            ["address", "heaps", "virtual_bytes", "resident_bytes", "main", "system_bytes", "in_use_bytes", "free_bytes", "releasable_bytes"],
            a.EnumerateObject().Select(p => p.Name)));
        Assert.Single(root.GetProperty("arenas").EnumerateArray(), a => a.GetProperty("main").GetBoolean());
        Assert.Equal(
            ["allocator", "system_bytes", "in_use_bytes", "free_bytes", "releasable_bytes", "mmapped_bytes", "mmapped_chunks"],
            root.GetProperty("malloc").EnumerateObject().Select(p => p.Name));
        Assert.Equal("glibc", root.GetProperty("malloc").GetProperty("allocator").GetString());
        Assert.Equal(
            ["path", "systemd_unit", "container_runtime", "container_id", "pod_uid", "qos_class", "pod", "memory_limit_bytes", "memory_limit_cgroup", "memory_usage_bytes", "memory_anon_bytes", "memory_file_bytes", "oom_kills"],
            root.GetProperty("cgroup").EnumerateObject().Select(p => p.Name));
        Assert.Equal(jvm.Pid, root.GetProperty("pid").GetInt32());
        Assert.Equal("Workload", root.GetProperty("app").GetString());
        Assert.Equal("glibc", root.GetProperty("allocator").GetString());
        Assert.Equal(CategoryIds, root.GetProperty("categories").EnumerateObject().Select(p => p.Name));
        long regions = 0, virtualBytes = 0, resident = 0;
        foreach (JsonProperty category in root.GetProperty("categories").EnumerateObject())
        {
            Assert.Equal(JsonMeasures, category.Value.EnumerateObject().Select(p => p.Name));
            Assert.Equal("smaps", category.Value.GetProperty("resident_source").GetString());
            regions += category.Value.GetProperty("regions").GetInt64();
            virtualBytes += category.Value.GetProperty("virtual_bytes").GetInt64();
            resident += category.Value.GetProperty("resident_bytes").GetInt64();
        }

        JsonElement total = root.GetProperty("total");
        Assert.Equal(regions, total.GetProperty("regions").GetInt64());
        Assert.Equal(virtualBytes, total.GetProperty("virtual_bytes").GetInt64());
        Assert.Equal(resident, total.GetProperty("resident_bytes").GetInt64());
        Assert.Equal(root.GetProperty("threads").GetInt32(), root.GetProperty("thread_stacks").GetInt32());
        Assert.Equal(256L * 1024 * 1024, root.GetProperty("categories").GetProperty("java_heap").GetProperty("virtual_bytes").GetInt64());
        Assert.DoesNotContain("hunter2", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("-Xmx", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_for_a_maps_dump_has_null_pid_threads_and_resident_figures()
    {
        var (code, stdout, stderr) = Run("report", RepoPaths.Fixture("jdk25-g1-xmx512m-t20", "maps"), "--format", "json");
        Assert.True(code == 0, stderr);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("pid").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("threads").ValueKind);
        Assert.Equal("java", root.GetProperty("app").GetString());
        foreach (JsonProperty category in root.GetProperty("categories").EnumerateObject())
        {
            Assert.Equal(JsonValueKind.Null, category.Value.GetProperty("resident_bytes").ValueKind);
            Assert.Equal(JsonValueKind.Null, category.Value.GetProperty("proportional_bytes").ValueKind);
            Assert.Equal(JsonValueKind.Null, category.Value.GetProperty("swap_bytes").ValueKind);
        }

        Assert.Equal(15, root.GetProperty("libc_arenas").GetInt32());
    }

    [Fact]
    public void Several_targets_give_a_json_array()
    {
        var (code, stdout, _) = Run("report", RepoPaths.Fixture("native-arenas-7", "smaps"), RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps"), "--format=json");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(7, doc.RootElement[0].GetProperty("libc_arenas").GetInt32());
    }

    [Fact]
    public void Csv_has_one_row_per_process_and_a_header_on_request()
    {
        var (code, stdout, _) = Run("report", RepoPaths.Fixture("native-arenas-7", "smaps"), RepoPaths.Fixture("jdk17-zgc-xmx512m-t10", "maps"), "--format", "csv", "--header");
        Assert.Equal(0, code);
        string[] lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        string[] header = lines[0].Split(',');
        Assert.Equal(6 + ((CategoryIds.Length + 1) * Measures.Length) + 13, header.Length);
        Assert.Equal("java_heap_regions", header[6]);
        Assert.Equal("total_swap_bytes", header[^14]);
        Assert.Equal("oom_kills", header[^1]);
        Assert.All(lines[1..], line => Assert.Equal(header.Length, line.Split(',').Length));
        Assert.StartsWith(",arenas,,8,7,7,", lines[1], StringComparison.Ordinal);
        (_, string noHeader, _) = Run("report", RepoPaths.Fixture("native-arenas-7", "smaps"), "--format", "csv");
        Assert.Single(noHeader.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public void Text_lists_unknown_regions_first_then_categories_and_totals()
    {
        var (code, stdout, _) = Run("report", RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps"));
        Assert.Equal(0, code);
        int unknown = stdout.IndexOf("Unknown regions:", StringComparison.Ordinal);
        int heap = stdout.IndexOf("Java heap (java_heap)", StringComparison.Ordinal);
        int arenas = stdout.IndexOf("libc arenas (libc_arena)", StringComparison.Ordinal);
        int sum = stdout.IndexOf("sum rss =", StringComparison.Ordinal);
        Assert.True(unknown >= 0 && unknown < heap && heap < arenas && arenas < sum, stdout);
        Assert.Contains("addr=[e0000000,", stdout, StringComparison.Ordinal);
        Assert.Contains("vsz= 512M", stdout, StringComparison.Ordinal);
        Assert.Contains("        64M\n       count=15\n", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("empty")]
    [InlineData("binary")]
    [InlineData("garbage")]
    [InlineData("truncated")]
    public void Bad_dump_gives_one_error_line_and_a_non_zero_exit(string kind)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mapsexporter-bad-{Guid.NewGuid():N}");
        byte[] smaps = File.ReadAllBytes(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps"));
        File.WriteAllBytes(path, kind switch
        {
            "empty" => [],
            "binary" => File.ReadAllBytes("/bin/true"),
            "garbage" => "Lorem ipsum dolor sit amet\n"u8.ToArray(),
            _ => smaps[..(smaps.Length - 40)],
        });
        try
        {
            var (code, stdout, stderr) = Run("report", path);
            Assert.Equal(1, code);
            Assert.Empty(stdout);
            Assert.Single(stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith($"mapsexporter: error: {path}", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_pid_and_missing_file_say_so()
    {
        var (code, _, stderr) = Run("report", "4194304");
        Assert.Equal(1, code);
        Assert.Equal("mapsexporter: error: process 4194304 does not exist (no /proc/4194304/stat)\n", stderr);
        (code, _, stderr) = Run("report", "/nonexistent/dump");
        Assert.Equal(1, code);
        Assert.Equal("mapsexporter: error: /nonexistent/dump: no such file\n", stderr);
    }

    [Fact]
    public void Unreadable_process_names_the_missing_permission()
    {
        // setpriv drops root: the report then runs as nobody against this (root's) test process.
        var (code, _, stderr) = ToolRunner.Run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "dotnet", Path.Combine(AppContext.BaseDirectory, "mapsexporter.dll"), "report", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            environment: new Dictionary<string, string> { ["DOTNET_CLI_HOME"] = "/tmp", ["HOME"] = "/tmp" });
        Assert.Equal(1, code);
        Assert.Contains("permission denied", stderr, StringComparison.Ordinal);
        Assert.Contains("CAP_SYS_PTRACE", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'), l => l.Contains("error", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_option_and_bad_format_are_usage_errors()
    {
        Assert.Equal(64, Run("report", "1", "--format", "xml").ExitCode);
        Assert.Equal(64, Run("report", "1", "--frobnicate").ExitCode);
    }

    [Fact]
    public void Every_category_id_round_trips()
    {
        foreach (RegionCategory category in RegionCategories.All)
        {
            Assert.True(RegionCategories.TryParse(category.Id(), out RegionCategory parsed));
            Assert.Equal(category, parsed);
        }

        Assert.Equal(CategoryIds, RegionCategories.All.Select(c => c.Id()));
    }
}
