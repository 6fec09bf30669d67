using System.Buffers.Binary;
using System.Text;
using MapsExporter.Core.Cgroups;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;
using MapsExporter.Tests.Support;
using MapsExporter.Web;

namespace MapsExporter.Fuzz;

/// <summary>
/// Targets for the readers added by issues 14-19: cgroup files, glibc malloc state images, pagemap words and the
/// web config loader. Each checks what must hold on any input (no exception but the reader's own error, figures
/// within their bounds) and that one input allocates at most <see cref="AllocationLimit"/> bytes: an input that
/// breaks either throws, and AFL records it as a crash.
/// </summary>
internal static class NewReaderTargets
{
    private const long AllocationLimit = 64L << 20;

    // Files of the cgroup tree, in the order the input's NUL-separated pieces fill them.
    private static readonly string[] CgroupFiles =
    [
        "a/b/memory.max", "a/b/memory.current", "a/b/memory.stat", "a/b/memory.events", "a/memory.max",
        "memory/a/b/memory.limit_in_bytes", "memory/a/b/memory.usage_in_bytes", "memory/a/b/memory.stat", "memory/a/b/memory.oom_control", "memory/a/memory.limit_in_bytes",
    ];

    private static readonly string Scratch = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"mapsexporter-fuzz-{Environment.ProcessId}");

    private static readonly string[] Versions = ["2.26", "2.31", "2.34", "2.36", "2.43"];
    private static readonly Dictionary<string, GlibcMallocImage> Images = [];
    private static readonly ulong[] PagemapBlock = new ulong[512];

    /// <summary>/proc/PID/cgroup (the first piece) and a v2 and a v1 memory cgroup's files (the next ten), separated by NUL bytes.</summary>
    public static void Cgroup(ReadOnlySpan<byte> input)
    {
        Bounded(input, static bytes =>
        {
            string[] pieces = Encoding.UTF8.GetString(bytes).Split('\0');
            try
            {
                ProcCgroupParser.Parse(pieces[0], "fuzz");
            }
            catch (ProcParseException)
            {
            }

            Directory.CreateDirectory(Path.Combine(Scratch, "memory", "a", "b"));
            Directory.CreateDirectory(Path.Combine(Scratch, "a", "b"));
            File.WriteAllText(Path.Combine(Scratch, "cgroup.controllers"), "memory\n");
            for (int i = 0; i < CgroupFiles.Length; i++)
            {
                string file = Path.Combine(Scratch, CgroupFiles[i]);
                if (i + 1 < pieces.Length)
                {
                    File.WriteAllText(file, pieces[i + 1]);
                }
                else
                {
                    File.Delete(file); // a missing file is one of the inputs too
                }
            }

            var fs = new CgroupFs(Scratch);
            for (int mode = 0; mode < 2; mode++)
            {
                bool v1 = mode == 1;
                var problems = new List<string>();
                CgroupMemory memory = CgroupMemoryReader.Read(fs, "/a/b", v1, problems);
                Check(memory.LimitBytes is null or >= 0 && memory.UsageBytes is null or >= 0, $"negative figures: {memory}");
            }
        });
    }

    /// <summary>
    /// A glibc malloc image (GlibcMallocImage, the version chosen by the first byte) patched by the rest: records of
    /// a 4-byte offset into the image's written pages, a length byte and that many bytes. Read as a scan reads it.
    /// </summary>
    public static void Malloc(ReadOnlySpan<byte> input)
    {
        if (input.Length == 0)
        {
            return;
        }

        string version = Versions[input[0] % Versions.Length];
        if (!Images.TryGetValue(version, out GlibcMallocImage? image))
        {
            Images[version] = image = new GlibcMallocImage(version);
        }

        ulong[] pages = [.. image.Memory.WrittenPages.Order()];
        var undo = new List<(ulong Page, int Offset, byte[] Old)>();
        try
        {
            for (ReadOnlySpan<byte> rest = input[1..]; rest.Length >= 5;)
            {
                uint at = BinaryPrimitives.ReadUInt32LittleEndian(rest);
                int length = Math.Min(rest[4], rest.Length - 5);
                ulong page = pages[(at / 4096) % (uint)pages.Length];
                int offset = (int)(at % 4096);
                length = Math.Min(length, 4096 - offset);
                Span<byte> target = image.Memory.Page(page).Slice(offset, length);
                undo.Add((page, offset, target.ToArray()));
                rest.Slice(5, length).CopyTo(target);
                rest = rest[(5 + length)..];
            }

            Bounded(ReadOnlySpan<byte>.Empty, _ =>
            {
                var result = new Classification();
                RegionClassifier.Classify(GlibcMallocImage.Table(), result, new ExactSources { Memory = image.Memory, MallocLimits = new MallocReadLimits(20_000, TimeSpan.FromSeconds(2), 3) });
                foreach (ArenaInfo arena in result.Arenas)
                {
                    Check(arena.FreeBytes is null or >= 0 && arena.SystemBytes is null or >= 0 && arena.ReleasableBytes is null or >= 0, $"negative arena figures at {arena.Address:x}: system {arena.SystemBytes}, free {arena.FreeBytes}, releasable {arena.ReleasableBytes}, in use {arena.InUseBytes}, top {arena.TopBytes}");
                }
            });
        }
        finally
        {
            for (int i = undo.Count - 1; i >= 0; i--)
            {
                undo[i].Old.CopyTo(image.Memory.Page(undo[i].Page)[undo[i].Offset..]);
            }
        }
    }

    /// <summary>Pagemap words (the input from its 9th byte, as /proc/PID/pagemap) counted over a range the first 8 bytes choose.</summary>
    public static void Pagemap(ReadOnlySpan<byte> input)
    {
        if (input.Length < 8)
        {
            return;
        }

        ulong pages = (ulong)(input.Length - 8) / 8 + 600; // past the end too: a short read ends the count
        ulong first = BinaryPrimitives.ReadUInt32LittleEndian(input) % pages, count = BinaryPrimitives.ReadUInt16LittleEndian(input[4..]) % (pages - first + 1);
        bool anonymous = (input[6] & 1) != 0;
        string directory = Path.Combine(Scratch, "proc", "1");
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, "pagemap"), input[8..].ToArray());
        Bounded(ReadOnlySpan<byte>.Empty, _ =>
        {
            using PagemapReader reader = PagemapReader.Open(new ProcFs(Path.Combine(Scratch, "proc")), 1, PagemapBlock);
            (long resident, long swap) = reader.Count(first * 4096, (first + count) * 4096, anonymous);
            Check(resident >= 0 && swap >= 0 && resident + swap <= (long)count * 4096, $"{resident} resident + {swap} swapped bytes in {count} pages");
        });
    }

    /// <summary>The web config loader (YamlDotNet's parser, then the toolkit's keys): a <see cref="WebConfigException"/> is its only error.</summary>
    public static void WebConfigFile(ReadOnlySpan<byte> input)
    {
        Bounded(input, static bytes =>
        {
            try
            {
                WebConfig.Parse(Encoding.UTF8.GetString(bytes), Path.Combine(Scratch, "web.yml"));
            }
            catch (WebConfigException e)
            {
                Check(!e.Message.Contains('\n', StringComparison.Ordinal), "a message of more than one line");
            }
        });
    }

    private delegate void Body(ReadOnlySpan<byte> input);

    private static void Bounded(ReadOnlySpan<byte> input, Body body)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        body(input);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Check(allocated <= AllocationLimit + (input.Length * 64L), $"{allocated} bytes allocated for {input.Length} bytes of input");
    }

    /// <summary><paramref name="body"/> may allocate the usual limit and <paramref name="allowance"/> bytes more.</summary>
    internal static void Bounded(long allowance, Action body)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        body();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Check(allocated <= AllocationLimit + allowance, $"{allocated} bytes allocated, more than {AllocationLimit} + {allowance}");
    }

    internal static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }
}
