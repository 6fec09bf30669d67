using System.Diagnostics;
using System.Globalization;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Parsing.Smaps;
using MapsExporter.Core.Proc;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// <see cref="PagemapReader"/> against smaps on a stopped native program holding one mapping of each kind
/// (tests/workloads/pagezoo.c): anonymous memory written and only read (the shared zero page), THP-madvised memory
/// only read (the huge zero page) and written, shmem, a file mapped private (page cache and COW copies), a memfd
/// mapped twice. Every VMA's count must equal smaps' Rss to the byte, and the zero pages must have been there to
/// drop (pagemap's present bit alone counts more).
/// </summary>
public sealed class PagemapReaderTests
{
    private const ulong Present = 1UL << 63;

    [Fact]
    public void Every_mapping_counts_what_smaps_counts_with_the_zero_pages_left_out()
    {
        string binary = Compile();
        var info = new ProcessStartInfo(binary) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        using Process zoo = Process.Start(info)!;
        try
        {
            Assert.Equal("READY", zoo.StandardOutput.ReadLine());
            var table = new MappingTable();
            long rawPresent = 0, counted = 0, compared = 0;
            using (new StoppedProcess(zoo.Id))
            {
                string smaps = $"/proc/{zoo.Id}/smaps";
                SmapsParser.Parse(File.ReadAllBytes(smaps), table, smaps);
                using PagemapReader reader = PagemapReader.Open(new ProcFs(), zoo.Id, new ulong[PagemapReader.BlockEntries]);
                using FileStream raw = File.OpenRead($"/proc/{zoo.Id}/pagemap");
                foreach (Mapping m in table.Items)
                {
                    string? path = table.PathOf(m);
                    if (m.IsNoAccess || path == "[vsyscall]")
                    {
                        continue;
                    }

                    (long resident, long swap) = reader.Count(m.Start, m.End, m.IsAnonymousPrivateMemory);
                    Assert.True(m.ResidentBytes == resident, $"{m.Start:x}-{m.End:x} {path}: smaps {m.ResidentBytes}, pagemap {resident}");
                    Assert.Equal(m.SwapBytes, swap);
                    compared++;
                    counted += resident;
                    rawPresent += RawPresentBytes(raw, m);
                }
            }

            Assert.True(compared > 20, $"only {compared} mappings");
            // The 8 MiB only read and the 8 MiB THP only read: the zero pages, present in pagemap, not in Rss.
            Assert.True(rawPresent - counted >= 8L * 1024 * 1024, $"present {rawPresent}, counted {counted}");
        }
        finally
        {
            zoo.StandardInput.Close();
            zoo.WaitForExit(5000);
        }
    }

    private static long RawPresentBytes(FileStream pagemap, in Mapping m)
    {
        var entry = new byte[8];
        long bytes = 0;
        for (ulong page = m.Start / 4096; page < m.End / 4096; page++)
        {
            pagemap.Position = (long)(page * 8);
            if (pagemap.Read(entry) == 8 && (BitConverter.ToUInt64(entry) & Present) != 0)
            {
                bytes += 4096;
            }
        }

        return bytes;
    }

    private static string Compile()
    {
        string output = Path.Combine(Directory.CreateTempSubdirectory("mapsexporter-pagezoo-").FullName, "pagezoo");
        var (code, stdout, stderr) = ToolRunner.Run("gcc", ["-O2", "-o", output, Path.Combine(RepoPaths.Workloads, "pagezoo.c")]);
        Assert.True(code == 0, string.Create(CultureInfo.InvariantCulture, $"gcc failed: {stdout}{stderr}"));
        return output;
    }
}
