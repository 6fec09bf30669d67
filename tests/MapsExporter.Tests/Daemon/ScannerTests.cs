using System.Text;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Daemon;

/// <summary>The scanner on a made-up procfs tree holding a captured JVM's maps: selection, PID reuse, failures.</summary>
public sealed class ScannerTests : IDisposable
{
    private const string LibJvm = "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so";
    private readonly string _root = Directory.CreateTempSubdirectory("mapsexporter-procfs-").FullName;

    public ScannerTests()
    {
        Write("stat", "cpu  1 2 3 4\nbtime 1700000000\n");
        Write("sys/vm/max_map_count", "65530\n");
    }

    [Fact]
    public void A_reused_pid_is_a_new_process_with_its_own_name_and_start_time()
    {
        AddJvm(100, startTicks: 500, mainClass: "com.example.First");
        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: false);
        ScanSnapshot first = scanner.Scan();
        Assert.True(first.Errors.Count == 0, string.Join("; ", first.Errors));
        ProcessSample sample = Assert.Single(first.Processes);
        Assert.Equal("com.example.First", sample.Report.App);
        Assert.Equal(1_700_000_005, sample.StartTimeSeconds);
        Assert.Equal("17.0.99", sample.JvmVersion);
        Assert.False(sample.Report.ResidentKnown);
        Assert.Equal(65530, first.MaxMapCount);

