using System.Diagnostics;
using System.Text;

namespace MapsExporter.Tests.Daemon;

/// <summary>The built mapsexporter binary (copied beside the tests by the project reference), run as a real process.</summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _stdout = new();

    private DaemonProcess(Process process)
    {
        Process = process;
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "mapsexporter.dll");

    public Process Process { get; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary><c>dotnet mapsexporter.dll args</c>, or <paramref name="launcher"/> with <c>dotnet mapsexporter.dll args</c> after its own arguments.</summary>
    public static DaemonProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? launcher = null, IEnumerable<string>? launcherArgs = null)
    {
        var info = new ProcessStartInfo(launcher ?? "dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in launcherArgs ?? [])
        {
            info.ArgumentList.Add(arg);
        }

        if (launcher is not null)
        {
            info.ArgumentList.Add("dotnet");
        }

        info.ArgumentList.Add(Dll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        return new DaemonProcess(Process.Start(info)!);
    }

    /// <summary>Runs to completion: exit code and stderr.</summary>
    public static (int Code, string Stderr) Run(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        using DaemonProcess daemon = Start(args, environment);
        if (!daemon.Process.WaitForExit(30_000))
        {
            Assert.Fail($"mapsexporter {string.Join(' ', args)} did not exit: {daemon.Stderr}");
        }

        daemon.Process.WaitForExit(); // flushes the asynchronous readers
        return (daemon.Process.ExitCode, daemon.Stderr);
    }

    /// <summary>Sends SIGTERM, as systemd stops a service.</summary>
    public static void Terminate(int pid)
    {
        var (code, _, stderr) = Support.ToolRunner.Run("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(code == 0, stderr);
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.Append(line).Append('\n');
        }
    }
}
