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
/// drop (pagemap's present bit alone counts more). With a forked child holding every private page COW-shared, the
/// scan (<c>PAGEMAP_SCAN</c>) still counts exactly, and the entries' flag rule, the older kernels' method, is short
/// by those pages: its stated limit, shown to be there.
/// </summary>
public sealed class PagemapReaderTests
{
    private const ulong Present = 1UL << 63;

    [Fact]
    public void This_kernel_has_the_scan()
    {
        // Linux 6.18 here: the exact method is the one the daemon takes (older kernels fall back to entries).
        using Process self = Process.GetCurrentProcess();
        using PagemapReader reader = PagemapReader.Open(new ProcFs(), self.Id, new ulong[512]);
        reader.Count(0x400000, 0x800000, anonymousPrivate: false);
        Assert.Equal(PagemapCounting.Scan, reader.Counting);
        Assert.True(PagemapReader.ScanSupported);
    }

    [Theory]
    [InlineData(PagemapCounting.Scan)]
    [InlineData(PagemapCounting.Entries)]
    public void Every_mapping_counts_what_smaps_counts_with_the_zero_pages_left_out(PagemapCounting counting)
    {
        (long smaps, long counted, long rawPresent, List<string> differences) = CountZoo(counting, share: false);
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        Assert.Equal(smaps, counted);
        // The 8 MiB only read and the 8 MiB THP only read: the zero pages, present in pagemap, not in Rss.
        Assert.True(rawPresent - counted >= 8L * 1024 * 1024, $"present {rawPresent}, counted {counted}");
    }

    [Fact]
    public void Pages_shared_with_a_forked_child_count_exactly_through_the_scan_and_not_through_the_entries()
    {
        (long smaps, long scanned, _, List<string> scanDifferences) = CountZoo(PagemapCounting.Scan, share: true);
        Assert.True(scanDifferences.Count == 0, string.Join('\n', scanDifferences));
        Assert.Equal(smaps, scanned);

        // The flag rule drops present anonymous pages that are not exclusive: the 4 MiB written, the THP 8 MiB, ...
        (long smapsAgain, long entries, _, List<string> entryDifferences) = CountZoo(PagemapCounting.Entries, share: true);
        Assert.True(smapsAgain - entries >= 12L * 1024 * 1024, $"smaps {smapsAgain}, entries {entries}");
        Assert.NotEmpty(entryDifferences);
    }

    private static (long Smaps, long Counted, long RawPresent, List<string> Differences) CountZoo(PagemapCounting counting, bool share)
    {
        string binary = Compile();
        var info = new ProcessStartInfo(binary) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (share)
        {
            info.ArgumentList.Add("--fork");
        }

        using Process zoo = Process.Start(info)!;
        try
        {
            Assert.Equal("READY", zoo.StandardOutput.ReadLine());
            var table = new MappingTable();
            long rawPresent = 0, counted = 0, smapsTotal = 0, compared = 0;
            var differences = new List<string>();
            using (new StoppedProcess(zoo.Id))
            {
                string smaps = $"/proc/{zoo.Id}/smaps";
                SmapsParser.Parse(File.ReadAllBytes(smaps), table, smaps);
                using PagemapReader reader = PagemapReader.Open(new ProcFs(), zoo.Id, new ulong[PagemapReader.BlockEntries], counting);
                using FileStream raw = File.OpenRead($"/proc/{zoo.Id}/pagemap");
                foreach (Mapping m in table.Items)
                {
                    string? path = table.PathOf(m);
                    if (m.IsNoAccess || path == "[vsyscall]")
                    {
                        continue;
                    }

                    (long resident, long swap) = reader.Count(m.Start, m.End, m.IsAnonymousPrivateMemory);
                    if (m.ResidentBytes != resident || m.SwapBytes != swap)
                    {
                        differences.Add($"{m.Start:x}-{m.End:x} {path}: smaps {m.ResidentBytes} (swap {m.SwapBytes}), pagemap {resident} (swap {swap})");
                    }

                    compared++;
                    counted += resident;
                    smapsTotal += m.ResidentBytes;
                    rawPresent += RawPresentBytes(raw, m);
                }

                Assert.Equal(counting, reader.Counting);
            }

            Assert.True(compared > 20, $"only {compared} mappings");
            return (smapsTotal, counted, rawPresent, differences);
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