        AddJvm(100, startTicks: 900, mainClass: "com.example.Second");
        ProcessSample reused = Assert.Single(scanner.Scan().Processes);
        Assert.Equal("com.example.Second", reused.Report.App);
        Assert.Equal(900UL, reused.StartTimeTicks);
    }

    [Fact]
    public void Selection_applies_before_the_mappings_are_read_and_native_processes_are_opt_in()
    {
        AddJvm(100, startTicks: 500, mainClass: "com.example.Kept");
        AddJvm(101, startTicks: 500, mainClass: "com.example.Dropped");
        AddProcess(102, startTicks: 500, comm: "nginx", maps: "00400000-00452000 r-xp 00000000 08:02 173521 /usr/sbin/nginx\n", cmdline: "nginx\0");
        // An excluded JVM whose smaps would not parse: never read, so no parse error.
        Write("101/smaps", "garbage\n");

        using var scanner = new ProcessScanner(new ProcFs(_root), new ProcessSelector(excludeApp: ".*Dropped", includeNative: "nginx"), useSmaps: false);
        ScanSnapshot snapshot = scanner.Scan();
        Assert.Equal(["com.example.Kept", "nginx"], snapshot.Processes.Select(p => p.Report.App).Order());
        Assert.Null(snapshot.Processes.Single(p => p.Pid == 102).JvmVersion);
        Assert.Empty(snapshot.Errors);
    }

    [Fact]
    public void A_vanished_or_unparsable_process_is_an_error_of_its_own_kind_and_the_scan_goes_on()
    {
        AddJvm(100, startTicks: 500, mainClass: "com.example.Good");
        AddJvm(101, startTicks: 500, mainClass: "com.example.Bad");
        Write("101/smaps", "this is not smaps\n");
        Write("102/stat", "102 (short) S"); // exited as it was listed: fewer fields
        Directory.CreateDirectory(Path.Combine(_root, "103")); // exited: nothing left

        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true);
        ScanSnapshot snapshot = scanner.Scan();
        Assert.True(snapshot.Success);
        Assert.Contains(snapshot.Processes, p => p.Report.App == "com.example.Good");
        Assert.Contains(snapshot.Errors, e => e.Pid == 101 && e.Reason == ReadFailure.Parse);
        Assert.Contains(snapshot.Errors, e => e.Pid == 102 && e.Reason == ReadFailure.Parse);
        Assert.DoesNotContain(snapshot.Errors, e => e.Pid == 103);
    }

    [Fact]
    public void A_file_cut_mid_record_is_a_vanished_process_when_stat_says_it_exited_and_a_parse_error_otherwise()
    {
        // The captured smaps cut inside a record, as a read racing the process's exit leaves it.
        string smaps = File.ReadAllText(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps"));
        string cut = smaps[..smaps.IndexOf("Rss:", smaps.Length / 2, StringComparison.Ordinal)];
        AddJvm(100, startTicks: 500, mainClass: "com.example.Exiting");
        AddJvm(101, startTicks: 500, mainClass: "com.example.Living");
        Write("100/smaps", cut);
        Write("101/smaps", cut);
        // Exiting: its memory is released (vsize 0) while stat keeps its start time until it is reaped.
        Write("100/stat", $"100 (java) S {string.Join(' ', Enumerable.Repeat("0", 18))} 500 0 0\n");

        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: true);
        ScanSnapshot snapshot = scanner.Scan();
        ScanError exited = Assert.Single(snapshot.Errors, e => e.Pid == 100);
        Assert.Equal(ReadFailure.Vanished, exited.Reason);
        Assert.StartsWith("process 100 exited while it was read (", exited.Message, StringComparison.Ordinal);
        Assert.Equal(ReadFailure.Parse, Assert.Single(snapshot.Errors, e => e.Pid == 101).Reason);
        Assert.Empty(snapshot.Processes);
    }

    [Fact]
    public void A_process_found_not_to_be_a_jvm_is_read_again_after_an_exec_or_a_minute()
    {
        const string NativeMaps = "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/launcher\n";
        string jvmMaps = File.ReadAllText(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "maps"));
        AddProcess(102, startTicks: 500, comm: "launcher", maps: NativeMaps, cmdline: "launcher\0");
        AddProcess(103, startTicks: 500, comm: "embedder", maps: NativeMaps, cmdline: "embedder\0");
        var time = new SettableTime(DateTimeOffset.UnixEpoch.AddDays(20_000));
        using var scanner = new ProcessScanner(new ProcFs(_root), ProcessSelector.All, useSmaps: false, time);
        Assert.Empty(scanner.Scan().Processes);

        // Same comm, same start: not read again (a maps file that would not parse causes no error).
        Write("102/maps", "not maps at all\n");
        Write("103/maps", jvmMaps);
        ScanSnapshot cached = scanner.Scan();
        Assert.Empty(cached.Processes);
        Assert.Empty(cached.Errors);

        // An exec changes the comm: read at once. An embedder loading libjvm.so keeps it: read within the minute.
        // (an exec writes the comm that stat and comm show)
        AddProcess(102, startTicks: 500, comm: "java", maps: jvmMaps, cmdline: "launcher\0");
        Assert.Equal([102], scanner.Scan().Processes.Select(p => p.Pid));
        time.Now += ProcessScanner.NotJvmRecheckInterval;
        Assert.Equal([102, 103], scanner.Scan().Processes.Select(p => p.Pid).Order());
    }

    [Fact]
    public void A_missing_procfs_fails_the_scan()
    {
        using var scanner = new ProcessScanner(new ProcFs(Path.Combine(_root, "nope")), ProcessSelector.All);
        ScanSnapshot snapshot = scanner.Scan();
        Assert.False(snapshot.Success);
        Assert.Contains("not a readable procfs", snapshot.FailureMessage, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void AddJvm(int pid, ulong startTicks, string mainClass)
    {
        string maps = File.ReadAllText(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "maps"));
        Assert.Contains(LibJvm, maps, StringComparison.Ordinal);
        AddProcess(pid, startTicks, "java", maps, $"/usr/bin/java\0-Xmx512m\0-cp\0/app\0{mainClass}\0--secret=1\0");
        Write($"{pid}/smaps", File.ReadAllText(RepoPaths.Fixture("jdk17-g1-xmx512m-t20", "smaps")));
        Write($"{pid}/root{Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(LibJvm)))}/release", "JAVA_VERSION=\"17.0.99\"\n");
    }

    private void AddProcess(int pid, ulong startTicks, string comm, string maps, string cmdline)
    {
        // Field 22 of stat is the start time (19 fields after the state), 23 the virtual size (0 once a process exits).
        Write($"{pid}/stat", $"{pid} ({comm}) S {string.Join(' ', Enumerable.Repeat("0", 18))} {startTicks} 1073741824 0\n");
        Write($"{pid}/maps", maps);
        Write($"{pid}/comm", comm + "\n");
        Write($"{pid}/cmdline", cmdline);
        Directory.CreateDirectory(Path.Combine(_root, $"{pid}/task/{pid}"));
    }

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    private sealed class SettableTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
