using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Core.Scanning;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// ChunkProbeCache on a real process: tests/workloads/chunks.c (compiled here with gcc) mallocs 256 KiB chunks, maps a
/// reservation right below them (they merge into one VMA, the chunks behind) and leftover VMAs with nothing behind
/// them, then changes its mappings on command. A warm inspector must classify exactly as a fresh one, with far fewer
/// reads of the process's memory, search again after the re-check period, and see a change of bounds at once.
/// </summary>
public sealed class ChunkProbeCacheTests
{
    private static readonly Lazy<string> Binary = new(Compile);

    [Fact]
    public void A_warm_inspection_classifies_as_a_fresh_one_with_far_fewer_reads()
    {
        using var program = ChunksProgram.Start(1, 2);
        using var inspector = new Scope();
        inspector.Inspect(program.Pid, exact: true);
        int cold = inspector.LastMemoryReads;
        Layout first = Layout.Of(inspector);
        Assert.Contains((program.ChainStart, program.ChunksEnd, RegionCategory.MallocMmap), first.Regions);
        Assert.Equal(program.Leftovers.Length + 1, inspector.ChunkProbes(program.Pid).Count);

        for (int i = 0; i < 3; i++)
        {
            inspector.Inspect(program.Pid, exact: true);
            Assert.Equal(Fresh(program.Pid), Layout.Of(inspector));
            // Cold: a header at every page of the leftovers and up to the chain (~960); warm: one walk of the chain.
            Assert.True(inspector.LastMemoryReads * 20 < cold, $"warm inspection read {inspector.LastMemoryReads} times, cold {cold}");
        }
    }

    [Fact]
    public void Vmas_are_searched_again_after_the_recheck_period()
    {
        using var program = ChunksProgram.Start(1, 2);
        var clock = new ManualClock();
        using var inspector = new Scope(clock);
        inspector.Inspect(program.Pid, exact: true);
        int cold = inspector.LastMemoryReads;
        clock.Advance(ChunkProbes.RecheckAfter - TimeSpan.FromSeconds(1));
        inspector.Inspect(program.Pid, exact: true);
        Assert.True(inspector.LastMemoryReads * 20 < cold, $"warm inspection read {inspector.LastMemoryReads} times, cold {cold}");

        clock.Advance(TimeSpan.FromSeconds(1));
        inspector.Inspect(program.Pid, exact: true);
        Assert.True(inspector.LastMemoryReads >= cold - 10, $"after the re-check period {inspector.LastMemoryReads} reads, cold {cold}");
        Assert.Equal(Fresh(program.Pid), Layout.Of(inspector));

        // Searched afresh: warm again for another period.
        inspector.Inspect(program.Pid, exact: true);
        Assert.True(inspector.LastMemoryReads * 20 < cold, $"warm inspection read {inspector.LastMemoryReads} times, cold {cold}");
    }

    [Theory]
    [InlineData("behind 0")] // a chunk mapped behind a leftover with nothing behind it: the leftover's end moves
    [InlineData("free 1")] // a chunk of the chain unmapped: the chain's VMA ends lower, with fewer chunks behind
    [InlineData("trim 1")] // the lower half of a leftover unmapped
    public void A_change_of_bounds_shows_at_the_next_warm_inspection(string command)
    {
        using var program = ChunksProgram.Start(1, 2);
        using var inspector = new Scope();
        inspector.Inspect(program.Pid, exact: true);
        inspector.Inspect(program.Pid, exact: true);
        Layout before = Layout.Of(inspector);

        program.Command(command);
        inspector.Inspect(program.Pid, exact: true);
        Layout after = Layout.Of(inspector);
        Assert.Equal(Fresh(program.Pid), after);
        Assert.NotEqual(before, after);
        if (command == "behind 0")
        {
            Assert.Contains((program.Leftovers[0].End, program.Leftovers[0].End + ChunksProgram.ChunkSpan, RegionCategory.MallocMmap), after.Regions);
            Assert.Equal(before.MallocMmapChunks + 1, after.MallocMmapChunks);
        }
    }

