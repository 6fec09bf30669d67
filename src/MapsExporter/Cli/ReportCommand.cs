using System.Globalization;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;

namespace MapsExporter.Cli;

/// <summary><c>mapsexporter report &lt;PID | dump&gt;... [--format text|csv|json] [--header]</c>: a one-off report from a shell.</summary>
internal static class ReportCommand
{
    public const string Usage = """
        Usage: mapsexporter report <PID | maps-or-smaps-dump>... [options]

        Reports where a process's memory goes: Java heap, code cache, metaspace, CDS archive, thread stacks,
        glibc arenas, libraries, mapped files. A PID reads /proc/PID/smaps (maps if smaps cannot be read);
        a file is a saved maps or smaps dump, told apart by content (write ./1234 for a file named 1234).

        Options:
          --format text|csv|json   output format (default text)
          --header                 with csv: print the header line first
          --maps-only              read /proc/PID/maps only (cheap: no page-table walk; no resident sizes)
          --resident auto|smaps|pagemap
                                   where resident sizes come from (default auto): smaps, or pagemap outside the
                                   Java heap and statm for the heap (no walk of the heap, no Pss; a JVM whose heap
                                   is known exactly, else smaps); auto: pagemap for a JVM above 1 GiB resident
          --path.procfs DIR        procfs mount point (default /proc)
          --path.cgroupfs DIR      cgroup filesystem mount point (default /sys/fs/cgroup)
        """;

    private static readonly HashSet<string> ValueOptions = ["--format", "--path.procfs", "--path.cgroupfs", "--resident"];
    private static readonly HashSet<string> Switches = ["--header", "--maps-only"];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (CommandArguments.Parse(args, ValueOptions, Switches, "report", Usage, stdout, stderr, out int exit) is not { } parsed)
        {
            return exit;
        }

        List<string> targets = parsed.Operands;
        string format = parsed.Value("--format", "text");
        bool header = parsed.Has("--header"), mapsOnly = parsed.Has("--maps-only");
        string procRoot = parsed.Value("--path.procfs", "/proc");
        string cgroupRoot = parsed.Value("--path.cgroupfs", "/sys/fs/cgroup");
        string resident = parsed.Value("--resident", "auto");

        if (format is not ("text" or "csv" or "json"))
        {
            return UsageError(stderr, $"--format must be text, csv or json, not '{format}'");
        }

        if (targets.Count == 0)
        {
            return UsageError(stderr, "name a PID or a maps/smaps dump file");
        }

        if (ResidentModes.Parse(resident) is not { } residentMode)
        {
            return UsageError(stderr, $"--resident must be auto, smaps or pagemap, not '{resident}'");
        }

        var procFs = new ProcFs(procRoot);
        using var inspector = new ProcessInspector(procFs, cgroupFs: CgroupFs.ForThisProcess(cgroupRoot));
        // A dump is parsed and classified here; a PID by the inspector, which hands back the regions it classified.
        var dumpTable = new MappingTable();
        var dumpClassification = new Classification();
        var reports = new List<MemoryReport>();
        int failures = 0;
        if (format == "csv" && header)
        {
            stdout.WriteLine(CsvReportWriter.Header());
        }

        foreach (string target in targets)
        {
            MemoryReport report;
            ClassifiedRegions? regions;
            try
            {
                if (IsPid(target, out int pid))
                {
                    InspectionResult result = inspector.Inspect(pid, new InspectRequest { Mode = mapsOnly ? ScanMode.Maps : ModeFor(residentMode, procFs, pid), KeepRegions = format == "text" });
                    foreach (string warning in result.Warnings)
                    {
                        stderr.WriteLine($"mapsexporter: warning: {warning}");
                    }

                    if (result.CgroupProblem is { } cgroupProblem)
                    {
                        stderr.WriteLine($"mapsexporter: warning: cgroup: {cgroupProblem}");
                    }

                    (report, regions) = (result.Report, result.Regions);
                }
                else
                {
                    report = DumpReader.Read(target, dumpTable, dumpClassification);
                    regions = format == "text" ? ClassifiedRegions.Capture(dumpTable, dumpClassification) : null;
                }
            }
            catch (Exception e) when (e is ProcessReadException or ProcParseException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"mapsexporter: error: {Describe(e)}");
                failures++;
                continue;
            }

            switch (format)
            {
                case "text":
                    TextReportWriter.Write(stdout, report, regions!);
                    break;
                case "csv":
                    stdout.WriteLine(CsvReportWriter.Row(report));
                    break;
                default:
                    reports.Add(report);
                    break;
            }
        }

        if (format == "json" && reports.Count > 0)
        {
            using var buffer = new MemoryStream();
            JsonReportWriter.Write(buffer, reports);
            stdout.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }

        stdout.Flush();
        return failures == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    /// <summary>
    /// A one-off report has no earlier reads to measure: auto reads pagemap where smaps' walk costs tens of
    /// milliseconds (above 1 GiB resident, 4 KiB pages) and smaps below, where it also gives Pss.
    /// </summary>
    private static ScanMode ModeFor(ResidentMode mode, ProcFs procFs, int pid)
    {
        const long PagemapAboveBytes = 1L << 30;
        if (mode != ResidentMode.Auto)
        {
            return mode == ResidentMode.Pagemap ? ScanMode.Pagemap : ScanMode.Smaps;
        }

        using var files = new ProcessFiles(procFs);
        return files.ReadResidentBytes(pid) > PagemapAboveBytes ? ScanMode.Pagemap : ScanMode.Smaps;
    }

    private static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => $"{e.Message} (permission denied)",
        _ => e.Message,
    };

    private static bool IsPid(string target, out int pid) =>
        int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;

    private static int UsageError(TextWriter stderr, string message) => CommandArguments.UsageError(stderr, "report", message);
}
