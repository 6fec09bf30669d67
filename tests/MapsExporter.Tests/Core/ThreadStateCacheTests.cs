using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Reporting;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// ThreadStateCache on real processes: a small C program (compiled here with gcc) starts, renames and ends threads
/// on command. A new thread is sampled, an exited one dropped, a rename shows within the documented bound, a reused
/// PID (same PID key, new start time) starts with nothing cached, and a warm inspection reads no comm or syscall.
/// </summary>
public sealed class ThreadStateCacheTests
{
    private const string Source = """
        #define _GNU_SOURCE
        #include <pthread.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/prctl.h>
        #include <sys/syscall.h>
        #include <unistd.h>
        static pthread_t threads[64];
        static volatile int stop[64];
        static void *run(void *arg) {
            long i = (long)arg;
            char name[16];
            snprintf(name, sizeof name, "worker-%ld", i);
            prctl(PR_SET_NAME, name, 0, 0, 0);
            printf("TID %ld\n", (long)syscall(SYS_gettid));
            fflush(stdout);
            while (!stop[i]) usleep(20000);
            return NULL;
        }
        int main(void) {
            char cmd[64], name[32];
            long i;
            printf("READY\n");
            fflush(stdout);
            while (fgets(cmd, sizeof cmd, stdin)) {
                if (sscanf(cmd, "start %ld", &i) == 1) { pthread_create(&threads[i], NULL, run, (void *)i); continue; }
                if (sscanf(cmd, "stop %ld", &i) == 1) { stop[i] = 1; pthread_join(threads[i], NULL); printf("STOPPED\n"); fflush(stdout); continue; }
                if (sscanf(cmd, "rename %ld %31s", &i, name) == 2) { pthread_setname_np(threads[i], name); printf("RENAMED\n"); fflush(stdout); }
            }
            return 0;
        }
        """;

    private static readonly Lazy<string> Binary = new(Compile);

    [Fact]
    public void New_threads_are_sampled_exited_ones_dropped_and_a_warm_inspection_reads_nothing()
    {
        using var program = ThreadProgram.Start();
        var clock = new ManualClock();
        using var inspector = new Scope(clock);
        inspector.Inspect(program.Pid, exact: true);
        Assert.Equal(1, inspector.Threads(program.Pid).ThreadCount);

        int tid = program.StartThread(1);
        MemoryReport report = inspector.Inspect(program.Pid, exact: true);
        Assert.Equal(2, report.Threads);
        Assert.Equal(2, inspector.Threads(program.Pid).ThreadCount);
        Assert.True(inspector.Threads(program.Pid).LastReads.Comm >= 1, "the new thread's name is read");

        // Blocked threads have a known stack pointer: warm inspections read no syscall at all, and each thread's name
        // once in any NameRefreshInspections of them spread over NameRefreshInterval (the refreshes are spread by TID,
        // so which inspection varies).
        int names = 0;
        for (int i = 0; i < ThreadStateCache.NameRefreshInspections; i++)
        {
            clock.Advance(ThreadStateCache.NameRefreshInterval / ThreadStateCache.NameRefreshInspections);
            inspector.Inspect(program.Pid, exact: true);
            Assert.Equal(0, inspector.Threads(program.Pid).LastReads.Syscall);
            names += inspector.Threads(program.Pid).LastReads.Comm;
        }

        Assert.Equal(2, names);

        program.StopThread(1);
        // pthread_join returns once the kernel clears the thread's TID, a moment before its task/ entry goes.
        for (int i = 0; i < 200 && Directory.Exists($"/proc/{program.Pid}/task/{tid}"); i++)
        {
            Thread.Sleep(5);
        }

        report = inspector.Inspect(program.Pid, exact: true);
        Assert.Equal(1, report.Threads);
        Assert.Equal(1, inspector.Threads(program.Pid).ThreadCount);
        Assert.NotEqual(0, tid);
    }

    [Fact]
    public void A_renamed_thread_shows_its_new_name_within_the_refresh_bound()
    {
        using var program = ThreadProgram.Start();
        var clock = new ManualClock();
        using var inspector = new Scope(clock);
        program.StartThread(2);
        inspector.Inspect(program.Pid, exact: true);
        Assert.Contains(inspector.LastReport!.ThreadGroups.Keys, g => g.StartsWith("worker-", StringComparison.Ordinal));
        program.Rename(2, "renamed");

        // Scans quicker than the interval: many inspections within it read no name again.
        for (int i = 0; i < 3 * ThreadStateCache.NameRefreshInspections; i++)
        {
            inspector.Inspect(program.Pid, exact: true);
            Assert.Equal(0, inspector.Threads(program.Pid).LastReads.Comm);
        }

        Assert.False(inspector.LastReport!.ThreadGroups.ContainsKey("renamed"));
        bool seen = false;
        for (int i = 0; i < ThreadStateCache.NameRefreshInspections && !seen; i++)
        {
            clock.Advance(ThreadStateCache.NameRefreshInterval / ThreadStateCache.NameRefreshInspections);
            inspector.Inspect(program.Pid, exact: true);
            seen = inspector.LastReport!.ThreadGroups.ContainsKey("renamed");
        }

        Assert.True(seen, $"the new name was not read within {ThreadStateCache.NameRefreshInspections} inspections over {ThreadStateCache.NameRefreshInterval}");
    }

