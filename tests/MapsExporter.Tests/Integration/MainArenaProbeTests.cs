using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using MapsExporter.Core.Classifying;
using MapsExporter.Core.Classifying.Native;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;
using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Integration;

/// <summary>
/// <see cref="MainArenaProbe"/> on live single-threaded processes (no thread arenas: the probe must find main_arena in
/// libc's .data itself) against gdb's <c>print main_arena.system_mem</c>, read with glibc's symbols (libc6-dbg).
/// </summary>
public sealed partial class MainArenaProbeTests
{
    [Fact]
    public void A_glibc_process_that_malloced_has_its_main_arena_set_up()
    {
        // sleep mallocs at start (setlocale), then blocks.
        using Process sleep = Process.Start("sleep", "60");
        try
        {
            Thread.Sleep(300);
            Assert.True(SystemMem(sleep.Id) > 0);
            Assert.True(Probe(sleep.Id));
        }
        finally
        {
            sleep.Kill();
            sleep.WaitForExit();
        }
    }

    [Theory]
    [InlineData("glibc", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")]
    [InlineData("jemalloc-static", null)]
    public void A_process_whose_malloc_is_not_glibcs_never_set_its_main_arena_up(string variant, string? preload)
    {
        using AllocatorProgram program = AllocatorProgram.Start(variant, preload is null ? null : new Dictionary<string, string> { ["LD_PRELOAD"] = preload });
        Assert.Equal(0, SystemMem(program.Pid));
        Assert.False(Probe(program.Pid));
    }

    private static bool? Probe(int pid)
    {
        var table = new MappingTable();
        MapsParser.Parse(File.ReadAllBytes($"/proc/{pid}/maps"), table, "maps");
        using ProcessMemoryReader memory = ProcessMemoryReader.TryOpen(new ProcFs(), pid, out string? reason) ?? throw new InvalidOperationException(reason);
        // No arenas counted: the probe has to find main_arena itself.
        return MainArenaProbe.IsInitialised(table, new Classification(), memory);
    }

    private static long SystemMem(int pid)
    {
        var (code, stdout, stderr) = ToolRunner.Run("gdb", ["-p", pid.ToString(CultureInfo.InvariantCulture), "-batch", "-nx", "-ex", "print main_arena.system_mem"]);
        Match m = Printed().Match(stdout);
        Assert.True(code == 0 && m.Success, $"gdb: {stdout}{stderr}");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"^\$1 = (\d+)$", RegexOptions.Multiline)]
    private static partial Regex Printed();
}
