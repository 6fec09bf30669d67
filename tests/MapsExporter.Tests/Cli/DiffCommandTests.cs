using System.Text.Json;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Cli;

/// <summary>
/// <c>mapsexporter diff</c>, run as a real process on captured fixtures: golden outputs (rewritten with
/// <c>UPDATE_GOLDEN=1</c>) and every bad input, each one line on stderr and exit 1.
/// </summary>
public sealed class DiffCommandTests
{
    private const string Before = "jdk17-g1-arenamax1-native-churn", After = "jdk17-g1-arenamax4-native-churn";

    private static string Dump(string fixture, string file = "smaps") => RepoPaths.Fixture(fixture, file);

    private static string SavedReport(string fixture) => RepoPaths.Fixture("diff", $"{fixture}.report.json");

    public static TheoryData<string, string, string, string> Goldens => new()
    {
        { "dumps.txt", Dump(Before), Dump(After), "text" },
        { "dumps.json", Dump(Before), Dump(After), "json" },
        { "reports.txt", SavedReport(Before), SavedReport(After), "text" },
        { "reports.json", SavedReport(Before), SavedReport(After), "json" },
        { "maps.txt", Dump(Before, "maps"), Dump(After, "maps"), "text" },
    };

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Diff_of_captured_fixtures_matches_its_golden_output(string golden, string before, string after, string format)
    {
        var (code, stdout, stderr) = ReportCommandTests.Run("diff", before, after, "--format", format);
        Assert.True(code == 0, stderr);
        Assert.Empty(stderr);
        // Paths relative to the repository, as the goldens are wherever the checkout is.
        string output = stdout.Replace(RepoPaths.Root + "/", "", StringComparison.Ordinal);
        string path = RepoPaths.Fixture("diff", golden);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, output);
        }

        Assert.Equal(File.ReadAllText(path), output);
    }

    [Fact]
    public void The_largest_changes_come_first_and_the_figures_are_the_reports_own()
    {
        var (code, stdout, stderr) = ReportCommandTests.Run("diff", SavedReport(Before), SavedReport(After), "--format", "json");
        Assert.True(code == 0, stderr);
        using var diff = JsonDocument.Parse(stdout);
        using var before = JsonDocument.Parse(File.ReadAllText(SavedReport(Before)));
        using var after = JsonDocument.Parse(File.ReadAllText(SavedReport(After)));
        long[] magnitudes = [.. diff.RootElement.GetProperty("categories").EnumerateArray().Select(c => Math.Abs(c.GetProperty("resident_bytes").GetProperty("change").GetInt64()))];
        Assert.Equal(magnitudes.OrderDescending(), magnitudes);
        foreach (JsonElement c in diff.RootElement.GetProperty("categories").EnumerateArray())
        {
            string id = c.GetProperty("category").GetString()!;
            long b = before.RootElement.GetProperty("categories").GetProperty(id).GetProperty("resident_bytes").GetInt64();
            long a = after.RootElement.GetProperty("categories").GetProperty(id).GetProperty("resident_bytes").GetInt64();
            Assert.Equal(b, c.GetProperty("resident_bytes").GetProperty("before").GetInt64());
            Assert.Equal(a, c.GetProperty("resident_bytes").GetProperty("after").GetInt64());
            Assert.Equal(a - b, c.GetProperty("resident_bytes").GetProperty("change").GetInt64());
        }

        // The arena count the fixtures' MALLOC_ARENA_MAX set: 1 (main only) then 4 (main and 3).
        JsonElement arenas = diff.RootElement.GetProperty("figures").GetProperty("libc_arenas");
        Assert.Equal(0, arenas.GetProperty("before").GetInt64());
        Assert.Equal(3, arenas.GetProperty("after").GetInt64());
    }

    public static TheoryData<string, string, string> BadInputs()
    {
        string dir = Directory.CreateTempSubdirectory("mapsexporter-diff-").FullName;
        string Write(string name, byte[] content)
        {
            string path = Path.Combine(dir, name);
            File.WriteAllBytes(path, content);
            return path;
        }

        byte[] binary = new byte[4096];
        new Random(17).NextBytes(binary);
        string twoReports = $"[{File.ReadAllText(SavedReport(Before))},{File.ReadAllText(SavedReport(After))}]";
        return new TheoryData<string, string, string>
        {
            { SavedReport(Before), Dump(After), "is a saved JSON report but AFTER" },
            { Dump(Before), SavedReport(After), "is a maps/smaps dump but AFTER" },
            { Dump(Before, "maps"), Dump(After), "has no resident figures" },
            { Dump(Before), Dump(After, "maps"), "has no resident figures" },
            { Write("garbage", binary), Dump(After), "binary data, not a maps or smaps dump" },
            { Dump(Before), Write("text", "hello\nworld\n"u8.ToArray()), "not a maps or smaps dump" },
            { Write("empty", []), Dump(After), "empty, not a report or a dump" },
            { Write("truncated.json", "{\"categories\": {"u8.ToArray()), SavedReport(After), "not a JSON report" },
            { Write("other.json", "{\"a\": 1}"u8.ToArray()), SavedReport(After), "not a report of 'mapsexporter report --format json'" },
            { Write("mistyped.json", "{\"categories\": {\"java_heap\": {\"virtual_bytes\": \"big\"}}}"u8.ToArray()), SavedReport(After), "\"virtual_bytes\" is string, not an integer" },
            { Write("two.json", System.Text.Encoding.UTF8.GetBytes(twoReports)), SavedReport(After), "holds 2 reports" },
            { Path.Combine(dir, "missing"), Dump(After), "no such file" },
            { dir, Dump(After), "is a directory, not a report or a dump" },
            { "1", Dump(After), "only AFTER can be a live process" },
            { SavedReport(Before), "999999999", "process 999999999 does not exist" },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void A_bad_or_mismatched_input_is_one_line_on_stderr_and_exit_1(string before, string after, string message)
    {
        var (code, stdout, stderr) = ReportCommandTests.Run("diff", before, after);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        string[] lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, stderr);
        Assert.StartsWith("mapsexporter: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(message, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_report_against_the_same_live_jvm_after_its_direct_buffers_grew_shows_malloc_mmap_first()
    {
        // 1 MiB direct buffers, one every 250 ms, 40 of them: glibc mmaps each.
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx128m"], 2, ["--grow-direct=40"]);
        string pid = jvm.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string saved = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-diff-").FullName, "before.json");
        var (code, stdout, stderr) = ReportCommandTests.Run("report", pid, "--format", "json");
        Assert.True(code == 0, stderr);
        File.WriteAllText(saved, stdout);
        Thread.Sleep(TimeSpan.FromSeconds(12));

        (code, stdout, stderr) = ReportCommandTests.Run("diff", saved, pid, "--format", "json");
        Assert.True(code == 0, stderr);
        using var diff = JsonDocument.Parse(stdout);
        Assert.Equal("live", diff.RootElement.GetProperty("after").GetProperty("kind").GetString());
        JsonElement first = diff.RootElement.GetProperty("categories")[0];
        Assert.Equal("malloc_mmap", first.GetProperty("category").GetString());
        Assert.True(first.GetProperty("resident_bytes").GetProperty("change").GetInt64() >= 30L << 20, first.ToString());
        // Both sides count their mappings (adjacent buffers' mmaps may merge into one VMA, so not one each) and threads.
        Assert.Equal(JsonValueKind.Number, diff.RootElement.GetProperty("figures").GetProperty("mappings").GetProperty("change").ValueKind);
        Assert.Equal(JsonValueKind.Number, diff.RootElement.GetProperty("figures").GetProperty("threads").GetProperty("change").ValueKind);
    }
}
