using MapsExporter.Configuration;
using MapsExporter.Logging;
using MapsExporter.PrivilegeSeparation;
using MapsExporter.Web;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Options;
using Serilog;

namespace MapsExporter.Daemon;

/// <summary><c>mapsexporter [flags]</c>: runs the daemon until SIGTERM or Ctrl-C. Exit 0 on a clean stop, 78 on a bad setting.</summary>
internal static class DaemonCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter stderr)
    {
        if (DaemonHost.Flags.FindUnknown(args) is { } problem)
        {
            await stderr.WriteLineAsync($"mapsexporter: {problem} (see mapsexporter --help)");
            return ExitCodes.Usage;
        }

        // Before the host starts its threads, so no arena has grown under the dynamic threshold yet.
        bool mallocPinned = MallocTuning.PinMmapThreshold();

        bool journal = SystemdHelpers.IsSystemdService();
        return await GuardedAsync(stderr, journal, async () =>
        {
            IReadOnlyList<string> webSide = SplitDecision.WebSideCommand(args, journal);
            string? refusal = SplitDecision.Refusal(DaemonHost.CreateBuilder(args).Configuration, webSide);
            await using WebApplication app = DaemonHost.Build(args, scanner: refusal is null);
            // Every setting is checked here, before the host starts (which would log a stack trace for a bad one).
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            // Through the daemon's logger, once the settings are known good: in the configured format (JSON lines stay
            // JSON, journald gets a priority), and a bad setting still exits with its one line.
            foreach (Flag flag in DaemonHost.Flags.FindOldSpellings(args))
            {
                app.Logger.LogWarning("Flag {OldFlag} is deprecated and will be removed: use {Flag}", flag.OldName, flag.Name);
            }

            if (refusal is { Length: > 0 })
            {
                app.Logger.LogWarning("One process, no privilege separation: {Reason} (--web.privsep=false says so and hides this line)", refusal);
            }

            if (refusal is null)
            {
                return await RunSplitAsync(app, webSide);
            }

            try
            {
                await app.StartAsync();
            }
            catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return ExitCodes.Success; // SIGTERM before the first scan finished: the host's start watches the stop too
            }

            LogListening(app);
            if (!mallocPinned)
            {
                app.Logger.LogDebug("The C library did not take mallopt(M_MMAP_THRESHOLD); large blocks follow its dynamic threshold");
            }

            await app.WaitForShutdownAsync();
            return ExitCodes.Success;
        });
    }

    /// <summary>
    /// Runs a host's life with the daemon's error handling: a bad setting is one line on stderr and exit 78, a start-up
    /// failure that is not a setting (the port is taken) is logged through the bootstrap logger and exit 1.
    /// </summary>
    public static async Task<int> GuardedAsync(TextWriter stderr, bool journal, Func<Task<int>> run)
    {
        // One write(2) per line (the default writer's 256-byte buffer splits longer ones): the scanner and the web
        // side share stderr, and their lines must not interleave.
        Console.SetError(new StreamWriter(Console.OpenStandardError(), bufferSize: 16 * 1024) { AutoFlush = true });
        Log.Logger = DaemonLogging.Configure(new LoggerConfiguration(), new LogOptions(), journal).CreateLogger();
        try
        {
            return await run();
        }
        catch (Exception e) when (ConfigurationErrors.Describe(e, DaemonHost.Flags) is { } message)
        {
            await stderr.WriteLineAsync($"mapsexporter: {message}");
            return ExitCodes.Config;
        }
        catch (IOException e)
        {
            Log.Fatal(e, "Cannot start: {Reason}", e.Message);
            return ExitCodes.Failure;
        }
        finally
        {
            await Log.CloseAndFlushAsync();
        }
    }

    public static void LogListening(WebApplication app)
    {
        ICollection<string>? addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        app.Logger.LogInformation("Listening on {Addresses}", string.Join(", ", addresses ?? []));
    }

    /// <summary>
    /// This process scans; the web side, started from an unprivileged thread, listens and asks it over a socket pair.
    /// The order matters: settings checked (a bad one is this process's one line), the listening sockets bound and the
    /// web config's files read for the web side, the web side started (children inherit a seccomp filter), the filter
    /// set, and only then the first /proc read of another process.
    /// </summary>
    private static async Task<int> RunSplitAsync(WebApplication app, IReadOnlyList<string> webSide)
    {
        var server = app.Services.GetRequiredService<ScannerServer>();
        // Bound and read here, with the scanner's privilege (a port below 1024, a key only root reads), for the web side.
        WebOptions options = app.Services.GetRequiredService<IOptions<WebOptions>>().Value;
        _ = ListenAddress.TryParse(options.ListenAddress, out ListenAddress address, out _); // validated above
        byte[]? webFiles = options.ConfigFile.Length > 0 ? WebConfigFilesRead(options.ConfigFile) : null;
        using WebSideSupervisor supervisor = await WebSideSupervisor.StartAsync(webSide, ListenSockets.Bind(address), webFiles, server, app.Logger);
        int filterError = NoInetFilter.Apply();
        if (filterError != 0)
        {
            app.Logger.LogWarning("The scanner's seccomp filter could not be set (errno {Errno}): it could still open inet sockets", filterError);
        }

        int probe = NoInetFilter.ProbeInet();
        app.Logger.LogDebug("The scanner's socket(AF_INET): {Result}", probe == 0 ? "created (the network is reachable)" : $"refused, errno {probe}");
        Task<int?> web = supervisor.RunAsync(app.Lifetime.ApplicationStopping);
        app.Logger.LogInformation("Privilege separation: this process (PID {Pid}) scans with no network; the web side (PID {WebPid}) runs as {User} with no capability",
            Environment.ProcessId, supervisor.WebPid, supervisor.WebUser);
        using var webGone = new CancellationTokenSource();
        _ = web.ContinueWith(_ =>
        {
            webGone.Cancel();
            app.Lifetime.StopApplication();
        }, TaskScheduler.Default);
        try
        {
            await app.StartAsync(webGone.Token); // completes once the web side listens (ScannerStartGate)
        }
        catch (OperationCanceledException) when (webGone.IsCancellationRequested || app.Lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // The web side exited before it listened, or SIGTERM came first (the host's start watches the stop too).
            return await web ?? ExitCodes.Success;
        }

        await app.WaitForShutdownAsync();
        return await web ?? ExitCodes.Success;
    }

    /// <summary>The web config and every file it names, read as it is loaded (read once, at start: no reload), as a bundle.</summary>
    private static byte[] WebConfigFilesRead(string path)
    {
        WebConfigFiles read = WebConfigFiles.Recording();
        try
        {
            WebConfig.Load(path, read);
        }
        catch (WebConfigException e)
        {
            // Checked a moment ago: changed since. One line and exit 78, as at the check.
            throw new OptionsValidationException(nameof(WebOptions), typeof(WebOptions), [$"{WebOptions.Flags.ConfigFile.Describe()}: {e.Message}"]);
        }

        return read.Encode();
    }
}
