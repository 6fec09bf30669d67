using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// The release binary's whole /metrics on a captured /proc tree, line for line, as node_exporter's end-to-end test
/// does: artifacts/mapsexporter runs with <c>--path.procfs=tests/Fixtures/procfs/tree</c> (two JVMs and a native
/// program, made by tests/Fixtures/procfs/capture.sh) and <c>--path.sysfs=tests/Fixtures/procfs/sysfs</c> (the online
/// CPUs), its first published scan is normalised (<see cref="GoldenExposition"/>)
/// and must equal tests/Fixtures/procfs/metrics.golden: HELP, TYPE, label sets, values, order. The raw text must pass
/// <c>promtool check metrics</c>. After a deliberate change of the exposition, or a new capture, rewrite the file:
/// <code>UPDATE_GOLDEN=1 dotnet test MapsExporter.sln -c Release --filter FullyQualifiedName~GoldenMetrics</code>
/// and read its diff before committing it.
/// </summary>
public sealed class GoldenMetricsTests
{
    private static string Tree => Path.Combine(RepoPaths.Fixtures, "procfs", "tree");

    private static string SysFs => Path.Combine(RepoPaths.Fixtures, "procfs", "sysfs");

    private static string GoldenPath => Path.Combine(RepoPaths.Fixtures, "procfs", "metrics.golden");

    [Fact]
    public async Task Metrics_of_the_captured_tree_equal_the_golden_file()
    {
        string exposition = await ScrapeFirstScanAsync();
        string actual = GoldenExposition.Normalise(exposition);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            await File.WriteAllTextAsync(GoldenPath, actual);
        }