    [Fact]
    public void A_process_with_another_start_time_gets_no_stale_state()
    {
        using var program = ThreadProgram.Start();
        program.StartThread(3);
        using var inspector = new Scope();
        inspector.Inspect(program.Pid, exact: true);
        Assert.Equal(2, inspector.Threads(program.Pid).ThreadCount);

        // What a reused PID looks like to the cache: the same PID, another start time. Everything is read afresh.
        var samples = new List<ThreadSample>();
        using var reader = new ProcFileReader();
        ulong startTicks = Scope.StartTicks(program.Pid);
        ProcessState reused = inspector.States.For(program.Pid, startTicks + 1);
        var table = new MappingTable();
        MapsParser.Parse(File.ReadAllBytes($"/proc/{program.Pid}/maps"), table, "maps");
        reused.Threads.Sample(new ProcFs(), program.Pid, table, reader, samples);
        Assert.Equal((2, 2), reused.Threads.LastReads);
        Assert.Equal(2, samples.Count);
    }

    [Fact]
    public void A_process_missing_from_a_scan_s_listing_is_dropped_at_once()
    {
        using var kept = ThreadProgram.Start();
        using var gone = ThreadProgram.Start();
        using var inspector = new Scope();
        inspector.Inspect(kept.Pid, exact: true);
        inspector.Inspect(gone.Pid, exact: true);
        Assert.Equal(2, inspector.States.Count);

        inspector.States.Retain(new HashSet<(int, ulong)> { (kept.Pid, Scope.StartTicks(kept.Pid)) });
        Assert.Equal(1, inspector.States.Count);
        Assert.Equal(1, inspector.Threads(kept.Pid).ThreadCount);
        Assert.Equal(0, inspector.Threads(gone.Pid).ThreadCount);
    }

    [Fact]
    public void One_shot_results_equal_a_warm_inspector_s()
    {
        using var program = ThreadProgram.Start();
        program.StartThread(4);
        program.StartThread(5);
        using var warm = new Scope();
        for (int i = 0; i < 3; i++)
        {
            warm.Inspect(program.Pid, exact: true);
        }

        MemoryReport warmReport = warm.Inspect(program.Pid, exact: true);
        using var fresh = new Scope();
        MemoryReport freshReport = fresh.Inspect(program.Pid, exact: true);
        Assert.Equal(freshReport.Threads, warmReport.Threads);
        Assert.Equal(fresh.LastReport!.ThreadGroups.OrderBy(p => p.Key, StringComparer.Ordinal).ToList(), warm.LastReport!.ThreadGroups.OrderBy(p => p.Key, StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Text_mode_counts_threads_from_stat()
    {
        using var program = ThreadProgram.Start();
        program.StartThread(6);
        program.StartThread(7);
        using var inspector = new Scope();
        Assert.Equal(3, inspector.Inspect(program.Pid, exact: false).Threads);
        Assert.Equal(0, inspector.Threads(program.Pid).ThreadCount);
    }

    /// <summary>An inspector and the process states a scan would keep, to inspect the same processes again and again.</summary>
    private sealed class Scope(TimeProvider? time = null) : IDisposable
    {
        private readonly ProcessInspector _inspector = new(new ProcFs(), time);

        public ProcessStates States { get; } = new(time);

        public MemoryReport? LastReport { get; private set; }

        public static ulong StartTicks(int pid) => ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes($"/proc/{pid}/stat"), "stat");

        public MemoryReport Inspect(int pid, bool exact = true) =>
            LastReport = _inspector.Inspect(pid, exact: exact, state: States.For(pid, StartTicks(pid))).Report;

        public ThreadStateCache Threads(int pid) => States.For(pid, StartTicks(pid)).Threads;

        public void Dispose() => _inspector.Dispose();
    }

    private static string Compile()
    {
        string directory = Directory.CreateTempSubdirectory("threads-").FullName;
        string source = Path.Combine(directory, "threads.c");
        string binary = Path.Combine(directory, "threads");
        File.WriteAllText(source, Source);
        using Process gcc = Process.Start(new ProcessStartInfo("gcc", ["-O2", "-pthread", "-o", binary, source]) { RedirectStandardError = true })!;
        string errors = gcc.StandardError.ReadToEnd();
        gcc.WaitForExit();
        return gcc.ExitCode == 0 ? binary : throw new InvalidOperationException("gcc failed: " + errors);
    }

    private sealed class ThreadProgram : IDisposable
    {
        private readonly Process _process;

        private ThreadProgram(Process process) => _process = process;

        public int Pid => _process.Id;

        public static ThreadProgram Start()
        {
            var program = new ThreadProgram(Process.Start(new ProcessStartInfo(Binary.Value) { RedirectStandardInput = true, RedirectStandardOutput = true })!);
            program.Expect("READY");
            return program;
        }

        public int StartThread(int index)
        {
            string line = Command($"start {index}", "TID ");
            int tid = int.Parse(line.AsSpan(4), CultureInfo.InvariantCulture);
            // Wait until it is blocked (in usleep), so its syscall file shows a stack pointer.
            for (int i = 0; i < 100 && File.ReadAllText($"/proc/{Pid}/task/{tid}/syscall").StartsWith("running", StringComparison.Ordinal); i++)
            {
                Thread.Sleep(10);
            }

            return tid;
        }

        public void StopThread(int index) => Command($"stop {index}", "STOPPED");

        public void Rename(int index, string name) => Command($"rename {index} {name}", "RENAMED");

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }

        private string Command(string command, string reply)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            return Expect(reply);
        }

        private string Expect(string prefix)
        {
            string? line = _process.StandardOutput.ReadLine();
            return line is not null && line.StartsWith(prefix, StringComparison.Ordinal) ? line : throw new InvalidOperationException($"expected {prefix}, got '{line}'");
        }
    }
}
