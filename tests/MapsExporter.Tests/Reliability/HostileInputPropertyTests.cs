using System.Text;
using CsCheck;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.HotSpot;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Dumps;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Reporting;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// Property tests over real captures, mutated: byte flips, truncations, duplicated lines, splices of two captures,
/// and random bytes. The dump reader and the report writers must either produce a report or throw
/// <see cref="ProcParseException"/>; nothing else escapes, and what they allocate and write is bounded by the
/// input's size. CsCheck's iteration counts bound the time (no timing asserts): a hang would stall the run.
/// </summary>
public sealed class HostileInputPropertyTests
{
    private static readonly byte[][] Captures =
    [
        .. new[] { "jdk17-g1-xmx512m-t20", "jdk25-zgc-xmx512m-t10", "jdk17-shenandoah-xmx512m-t10", "native-arenas-7" }
            .SelectMany(f => new[] { "maps", "smaps" }.Select(file => File.ReadAllBytes(RepoPaths.Fixture(f, file)))),
    ];

    private static readonly Gen<byte[]> Capture = Gen.Int[0, Captures.Length - 1].Select(i => Captures[i]);

    private static readonly Gen<byte[]> Flipped = Gen.Select(Capture, Gen.Int[1, 64], Gen.Int, (c, n, seed) =>
    {
        byte[] copy = (byte[])c.Clone();
        var random = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            copy[random.Next(copy.Length)] = (byte)random.Next(256);
        }

        return copy;
    });

    private static readonly Gen<byte[]> Truncated = Gen.Select(Capture, Gen.Double[0, 1], (c, f) => c[..(int)(c.Length * f)]);

    private static readonly Gen<byte[]> Duplicated = Gen.Select(Capture, Gen.Int, Gen.Int[1, 50], (c, seed, times) =>
    {
        string[] lines = Encoding.Latin1.GetString(c).Split('\n');
        int at = new Random(seed).Next(lines.Length);
        return Encoding.Latin1.GetBytes(string.Join('\n', lines.Take(at).Concat(Enumerable.Repeat(lines[at], times)).Concat(lines.Skip(at))));
    });

    private static readonly Gen<byte[]> Spliced = Gen.Select(Capture, Capture, Gen.Double[0, 1], Gen.Double[0, 1],
        (a, b, fa, fb) => (byte[])[.. a.AsSpan(0, (int)(a.Length * fa)), .. b.AsSpan((int)(b.Length * fb))]);

    private static readonly Gen<byte[]> RandomBytes = Gen.Byte.Array[0, 4096];

    /// <summary>Text that looks like maps lines but with random field values, to get past the format detector.</summary>
    private static readonly Gen<byte[]> MapsLike = Gen.Select(Gen.ULong, Gen.ULong, Gen.String["rwxps-"], Gen.String, (s, e, p, path) =>
        Encoding.UTF8.GetBytes($"{s:x}-{e:x} {p} 00000000 00:00 0 {path}\n")).Array[1, 50].Select(lines => lines.SelectMany(l => l).ToArray());

    [Fact]
    public void Byte_flips_throw_only_parse_errors_with_bounded_output() => Check(Flipped, 300);

    [Fact]
    public void Truncations_throw_only_parse_errors_with_bounded_output() => Check(Truncated, 300);

    [Fact]
    public void Duplicated_lines_throw_only_parse_errors_with_bounded_output() => Check(Duplicated, 200);

    [Fact]
    public void Splices_of_two_captures_throw_only_parse_errors_with_bounded_output() => Check(Spliced, 300);

    [Fact]
    public void Random_bytes_and_random_maps_lines_throw_only_parse_errors() => Check(Gen.OneOf(RandomBytes, MapsLike), 2000);

    [Fact]
    public void Hsperfdata_and_stat_parsers_survive_mutations()
    {
        byte[] stat = Encoding.ASCII.GetBytes("4242 (evil) (name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 100\n");
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 200], Gen.Int, (noise, cut, seed) =>
        {
            byte[] copy = [.. stat];
            var random = new Random(seed);
            copy[random.Next(copy.Length)] = noise.Length > 0 ? noise[0] : (byte)')';
            return random.Next(2) == 0 ? copy[..Math.Min(cut, copy.Length)] : (byte[])[.. copy, .. noise];
        }).Sample(input =>
        {
            ExpectOnlyParseErrors(() => ProcStatParser.ParseStartTimeTicks(input, "stat"));
            ExpectOnlyParseErrors(() => ProcStatParser.ParseBootTime(input, "stat"));
        }, iter: 2000);

        // hsperfdata: random bytes behind a valid magic and header, and flips inside a plausible header.
        Gen.Byte.Array[0, 2048].Sample(input =>
        {
            byte[] withMagic = [0xca, 0xfe, 0xc0, 0xc0, 1, 2, 0, 0, .. input];
            _ = HsPerfData.Parse(withMagic);
            _ = HsPerfData.Parse(input);
        }, iter: 3000);
    }

    private static void Check(Gen<byte[]> inputs, int iterations) => inputs.Sample(input =>
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var table = new MappingTable();
        var classification = new Classification();
        MemoryReport report;
        try
        {
            report = DumpReader.Report(input, "mutated", table, classification);
        }
        catch (ProcParseException)
        {
            return;
        }

        using var text = new StringWriter();
        TextReportWriter.Write(text, report, ClassifiedRegions.Capture(table, classification));
        using var json = new MemoryStream();
        JsonReportWriter.Write(json, [report]);
        string csv = CsvReportWriter.Row(report);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Bounded by the input: each report is a summary of its lines, never a function of their values.
        long bound = (64L * input.Length) + (8L << 20);
        Assert.True(allocated < bound, $"allocated {allocated} bytes for {input.Length} bytes of input");
        Assert.True(text.GetStringBuilder().Length + json.Length + csv.Length < (4L * input.Length) + (1L << 20), $"wrote {text.GetStringBuilder().Length + json.Length} for {input.Length}");
    }, iter: iterations);

    private static void ExpectOnlyParseErrors(Action action)
    {
        try
        {
            action();
        }
        catch (ProcParseException)
        {
        }
    }
}

/// <summary>Inputs fuzzing found; each once escaped as something other than <see cref="ProcParseException"/>.</summary>
public sealed class FuzzRegressionTests
{
    [Theory]
    // AFL++ (fuzz/run.sh dump): a Pss of 3.3e16 kB overflowed kb * 1024 (OverflowException from SmapsParser).
    [InlineData("00010000-00011000 rw-p 00000000 00:00 0\nRss:   4 kB\nPss:   33333333333333330 kB\n")]
    [InlineData("00010000-00011000 rw-p 00000000 00:00 0\nSize:  9223372036854775807 kB\nRss:   4 kB\n")]
    public void Oversized_smaps_values_are_parse_errors(string smaps)
    {
        var e = Assert.Throws<ProcParseException>(() => DumpReader.Report(Encoding.ASCII.GetBytes(smaps), "crash", new MappingTable(), new Classification()));
        Assert.Contains("larger than the address space", e.Message, StringComparison.Ordinal);
    }
}