    [Fact]
    public void Skipped_vmas_spend_the_probe_budget_as_searched_ones_do()
    {
        // Two 8 MiB leftovers below the chain's VMA take 4032 of the 4096 probes: the search stops 64 pages into the
        // reservation, before the chain (256 pages in), with or without the cache.
        using var program = ChunksProgram.Start(8, 8);
        Layout fresh = Fresh(program.Pid);
        Assert.DoesNotContain(fresh.Regions, r => r.Category == RegionCategory.MallocMmap && r.End == program.ChunksEnd);

        using var inspector = new Scope();
        inspector.Inspect(program.Pid, exact: true);
        int cold = inspector.LastMemoryReads;
        for (int i = 0; i < 2; i++)
        {
            inspector.Inspect(program.Pid, exact: true);
            Assert.Equal(fresh, Layout.Of(inspector));
        }

        // The chain's VMA, searched only part-way, is searched (as far) again each time; the leftovers are not.
        Assert.True(inspector.LastMemoryReads * 20 < cold, $"warm inspection read {inspector.LastMemoryReads} times, cold {cold}");

        // A leftover halved leaves budget enough to reach the chain: a search cut short was not remembered as fruitless.
        program.Command("trim 0");
        inspector.Inspect(program.Pid, exact: true);
        Layout after = Layout.Of(inspector);
        Assert.Equal(Fresh(program.Pid), after);
        Assert.Contains((program.ChainStart, program.ChunksEnd, RegionCategory.MallocMmap), after.Regions);
    }

    [Fact]
    public void Processes_missing_from_a_scan_s_listing_and_text_inspections_keep_nothing()
    {
        using var program = ChunksProgram.Start(1);
        using var inspector = new Scope();
        inspector.Inspect(program.Pid, exact: false);
        Assert.Equal(0, inspector.ChunkProbes(program.Pid).Count);

        inspector.Inspect(program.Pid, exact: true);
        Assert.Equal(2, inspector.ChunkProbes(program.Pid).Count);
        inspector.States.Retain(new HashSet<(int, ulong)> { (program.Pid, Scope.StartTicks(program.Pid)) });
        Assert.Equal(1, inspector.States.Count);
        inspector.States.Retain(new HashSet<(int, ulong)>());
        Assert.Equal(0, inspector.States.Count);
    }

    private static Layout Fresh(int pid)
    {
        using var fresh = new Scope();
        fresh.Inspect(pid, exact: true);
        return Layout.Of(fresh);
    }

    private static string Compile()
    {
        string directory = Directory.CreateTempSubdirectory("chunks-").FullName;
        string binary = Path.Combine(directory, "chunks");
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-Wall", "-Werror", "-o", binary, Path.Combine(RepoPaths.Workloads, "chunks.c")]);
        return code == 0 ? binary : throw new InvalidOperationException($"gcc failed: {stdout}{stderr}");
    }

    /// <summary>Every mapping's bounds and category, and the chunk count: what a cache must not change.</summary>
    private sealed record Layout(IReadOnlyList<(ulong Start, ulong End, RegionCategory Category)> Regions, int MallocMmapChunks)
    {
        public static Layout Of(Scope inspector)
        {
            InspectionResult last = inspector.LastResult!;
            var regions = new List<(ulong, ulong, RegionCategory)>();
            ReadOnlySpan<Mapping> items = last.Regions!.Items;
            for (int i = 0; i < items.Length; i++)
            {
                regions.Add((items[i].Start, items[i].End, last.Regions.CategoryOf(i)));
            }

            return new Layout(regions, last.Report.MallocMmapChunks);
        }

        public bool Equals(Layout? other) => other is not null && Regions.SequenceEqual(other.Regions) && MallocMmapChunks == other.MallocMmapChunks;

        public override int GetHashCode() => MallocMmapChunks;

