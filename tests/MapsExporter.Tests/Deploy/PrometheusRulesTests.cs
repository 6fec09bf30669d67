using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>deploy/prometheus/: promtool checks the scrape config and the rules, and runs the rules' unit tests, which cover every alert firing and not firing.</summary>
public sealed class PrometheusRulesTests
{
    private static string Dir => Path.Combine(RepoPaths.Root, "deploy", "prometheus");

    [Fact]
    public void Promtool_checks_the_rules()
    {
        var (code, stdout, stderr) = ToolRunner.Run("promtool", ["check", "rules", Path.Combine(Dir, "mapsexporter-rules.yml")]);
        Assert.True(code == 0, stdout + stderr);
    }

    [Fact]
    public void Promtool_checks_the_scrape_config_with_its_rule_file()
    {
        var (code, stdout, stderr) = ToolRunner.Run("promtool", ["check", "config", Path.Combine(Dir, "prometheus.yml")]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("mapsexporter-rules.yml", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Promtool_runs_the_rule_unit_tests()
    {
        var (code, stdout, stderr) = ToolRunner.Run("promtool", ["test", "rules", Path.Combine(Dir, "mapsexporter-rules.test.yml")]);
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("SUCCESS", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_has_a_unit_test_where_it_fires_and_one_where_it_does_not()
    {
        List<string> alerts = Yaml.List(Yaml.At(Yaml.LoadAll(Path.Combine(Dir, "mapsexporter-rules.yml")).Single(), "groups"), "groups")
            .SelectMany(g => Yaml.List(Yaml.At(g, "rules"), "rules"))
            .Select(r => Yaml.Map(r, "rule"))
            .Where(r => r.ContainsKey("alert"))
            .Select(r => (string)r["alert"])
            .ToList();
        Assert.True(alerts.Count >= 8, $"only {alerts.Count} alerts");
        var cases = Yaml.List(Yaml.At(Yaml.LoadAll(Path.Combine(Dir, "mapsexporter-rules.test.yml")).Single(), "tests"), "tests")
            .Where(t => Yaml.Map(t, "test").ContainsKey("alert_rule_test"))
            .SelectMany(t => Yaml.List(Yaml.At(t, "alert_rule_test"), "alert_rule_test"))
            .Select(c => (Alert: Yaml.Text(c, "alertname"), Fires: Yaml.List(Yaml.At(c, "exp_alerts"), "exp_alerts").Count > 0))
            .ToList();
        Assert.All(alerts, alert =>
        {
            Assert.True(cases.Contains((alert, true)), $"{alert} has no test where it fires");
            Assert.True(cases.Contains((alert, false)), $"{alert} has no test where it does not fire");
        });
    }
}
