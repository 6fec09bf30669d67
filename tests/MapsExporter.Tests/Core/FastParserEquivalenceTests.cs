using System.Text;
using CsCheck;
using MapsExporter.Core;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The fast SmapsParser (64-byte line index, fields kept in locals, keys by length) gives what the line-at-a-time
/// parser it replaced gave: the same mappings on every captured smaps, and on mutated ones the same mappings or the
/// same error message, word for word and at the same line.
/// </summary>
public sealed class FastParserEquivalenceTests
{
    private static readonly string[] SmapsFixtures =
        [.. Directory.GetDirectories(RepoPaths.Fixtures).Select(d => Path.Combine(d, "smaps")).Where(File.Exists).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Fixtures() => [.. SmapsFixtures.Select(f => Path.GetFileName(Path.GetDirectoryName(f)!))];

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Every_captured_smaps_parses_to_the_same_mappings(string fixture)
    {
        byte[] content = File.ReadAllBytes(RepoPaths.Fixture(fixture, "smaps"));
        AssertSameOutcome(content);
    }

    [Fact]
    public void Generated_and_edge_inputs_give_the_same_outcome()
    {
        AssertSameOutcome(ParserTests.ManyMappingsSmaps(3000));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\nVmFlags: rd wr"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\r\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: +4 kB\nKSM: x\nabc: 1\nVmFlags:\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("\n\n7f0000000000-7f0000001000 rw-p 0 00:00 0\n\nRss:4 kB\nSize:4 kB\nSize:8 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("Rss: 4 kB\n7f0000000000-7f0000001000 rw-p 0 00:00 0\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\nBad line without colon that is longer than sixty-four bytes, to cross a block\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nA_key_longer_than_a_block_of_sixty_four_bytes_before_its_colon_.......: 1\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("7f0000000000-7f0000001000 rw-p 0 00:00 0\nRss: 4 kB\n\0"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("garbage\n\0"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("00000000000000001-2 rw-p 0 00:00 0\nRss: 4 kB\n"));
        AssertSameOutcome(Encoding.ASCII.GetBytes("0000000000000001-0000000000000002 rw-p 0 00:00 0\nRss: 4 kB\n"));
        AssertSameOutcome([]);
        AssertSameOutcome("\n"u8.ToArray());
    }

    [Fact]
    public void Mutated_captures_give_the_same_mappings_or_the_same_error()
    {
        byte[][] captures = [.. SmapsFixtures.Take(6).Select(File.ReadAllBytes)];
        Gen.Select(Gen.Int[0, captures.Length - 1], Gen.Int[0, 40], Gen.Int, Gen.Double[0, 1], (which, flips, seed, cut) =>
        {
            byte[] copy = (byte[])captures[which].Clone();
            var random = new Random(seed);
            // Flips biased to the bytes that steer the parser.
            byte[] steering = [(byte)'\n', (byte)':', (byte)' ', (byte)'-', 0, (byte)'R', (byte)'a', (byte)'x', (byte)'7', (byte)'k'];
            for (int i = 0; i < flips; i++)
            {
                copy[random.Next(copy.Length)] = random.Next(2) == 0 ? steering[random.Next(steering.Length)] : (byte)random.Next(256);
            }

            return random.Next(3) == 0 ? copy[..(int)(copy.Length * cut)] : copy;
        }).Sample(AssertSameOutcome, iter: 300);
    }

    private static void AssertSameOutcome(byte[] content)
    {
        var expectedPaths = new MappingTable();
        List<Mapping>? expected = null;
        string? expectedError = null;
        try
        {
            expected = ReferenceSmapsParser.Parse(content, expectedPaths, "s");
        }
        catch (ProcParseException e)
        {
            expectedError = e.Message;
        }

        var table = new MappingTable();
        string? error = null;
        try
        {
            SmapsParser.Parse(content, table, "s");
        }
        catch (ProcParseException e)
        {
            error = e.Message;
        }

        Assert.Equal(expectedError, error);
        if (expected is null)
        {
            return;
        }

        Assert.Equal(expected.Count, table.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], table[i]);
            Assert.Equal(expectedPaths.PathOf(expected[i]), table.PathOf(i));
        }
    }
}