        public override string ToString() => $"{MallocMmapChunks} chunks; " + string.Join(", ", Regions.Select(r => $"{r.Start:x}-{r.End:x} {r.Category}"));
    }

    /// <summary>An inspector and the process states a scan would keep, to inspect the same processes again and again.</summary>
    private sealed class Scope(TimeProvider? time = null) : IDisposable
    {
        private readonly ProcessInspector _inspector = new(new ProcFs(), time);

        public ProcessStates States { get; } = new(time);

        public InspectionResult? LastResult { get; private set; }

        public int LastMemoryReads => LastResult?.MemoryReads ?? 0;

        public static ulong StartTicks(int pid) => ProcStatParser.ParseStartTimeTicks(File.ReadAllBytes($"/proc/{pid}/stat"), "stat");

        public void Inspect(int pid, bool exact = true) =>
            LastResult = _inspector.Inspect(pid, exact: exact, state: States.For(pid, StartTicks(pid)), keepRegions: true);

        public ChunkProbes ChunkProbes(int pid) => States.For(pid, StartTicks(pid)).ChunkProbes;

        public void Dispose() => _inspector.Dispose();
    }

    /// <summary>A clock the test moves.</summary>
    private sealed class ChunksProgram : IDisposable
    {
        /// <summary>What one 256 KiB malloc maps: the request, its 16-byte header, rounded up to pages.</summary>
        public const ulong ChunkSpan = 65 * 4096;

        private readonly Process _process;

        private ChunksProgram(Process process) => _process = process;

        public int Pid => _process.Id;

        /// <summary>The reservation's start: the VMA holding it and the chunks behind it starts here.</summary>
        public ulong ReservationStart { get; private set; }

        /// <summary>Where the chunks start, 1 MiB into the VMA.</summary>
        public ulong ChainStart => ReservationStart + (1024 * 1024);

        public ulong ChunksEnd { get; private set; }

        public (ulong Start, ulong End)[] Leftovers { get; private set; } = [];

        public static ChunksProgram Start(params int[] leftoverMiB)
        {
            var info = new ProcessStartInfo(Binary.Value) { RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (int size in leftoverMiB)
            {
                info.ArgumentList.Add(size.ToString(CultureInfo.InvariantCulture));
            }

            var program = new ChunksProgram(Process.Start(info)!);
            var leftovers = new List<(ulong, ulong)>();
            for (string? line = program.ReadLine(); line != "READY"; line = program.ReadLine())
            {
                string[] words = line?.Split(' ') ?? throw new InvalidOperationException("chunks exited before READY");
                (ulong start, ulong end) = ParseRange(words[^1]);
                if (words[0] == "CHUNKS")
                {
                    (program.ReservationStart, program.ChunksEnd) = (start, end);
                }
                else
                {
                    leftovers.Add((start, end));
                }
            }

            program.Leftovers = [.. leftovers];
            // The premise: the reservation and the chunks are one VMA (the kernel merged them).
            string maps = File.ReadAllText($"/proc/{program.Pid}/maps");
            Assert.Contains($"{program.ReservationStart:x}-{program.ChunksEnd:x} rw-p ", maps, StringComparison.Ordinal);
            return program;
        }

        public void Command(string command)
        {
            _process.StandardInput.WriteLine(command);
            _process.StandardInput.Flush();
            string? reply = ReadLine();
            if (reply is null || !reply.StartsWith("OK", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{command}: {reply}");
            }
        }

        public void Dispose()
        {
            _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
        }

        private string? ReadLine()
        {
            Task<string?> read = _process.StandardOutput.ReadLineAsync();
            return read.Wait(TimeSpan.FromSeconds(30)) ? read.Result : null;
        }

        private static (ulong, ulong) ParseRange(string range)
        {
            int dash = range.IndexOf('-', StringComparison.Ordinal);
            return (ulong.Parse(range.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(range.AsSpan(dash + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
    }
}
