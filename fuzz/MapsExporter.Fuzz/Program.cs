using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Reporting;
using SharpFuzz;

namespace MapsExporter.Fuzz;

/// <summary>
/// AFL++ targets over the parsers that read untrusted bytes: <c>dump</c> (DumpReader.Report, which detects maps or
/// smaps, parses, classifies and builds the report, then writes it as text, CSV and JSON), <c>hsperfdata</c>
/// (HsPerfData.Parse), <c>stat</c> (/proc/PID/stat and /proc/stat), and the newer readers of
/// <see cref="NewReaderTargets"/>: <c>cgroup</c>, <c>malloc</c>, <c>pagemap</c>, <c>webconfig</c>, and <c>ipc</c> (<see cref="IpcTarget"/>). A <see cref="ProcParseException"/> is the
/// expected answer to bad input; any other exception escapes and AFL records the input as a crash.
/// <c>--replay FILE...</c> runs the target once per file without AFL (to reproduce a crash).
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || Target(args[0]) is not { } target)
        {
            Console.Error.WriteLine("usage: MapsExporter.Fuzz dump|hsperfdata|stat|cgroup|malloc|pagemap|webconfig|ipc [--replay FILE...]");
            return 64;
        }

        if (args.Length > 1 && args[1] == "--replay")
        {
            foreach (string file in args[2..])
            {
                target(File.ReadAllBytes(file));
            }

            return 0;
        }

        Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        });
        return 0;
    }

    private delegate void Span(ReadOnlySpan<byte> input);

    private static Span? Target(string name) => name switch
    {
        "dump" => Dump,
        "hsperfdata" => input => HsPerfData.Parse(input),
        "stat" => Stat,
        "cgroup" => NewReaderTargets.Cgroup,
        "malloc" => NewReaderTargets.Malloc,
        "pagemap" => NewReaderTargets.Pagemap,
        "webconfig" => NewReaderTargets.WebConfigFile,
        "ipc" => IpcTarget.Frames,
        _ => null,
    };

    private static void Dump(ReadOnlySpan<byte> input)
    {
        var table = new MappingTable();
        var classification = new Classification();
        try
        {
            MemoryReport report = DumpReader.Report(input, "fuzz", table, classification);
            TextReportWriter.Write(TextWriter.Null, report, ClassifiedRegions.Capture(table, classification));
            _ = CsvReportWriter.Row(report);
            JsonReportWriter.Write(Stream.Null, [report]);
        }
        catch (ProcParseException)
        {
        }
    }

    private static void Stat(ReadOnlySpan<byte> input)
    {
        try
        {
            ProcStatParser.ParseStartTimeTicks(input, "fuzz");
        }
        catch (ProcParseException)
        {
        }

        try
        {
            ProcStatParser.ParseBootTime(input, "fuzz");
        }
        catch (ProcParseException)
        {
        }
    }
}
