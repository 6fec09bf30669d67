using System.Diagnostics;

namespace MapsExporter.Tests.Daemon;

/// <summary>promtool from Debian's prometheus package; a missing promtool fails the test (the CI script installs it).</summary>
public static class Promtool
{
    public static (int Code, string Output) CheckMetrics(string exposition)
    {
        var info = new ProcessStartInfo("promtool") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        using Process process = Process.Start(info)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(exposition);
        process.StandardInput.Close();
        Assert.True(process.WaitForExit(60_000), "promtool did not finish");
        return (process.ExitCode, (stdout.Result + stderr.Result).Trim());
    }
}
