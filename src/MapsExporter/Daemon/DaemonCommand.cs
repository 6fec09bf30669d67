using MapsExporter.Configuration;
using MapsExporter.Logging;
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

        // Start-up failures that are not settings (the port is taken) are logged through this one.
        Log.Logger = DaemonLogging.Configure(new LoggerConfiguration(), new LogOptions(), SystemdHelpers.IsSystemdService()).CreateLogger();
        try
        {
            await using WebApplication app = DaemonHost.Build(args);
            // Every setting is checked here, before the host starts (which would log a stack trace for a bad one).
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            // Through the daemon's logger, once the settings are known good: in the configured format (JSON lines stay
            // JSON, journald gets a priority), and a bad setting still exits with its one line.
            foreach (Flag flag in DaemonHost.Flags.FindOldSpellings(args))
            {
                app.Logger.LogWarning("Flag {OldFlag} is deprecated and will be removed: use {Flag}", flag.OldName, flag.Name);
            }

            await app.StartAsync();
            ICollection<string>? addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            app.Logger.LogInformation("Listening on {Addresses}", string.Join(", ", addresses ?? []));
            if (!mallocPinned)
            {
                app.Logger.LogDebug("The C library did not take mallopt(M_MMAP_THRESHOLD); large blocks follow its dynamic threshold");
            }

            await app.WaitForShutdownAsync();
            return ExitCodes.Success;
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
}