        string expected = await File.ReadAllTextAsync(GoldenPath);
        string? diff = GoldenExposition.Diff(expected, actual);
        Assert.True(
            diff is null,
            $"/metrics on {Tree} differs from {GoldenPath} (- expected, + actual). If the change is meant, rewrite it with "
            + $"`UPDATE_GOLDEN=1 dotnet test MapsExporter.sln -c Release --filter FullyQualifiedName~GoldenMetrics` and review its diff.\n{diff}");
        var (code, output) = Promtool.CheckMetrics(exposition);
        Assert.True(code == 0, $"promtool check metrics: {output}");
    }

    [Fact]
    public void The_http_families_keep_help_and_type_and_lose_their_series()
    {
        const string Text = "# HELP mapsexporter_http_requests_total Requests.\n# TYPE mapsexporter_http_requests_total counter\n"
            + "mapsexporter_http_requests_total{code=\"200\",endpoint=\"/metrics\"} 7\n# HELP mapsexporter_threads Threads.\n";
        Assert.Equal(
            "# HELP mapsexporter_http_requests_total Requests.\n# TYPE mapsexporter_http_requests_total counter\n# HELP mapsexporter_threads Threads.\n",
            GoldenExposition.Normalise(Text));
    }

    [Fact]
    public void A_difference_is_shown_as_the_lines_that_differ_with_their_context()
    {
        string expected = string.Join('\n', Enumerable.Range(1, 20).Select(i => $"line {i}")) + "\n";
        string actual = expected.Replace("line 5\n", "line five\n", StringComparison.Ordinal).Replace("line 15\n", "", StringComparison.Ordinal);

        string diff = GoldenExposition.Diff(expected, actual)!;

        Assert.Null(GoldenExposition.Diff(expected, expected));
        Assert.Contains("-line 5\n+line five\n", diff, StringComparison.Ordinal);
        Assert.Contains(" line 14\n-line 15\n line 16\n", diff, StringComparison.Ordinal);
        Assert.Contains("@@ -2,7 +2,7 @@", diff, StringComparison.Ordinal);
        Assert.DoesNotContain("line 1\n", diff, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_that_change_from_run_to_run_are_masked_and_series_are_put_in_pid_order()
    {
        const string Second = "mapsexporter_threads{pid=\"300\",app=\"b\"} 5\n", First = "mapsexporter_threads{pid=\"20\",app=\"a\"} 3\n";
        const string Text = "# HELP mapsexporter_threads Threads.\n# TYPE mapsexporter_threads gauge\n" + Second + First
            + "# HELP mapsexporter_scan_duration_seconds Duration.\n# TYPE mapsexporter_scan_duration_seconds gauge\nmapsexporter_scan_duration_seconds 0.0123\n"
            + "# HELP mapsexporter_self_cpu_seconds_total CPU.\n# TYPE mapsexporter_self_cpu_seconds_total counter\nmapsexporter_self_cpu_seconds_total 0.5\n"
            + "# HELP mapsexporter_build_info Build.\n# TYPE mapsexporter_build_info gauge\nmapsexporter_build_info{version=\"0.1.0\",revision=\"0cbfb997dc79\"} 1\n";

        string expected = Text.Replace(Second + First, First + Second, StringComparison.Ordinal)
            .Replace(" 0.0123\n", " MASKED\n", StringComparison.Ordinal)
            .Replace(" 0.5\n", " MASKED\n", StringComparison.Ordinal)
            .Replace("version=\"0.1.0\",revision=\"0cbfb997dc79\"", "version=\"MASKED\",revision=\"MASKED\"", StringComparison.Ordinal);
        Assert.Equal(expected, GoldenExposition.Normalise(Text));
    }

    /// <summary>Runs the binary on the tree with one scan an hour, and returns the exposition of that first scan.</summary>
    private static async Task<string> ScrapeFirstScanAsync()
    {
        string binary = AotBinary.Require();
        int port = Ports.Free();
        // The interval set through its configuration key, so the test does not depend on the flag's spelling. A second
        // scan would add to the counters (fallbacks, errors): only the first one is served within the hour.
        Process exporter = AotBinary.Launch(
        [
            "/usr/bin/env", "MAPSEXPORTER__SCAN__INTERVAL=1h", binary, $"--web.listen-address=127.0.0.1:{port}",
            $"--path.procfs={Tree}", $"--path.sysfs={SysFs}", "--selection.include-native=arenas", "--log.level=error",
        ]);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            MetricsScrape scrape = await AotBinary.WaitForAsync(
                http, exporter, s => s.Family("mapsexporter_last_scan_timestamp_seconds").Any(t => t.Value > 0), "the first scan of the captured tree");
            return scrape.Text;
        }
        finally
        {
            AotBinary.Stop(exporter);
        }
    }
}

/// <summary>What the golden test compares: an exposition with its run-to-run values masked, and a unified diff of two texts.</summary>
public static partial class GoldenExposition
{
    public const string Masked = "MASKED";

    /// <summary>
    /// Families whose values depend on the run, not on the tree: the exporter's own cost and the clock. Their HELP,
    /// TYPE and label sets are still compared.
    /// </summary>
    private static readonly HashSet<string> RunDependent = new(StringComparer.Ordinal)
    {
        "mapsexporter_scan_duration_seconds",
        "mapsexporter_last_scan_timestamp_seconds",
        "mapsexporter_process_scan_duration_seconds",
        "mapsexporter_process_resident_timestamp_seconds",
    };

    /// <summary>The build's version, commit and runtime: its label values change with every commit, its label names do not.</summary>
    private const string BuildInfoFamily = "mapsexporter_build_info";

    [GeneratedRegex("=\"[^\"]*\"")]
    private static partial Regex LabelValue();

    /// <summary>The exporter's own HTTP families: their HELP and TYPE are compared, their series are left out.</summary>
    public const string HttpFamilies = "mapsexporter_http_";

    /// <summary>
    /// Masks the run-dependent values, leaves out the HTTP families' series, and puts each family's series in PID order (stable: a process's own series keep
    /// the exporter's order). The exporter reports processes in the order their directories are listed, which is the
    /// filesystem's (ext4 hashes names with a per-filesystem seed), so only within one process is the order its own.
    /// </summary>
    public static string Normalise(string exposition)
    {
        var output = new StringBuilder(exposition.Length);
        var family = new List<string>();
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                Flush(family, output);
                output.Append(line).Append('\n');
                continue;
            }

