using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The malloc_state reader on memory laid out as each supported glibc lays it out (<see cref="GlibcMallocImage"/>), and on
/// that memory torn, cyclic, mutated and random: exact figures on the first, and on the rest no crash, no hang, reads
/// within the budget, and every arena that could not be read counted as a malloc_state fallback.
/// </summary>
public sealed class MallocStateReaderTests
{
    private static readonly MallocReadLimits Limits = new(20_000, TimeSpan.FromSeconds(30), 3);

    /// <summary>Reads beyond the chunk budget: heap_info probes, libc's data, mp_, and per attempt two states and a top.</summary>
    private const long FixedReads = 200;

    [Theory]
    [InlineData("2.26")] // no have_fastchunks: everything 8 bytes lower
    [InlineData("2.31")] // 2.27 layout, fastbins not safe-linked, heap_info of 32 bytes
    [InlineData("2.34")] // safe-linked fastbins
    [InlineData("2.36")] // heap_info of 48 bytes, mp_ with THP fields
    [InlineData("2.43")] // no fastbins, malloc_state of 2112 bytes
    public void Each_layout_reads_exactly(string version)
    {
        var image = new GlibcMallocImage(version);
        Classification result = Classify(image);

        Assert.DoesNotContain(DecisionMethod.MallocState, result.Fallbacks);
        Assert.Equal(image.Expected.Count, result.Arenas.Count);
        for (int i = 0; i < image.Expected.Count; i++)
        {
            var (address, system, free, releasable) = image.Expected[i];
            ArenaInfo arena = result.Arenas[i];
            Assert.Equal(address, arena.Address);
            Assert.Equal(i == 0, arena.Main);
            Assert.Equal(system, arena.SystemBytes);
            Assert.Equal(free, arena.FreeBytes);
            Assert.Equal(system - free, arena.InUseBytes);
            Assert.Equal(releasable, arena.ReleasableBytes);
        }

        Assert.Equal(2, result.Arenas.Count(a => a.Heaps > 0));
        Assert.Equal(3, result.Arenas.Sum(a => a.Heaps));
        MallocSummary malloc = result.Malloc!;
        Assert.Equal("glibc", malloc.Allocator);
        Assert.Equal(GlibcMallocImage.MmappedChunks, malloc.MmappedChunks);
        Assert.Equal(GlibcMallocImage.MmappedBytes, malloc.MmappedBytes);
        Assert.Equal(image.Expected.Sum(e => e.Free), malloc.FreeBytes);
    }

    [Theory]
    [InlineData(0xF000000000000000UL)] // found by the malloc fuzz target: published as negative system and in-use bytes
    [InlineData(0x1000UL)] // less than the arena's free chunks
    public void An_impossible_system_mem_is_a_fallback_never_a_negative_figure(ulong systemMem)
    {
        var image = new GlibcMallocImage("2.36");
        image.Memory.WriteWord(GlibcMallocImage.MainArena + (ulong)MallocStateLayout.Glibc227To242.SystemMemOffset, systemMem);
        Classification result = Classify(image);

        Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        Assert.All(result.Arenas, a => Assert.True(a.SystemBytes is null or >= 0 && a.InUseBytes is null or >= 0, $"{a}"));
        Assert.Null(result.Arenas[0].FreeBytes);
    }

    [Fact]
    public void A_held_lock_is_retried_then_counted_keeping_system_bytes_and_top()
    {
        var image = new GlibcMallocImage("2.36");
        ulong held = image.Expected[2].Address;
        image.Memory.WriteInt(held, 1);
        Classification result = Classify(image);

        Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        ArenaInfo arena = result.Arenas.Single(a => a.Address == held);
        Assert.Equal(image.Expected[2].System, arena.SystemBytes);
        Assert.NotNull(arena.TopBytes);
        Assert.Null(arena.FreeBytes);
        Assert.Null(arena.InUseBytes);
        Assert.Equal(image.Expected[0].Free, result.Arenas[0].FreeBytes);
        Assert.Null(result.Malloc!.FreeBytes);
        Assert.Equal(image.Expected.Sum(e => e.System), result.Malloc.SystemBytes);
    }

