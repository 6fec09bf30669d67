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

/// <summary><c>mapsexporter diff BEFORE AFTER [--format text|json]</c>: what changed between two reports, dumps, or a report and a live process.</summary>
internal static class DiffCommand
{
    public const string Usage = """
        Usage: mapsexporter diff BEFORE AFTER [options]

        What changed: per category the virtual and resident bytes before, after and the change, then arenas,
        malloc in use and free, threads, thread stacks, mappings, and stacks by thread group; largest changes first.
        Each side is a saved JSON report ('mapsexporter report PID --format json'), or a saved maps or smaps dump;
        AFTER can also be a live PID (read through smaps, as 'report' reads it; write ./1234 for a file named 1234).
        Both sides must be of one kind (reports, or dumps; a live PID goes with either) and both have resident
        figures (smaps) or neither (maps).

        Options:
          --format text|json   output format (default text)
          --path.procfs DIR    procfs mount point, for a live PID (default /proc)
          --path.cgroupfs DIR  cgroup filesystem mount point, for a live PID (default /sys/fs/cgroup)
        """;

    private static readonly HashSet<string> ValueOptions = ["--format", "--path.procfs", "--path.cgroupfs"];
    private static readonly HashSet<string> NoSwitches = [];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (CommandArguments.Parse(args, ValueOptions, NoSwitches, "diff", Usage, stdout, stderr, out int exit) is not { } parsed)
        {
            return exit;
        }

        List<string> sides = parsed.Operands;
        string format = parsed.Value("--format", "text");
        string procRoot = parsed.Value("--path.procfs", "/proc"), cgroupRoot = parsed.Value("--path.cgroupfs", "/sys/fs/cgroup");
        if (format is not ("text" or "json"))
        {
            return UsageError(stderr, $"--format must be text or json, not '{format}'");
        }

        if (sides.Count != 2)
        {
            return UsageError(stderr, $"name two sides, BEFORE and AFTER (got {sides.Count})");
        }

        ReportDiff diff;
        try
        {
            ReportFigures before = Read(sides[0], allowLive: false, procRoot, cgroupRoot);
            ReportFigures after = Read(sides[1], allowLive: true, procRoot, cgroupRoot);
            diff = ReportDiff.Compare(before, after);
        }
        catch (Exception e) when (e is FormatException or ProcessReadException or ProcParseException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"mapsexporter: error: {(e is UnauthorizedAccessException ? e.Message + " (permission denied)" : e.Message)}");
            return ExitCodes.Failure;
        }

        if (format == "json")
        {
            using var buffer = new MemoryStream();
            ReportDiffJsonWriter.Write(buffer, diff);
            stdout.Write(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        }
        else
        {
            ReportDiffTextWriter.Write(stdout, diff);
        }

        stdout.Flush();
        return ExitCodes.Success;
    }

    /// <summary>A side: a live PID (AFTER only, when no file has that name), a saved JSON report, or a maps/smaps dump, told apart by content.</summary>
    private static ReportFigures Read(string side, bool allowLive, string procRoot, string cgroupRoot)
    {
        bool number = int.TryParse(side, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0;
        if (number && !File.Exists(side))
        {
            if (!allowLive)
            {
                throw new FormatException($"BEFORE ({side}) is a PID: only AFTER can be a live process (save BEFORE with 'mapsexporter report {side} --format json > before.json')");
            }

            using var inspector = new ProcessInspector(new ProcFs(procRoot), cgroupFs: CgroupFs.ForThisProcess(cgroupRoot));
            MemoryReport live = inspector.Inspect(pid, new InspectRequest { Mode = ScanMode.Smaps }).Report;
            return ReportFigures.From(live, ReportKind.LiveProcess, $"pid {pid.ToString(CultureInfo.InvariantCulture)}");
        }

        if (Directory.Exists(side))
        {
            throw new FormatException($"{side}: is a directory, not a report or a dump");
        }

        var info = new FileInfo(side);
        if (!info.Exists)
        {
            throw new FormatException($"{side}: no such file");
        }

        if (info.Length > DumpReader.MaxDumpBytes)
        {
            throw new FormatException($"{side}: larger than {DumpReader.MaxDumpBytes} bytes, not a report or a dump");
        }

        byte[] content = File.ReadAllBytes(side);
        ReadOnlySpan<byte> start = content.AsSpan().TrimStart(" \t\r\n"u8);
        if (start.IsEmpty)
        {
            throw new FormatException($"{side}: empty, not a report or a dump");
        }

        if (start[0] is (byte)'{' or (byte)'[')
        {
            return ReportFigures.FromJson(content, side);
        }

        MemoryReport dump = DumpReader.Report(content, side, new MappingTable(), new Classification());
        return ReportFigures.From(dump, ReportKind.Dump, side);
    }

    private static int UsageError(TextWriter stderr, string message) => CommandArguments.UsageError(stderr, "diff", message);
}
