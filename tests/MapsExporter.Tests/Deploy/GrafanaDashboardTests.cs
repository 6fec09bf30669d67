using System.Text.Json;
using System.Text.RegularExpressions;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>
/// deploy/grafana/mapsexporter-dashboard.json: every PromQL expression of every panel, and every variable's query,
/// runs against a real Prometheus that scrapes the AOT binary watching a real JVM, and returns series.
/// </summary>
[Collection(DeployCollection.Name)]
public sealed partial class GrafanaDashboardTests(DeployFixture fixture)
{
    private static string DashboardPath => Path.Combine(RepoPaths.Root, "deploy", "grafana", "mapsexporter-dashboard.json");

    [Fact]
    public async Task Every_panel_expression_parses_and_returns_series_in_a_real_prometheus()
    {
        List<(string Panel, string Expr)> exprs = PanelExpressions(Dashboard()).ToList();
        Assert.True(exprs.Count >= 20, $"only {exprs.Count} expressions found");
        var failures = new List<string>();
        foreach (var (panel, expr) in exprs)
        {
            string query = Substitute(expr);
            var (error, series) = await fixture.Prometheus.QueryAsync(query);
            if (error is not null || series.Count == 0)
            {
                failures.Add($"{panel}: {query}: {error ?? "no series"}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public async Task Every_variable_query_finds_values_and_the_jvm_is_among_them()
    {
        JsonElement variables = Dashboard().GetProperty("templating").GetProperty("list");
        var found = new Dictionary<string, List<string>>();
        foreach (JsonElement variable in variables.EnumerateArray().Where(v => v.GetProperty("type").GetString() == "query"))
        {
            string name = variable.GetProperty("name").GetString()!;
            string definition = variable.GetProperty("query").GetProperty("query").GetString()!;
            Match match = LabelValues().Match(definition);
            Assert.True(match.Success, $"variable {name}: {definition} is not label_values(selector, label)");
            var (error, series) = await fixture.Prometheus.QueryAsync(Substitute(match.Groups[1].Value));
            Assert.True(error is null, $"variable {name}: {error}");
            found[name] = series.Select(s => s.GetValueOrDefault(match.Groups[2].Value)).OfType<string>().Distinct().ToList();
            // No process of the test machine runs in a pod (containers cannot be started there): pod may find none.
            Assert.True(found[name].Count > 0 || name == "pod", $"variable {name}: {definition} finds no values");
        }

        Assert.Equal(new[] { "instance", "app", "unit", "pod", "pid" }, found.Keys.ToArray());
        Assert.Contains("workload.service", found["unit"]);
        Assert.Contains(fixture.Pid, found["pid"]);
        Assert.Contains("Workload", found["app"]);
    }

    /// <summary>Grafana's variables become match-all regexes, the rate interval a window the test's scrapes fill.</summary>
    private static string Substitute(string expr) => expr
        .Replace("$__rate_interval", "30s", StringComparison.Ordinal)
        .Replace("$instance", ".*", StringComparison.Ordinal)
        .Replace("$app", ".*", StringComparison.Ordinal)
        .Replace("$pid", ".*", StringComparison.Ordinal)
        .Replace("$unit", ".*", StringComparison.Ordinal)
        .Replace("$pod", ".*", StringComparison.Ordinal);

    private static JsonElement Dashboard() => JsonDocument.Parse(File.ReadAllText(DashboardPath)).RootElement;

    private static IEnumerable<(string Panel, string Expr)> PanelExpressions(JsonElement dashboard)
    {
        foreach (JsonElement panel in dashboard.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.TryGetProperty("panels", out JsonElement inner) ? inner.EnumerateArray().Prepend(p) : [p]))
        {
            if (panel.TryGetProperty("targets", out JsonElement targets))
            {
                foreach (JsonElement target in targets.EnumerateArray())
                {
                    yield return (panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!);
                }
            }
        }
    }

    [GeneratedRegex(@"^label_values\((.+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();
}