    [Fact]
    public void A_state_that_changes_during_every_walk_is_read_a_bounded_number_of_times()
    {
        var image = new GlibcMallocImage("2.36");
        ulong torn = image.Expected[1].Address;
        int stateReads = 0;
        // Every read of the arena's state sees another last_remainder, as if the process mallocs meanwhile.
        image.Memory.BeforeRead = (memory, address) =>
        {
            if (address == torn)
            {
                memory.WriteWord(torn + (ulong)MallocStateLayout.Glibc227To242.TopOffset + 8, (ulong)++stateReads);
            }
        };
        Classification result = Classify(image);

        Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        Assert.Null(result.Arenas.Single(a => a.Address == torn).FreeBytes);
        Assert.Equal(image.Expected[1].System, result.Arenas.Single(a => a.Address == torn).SystemBytes);
        // The layout and ring read, then two reads per attempt.
        Assert.InRange(stateReads, Limits.Attempts, 1 + (2 * Limits.Attempts));
        Assert.Equal(image.Expected[2].Free, result.Arenas.Single(a => a.Address == image.Expected[2].Address).FreeBytes);
    }

    [Fact]
    public void A_cycle_in_a_bin_ends_the_walk_as_a_fallback()
    {
        var image = new GlibcMallocImage("2.36");
        ulong state = image.Expected[0].Address;
        var layout = MallocStateLayout.Glibc227To242;
        // The unsorted bin's last chunk points back (bk) to itself.
        int bin = Enumerable.Range(1, 126).First(b => image.Memory.ReadWord(state + (ulong)layout.BinsOffset + ((ulong)(b - 1) * 16) + 8) != layout.BinAt(state, b));
        ulong last = image.Memory.ReadWord(state + (ulong)layout.BinsOffset + ((ulong)(bin - 1) * 16) + 8);
        image.Memory.WriteWord(last + 24, last);
        Classification result = Classify(image);

        Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        Assert.Null(result.Arenas[0].FreeBytes);
        Assert.Equal(image.Expected[0].System, result.Arenas[0].SystemBytes);
    }

    [Fact]
    public void A_walk_over_its_chunk_budget_stops_and_is_counted()
    {
        var image = new GlibcMallocImage("2.36");
        Classification result = Classify(image, new MallocReadLimits(10, TimeSpan.FromSeconds(30), 3));

        Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        Assert.All(result.Arenas, a => Assert.Null(a.FreeBytes));
        Assert.All(result.Arenas, a => Assert.NotNull(a.SystemBytes));
        Assert.True(image.Memory.Reads <= 10 + FixedReads, $"{image.Memory.Reads} reads");
    }

    [Theory]
    [InlineData("2.26")]
    [InlineData("2.34")]
    [InlineData("2.36")]
    [InlineData("2.43")]
    public void Mutated_images_never_crash_stay_within_budget_and_count_what_they_could_not_read(string version)
    {
        var random = new Random(14);
        for (int iteration = 0; iteration < 150; iteration++)
        {
            var image = new GlibcMallocImage(version);
            ulong[] pages = [.. image.Memory.WrittenPages];
            for (int m = random.Next(1, 40); m > 0; m--)
            {
                // Mostly words that matter (headers, links, the states), sometimes any byte.
                ulong page = pages[random.Next(pages.Length)];
                image.Memory.Page(page)[random.Next(4096)] = (byte)random.Next(256);
            }

            CheckHonest(image);
        }
    }

    [Theory]
    [InlineData("2.27-2.42")]
    [InlineData("2.43")]
    public void Random_memory_never_crashes_and_stays_within_budget(string layoutName)
    {
        var random = new Random(43);
        for (int iteration = 0; iteration < 100; iteration++)
        {
            var image = new GlibcMallocImage(layoutName == "2.43" ? "2.43" : "2.36");
            foreach (ulong page in image.Memory.WrittenPages.ToArray())
            {
                // Keep heap_info headers (so arenas are found) on odd iterations; random everywhere else.
                if (iteration % 2 == 1 && page % ArenaDetector.HeapSize == 0)
                {
                    random.NextBytes(image.Memory.Page(page)[0x900..]);
                    continue;
                }

                random.NextBytes(image.Memory.Page(page));
            }

            CheckHonest(image);
        }
    }

    private static void CheckHonest(GlibcMallocImage image)
    {
        Classification result = Classify(image);
        Assert.True(image.Memory.Reads <= Limits.MaxChunks + FixedReads, $"{image.Memory.Reads} reads");
        if (result.Arenas.Any(a => a.FreeBytes is null))
        {
            Assert.Contains(DecisionMethod.MallocState, result.Fallbacks);
        }

        foreach (ArenaInfo arena in result.Arenas.Where(a => a.FreeBytes is not null))
        {
            Assert.Equal(arena.SystemBytes - arena.FreeBytes, arena.InUseBytes);
            Assert.NotNull(arena.ReleasableBytes);
        }
    }

    private static Classification Classify(GlibcMallocImage image, MallocReadLimits? limits = null)
    {
        var table = GlibcMallocImage.Table();
        var result = new Classification();
        RegionClassifier.Classify(table, result, new ExactSources { Memory = image.Memory, MallocLimits = limits ?? Limits });
        return result;
    }
}
