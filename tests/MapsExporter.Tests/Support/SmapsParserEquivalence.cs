using MapsExporter.Core.Parsing;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Tests.Core;

namespace MapsExporter.Tests.Support;

/// <summary>SmapsParser against the line-at-a-time reference parser: the same mappings and paths, or the same error.</summary>
internal static class SmapsParserEquivalence
{
    public static void AssertSameOutcome(byte[] content)
    {
        var expectedPaths = new List<string>();
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
            Assert.Equal(expected[i].PathId < 0 ? null : expectedPaths[expected[i].PathId], table.PathOf(i));
        }
    }
}
