using MapsExporter.Cli;

namespace MapsExporter;

internal static class Program
{
    public const string Usage = """
        MapsExporter: where a Java process's memory goes, beyond -Xmx.

        Usage:
          mapsexporter report <PID | dump>... [--format text|csv|json] [--header]   one-off report
          mapsexporter --help                                                        this text

        Run 'mapsexporter report --help' for the report's options.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? ReportCommand.ExitUsage : 0;
        }

        if (args[0] == "report")
        {
            return ReportCommand.Run(args[1..], Console.Out, Console.Error);
        }

        Console.Error.WriteLine($"mapsexporter: unknown command '{args[0]}'");
        Console.Error.WriteLine(Usage);
        return ReportCommand.ExitUsage;
    }
}
