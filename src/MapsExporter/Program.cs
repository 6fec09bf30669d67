using MapsExporter.Cli;
using MapsExporter.Daemon;

namespace MapsExporter;

internal static class Program
{
    public static string Usage => $"""
        MapsExporter: where a Java process's memory goes, beyond -Xmx.

        Usage:
          mapsexporter [flags]                                                       run the exporter (Prometheus /metrics)
          mapsexporter report <PID | dump>... [--format text|csv|json] [--header]   one-off report
          mapsexporter diff BEFORE AFTER [--format text|json]                        what changed between two reports or dumps (AFTER: or a live PID)
          mapsexporter --help                                                        this text
          mapsexporter --version                                                     version, commit and .NET runtime

        Flags of the exporter (also appsettings.json, or environment MAPSEXPORTER__SECTION__KEY, e.g. MAPSEXPORTER__SCAN__INTERVAL=30s):
        {DaemonHost.Flags.Usage()}
        Endpoints: / (this exporter), /metrics, /healthz (200 when the last scan succeeded), /process/PID, /api/v1/processes[/PID[/history]].
        Run 'mapsexporter report --help' for the report's options.
        """;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return ExitCodes.Success;
        }

        if (args.Length > 0 && args[0] == "--version")
        {
            Console.Out.WriteLine(BuildInfo.Text);
            return ExitCodes.Success;
        }

        if (args.Length > 0 && args[0] == "report")
        {
            return ReportCommand.Run(args[1..], Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == "diff")
        {
            return DiffCommand.Run(args[1..], Console.Out, Console.Error);
        }

        if (args.Length > 0 && args[0] == PrivilegeSeparation.WebSide.Command)
        {
            return PrivilegeSeparation.WebSide.RunAsync(args[1..], Console.Error).GetAwaiter().GetResult();
        }

        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            return DaemonCommand.RunAsync(args, Console.Error).GetAwaiter().GetResult();
        }

        Console.Error.WriteLine($"mapsexporter: unknown command '{args[0]}'");
        Console.Error.WriteLine(Usage);
        return ExitCodes.Usage;
    }
}