            string name = line[..line.IndexOfAny(['{', ' '])];
            if (name == BuildInfoFamily)
            {
                family.Add(LabelValue().Replace(line, $"=\"{Masked}\""));
                continue;
            }

            if (name.StartsWith(HttpFamilies, StringComparison.Ordinal))
            {
                continue; // which series exist depends on how many requests came before (the test's polls)
            }

            family.Add(name.StartsWith("mapsexporter_self_", StringComparison.Ordinal) || RunDependent.Contains(name)
                ? line[..(line.LastIndexOf(' ') + 1)] + Masked
                : line);
        }

        Flush(family, output);
        // Split leaves one empty piece after the last newline: it was appended as a line of its own.
        output.Length--;
        return output.ToString();
    }

    private static void Flush(List<string> family, StringBuilder output)
    {
        foreach (string line in family.OrderBy(Pid))
        {
            output.Append(line).Append('\n');
        }

        family.Clear();
    }

    private static long Pid(string sample)
    {
        int start = sample.IndexOf("pid=\"", StringComparison.Ordinal);
        if (start < 0)
        {
            return -1;
        }

        start += "pid=\"".Length;
        return long.Parse(sample.AsSpan(start, sample.IndexOf('"', start) - start), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Null when the texts are equal, else their differing lines as unified-diff hunks with three lines of context.</summary>
    public static string? Diff(string expected, string actual, int maxLines = 200)
    {
        if (expected == actual)
        {
            return null;
        }

        string[] a = expected.Split('\n'), b = actual.Split('\n');
        // lcs[i, j]: length of the longest common subsequence of a[i..] and b[j..] (the files are a few hundred lines).
        int[,] lcs = new int[a.Length + 1, b.Length + 1];
        for (int i = a.Length - 1; i >= 0; i--)
        {
            for (int j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        // The edit script: (' ', '-' or '+', line, index in a, index in b).
        var edits = new List<(char Op, string Line, int A, int B)>();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                edits.Add((' ', a[x], x++, y++));
            }
            else if (y == b.Length || (x < a.Length && lcs[x + 1, y] >= lcs[x, y + 1]))
            {
                edits.Add(('-', a[x], x++, y));
            }
            else
            {
                edits.Add(('+', b[y], x, y++));
            }
        }

        return Hunks(edits, maxLines);
    }

    private static string Hunks(List<(char Op, string Line, int A, int B)> edits, int maxLines)
    {
        const int Context = 3;
        var text = new StringBuilder();
        int lines = 0;
        for (int k = 0; k < edits.Count;)
        {
            if (edits[k].Op == ' ')
            {
                k++;
                continue;
            }

            // A hunk: Context lines before this change to Context lines after the last one; changes at most 2 * Context lines apart share it.
            int start = Math.Max(0, k - Context), last = k;
            for (int i = k + 1; i < edits.Count && i - last <= 2 * Context; i++)
            {
                if (edits[i].Op != ' ')
                {
                    last = i;
                }
            }

            int end = Math.Min(edits.Count, last + Context + 1);
            int removed = edits.Skip(start).Take(end - start).Count(e => e.Op != '+');
            int added = edits.Skip(start).Take(end - start).Count(e => e.Op != '-');
            text.Append(CultureInfo.InvariantCulture, $"@@ -{edits[start].A + 1},{removed} +{edits[start].B + 1},{added} @@\n");
            for (int i = start; i < end; i++)
            {
                if (++lines > maxLines)
                {
                    return text.Append("... (more differences)\n").ToString();
                }

                text.Append(edits[i].Op).Append(edits[i].Line).Append('\n');
            }

            k = end;
        }

        return text.ToString();
    }
}
