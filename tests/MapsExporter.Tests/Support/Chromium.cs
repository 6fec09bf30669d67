namespace MapsExporter.Tests.Support;

/// <summary>Debian's chromium, headless, with a profile of its own and nothing running in the background.</summary>
internal static class Chromium
{
    public static string Run(string profile, params string[] args)
    {
        string[] common =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile}",
        ];
        var (code, stdout, stderr) = ToolRunner.Run("chromium", [.. common, .. args], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"chromium {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }
}
