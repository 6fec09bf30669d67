using System.Globalization;
using MapsExporter.Tests.Daemon;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>A JVM with a password on its command line and a token in its environment: no output of ours carries either.</summary>
public sealed class SecretsTests
{
    private const string Password = "hunter2-SECRET";
    private const string Token = "tok-SECRET-7f3a9";

    [Fact]
    public async Task No_output_carries_command_line_arguments_or_environment_values()
    {
        using JavaWorkload jvm = JavaWorkload.Start(RepoPaths.Jdk17, ["-Xmx128m", $"-Dpassword={Password}", $"-Dtoken={Token}"], 2, null,
            new Dictionary<string, string> { ["SECRET_TOKEN"] = Token });
        string pid = jvm.Pid.ToString(CultureInfo.InvariantCulture);
        Assert.Contains(Password, await File.ReadAllTextAsync($"/proc/{pid}/cmdline"), StringComparison.Ordinal); // the secret is there to find

        var outputs = new Dictionary<string, string>();
        using (Exporter exporter = await Exporter.StartAsync(["--scan.interval=200ms", "--log.level=debug", "--selection.include-native=.*"]))
        {
            await exporter.WaitForAsync(s => s.AllPids().Contains(pid), "the JVM reported");
            foreach (string path in new[] { "/metrics", "/", "/?sort=growth", "/healthz", "/nonexistent", $"/process/{pid}", "/api/v1/processes", $"/api/v1/processes/{pid}", $"/api/v1/processes/{pid}/history" })
            {
                using HttpResponseMessage response = await exporter.Http.GetAsync(new Uri(path, UriKind.Relative));
                outputs[path] = await response.Content.ReadAsStringAsync();
            }

            await Task.Delay(1000);
            exporter.Terminate();
            outputs["daemon stdout+stderr (debug)"] = exporter.Output;
        }

        foreach (string format in new[] { "text", "json", "csv" })
        {
            var (code, stdout, stderr) = ToolRunner.Run("dotnet", [DaemonProcess.Dll, "report", pid, "--format", format]);
            Assert.True(code == 0, stderr);
            outputs[$"report {format}"] = stdout + stderr;
        }

        string saved = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-secrets-").FullName, "report.json");
        File.WriteAllText(saved, ToolRunner.Run("dotnet", [DaemonProcess.Dll, "report", pid, "--format", "json"]).Stdout);
        foreach (string format in new[] { "text", "json" })
        {
            var (code, stdout, stderr) = ToolRunner.Run("dotnet", [DaemonProcess.Dll, "diff", saved, pid, "--format", format]);
            Assert.True(code == 0, stderr);
            outputs[$"diff {format}"] = stdout + stderr;
        }

        Assert.Contains("Workload", outputs[$"/process/{pid}"], StringComparison.Ordinal);
        outputs["report json (log format json)"] = ToolRunner.Run("dotnet", [DaemonProcess.Dll, "report", pid, "--format", "json", "--header"]).Stdout;
        Assert.Contains(pid, outputs["/metrics"], StringComparison.Ordinal);
        foreach (var (name, text) in outputs)
        {
            Assert.False(text.Contains(Password, StringComparison.Ordinal) || text.Contains(Token, StringComparison.Ordinal) || text.Contains("SECRET", StringComparison.Ordinal), $"{name} leaks a secret");
        }
    }
}
