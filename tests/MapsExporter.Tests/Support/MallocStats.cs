using System.Globalization;
using System.Text.RegularExpressions;

namespace MapsExporter.Tests.Support;

/// <summary>glibc's malloc_stats(): one "Arena N:" block per arena, the main one included, printed to the process's stderr.</summary>
public static class MallocStats
{
    /// <summary>Makes the process call malloc_stats() through gdb and counts the arenas it printed.</summary>
    public static int CountArenas(int pid, string stderrPath) => CountArenas(Call(pid, stderrPath));

    /// <summary>
    /// Makes the process call malloc_stats() through gdb, only the thread gdb stopped in running (scheduler-locking: the
    /// others stay stopped, so the figures are of one moment), and returns what it printed to its stderr file. A SIGSTOP
    /// pending on a process stopped by the caller is not passed on: it would interrupt the call.
    /// </summary>
    public static string Call(int pid, string stderrPath)
    {
        long before = new FileInfo(stderrPath).Length;
        var (code, stdout, stderr) = ToolRunner.Run("gdb", ["-p", pid.ToString(CultureInfo.InvariantCulture), "-batch", "-ex", "handle SIGSTOP nostop noprint nopass", "-ex", "set scheduler-locking on", "-ex", "call (void)malloc_stats()"], TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            throw new InvalidOperationException($"gdb failed ({code}): {stdout}{stderr}");
        }

        return ReadFrom(stderrPath, before);
    }

    public static int CountArenas(string mallocStatsText)
    {
        int count = 0;
        foreach (string line in mallocStatsText.Split('\n'))
        {
            if (line.StartsWith("Arena ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(':'))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Each "Arena N:" block's system and in-use bytes, in glibc's order (arena 0 is the main arena).</summary>
    public static List<(long System, long InUse)> Arenas(string mallocStatsText)
    {
        var arenas = new List<(long, long)>();
        string[] lines = mallocStatsText.Split('\n');
        for (int i = 0; i + 2 < lines.Length; i++)
        {
            if (lines[i].StartsWith("Arena ", StringComparison.Ordinal) && lines[i].TrimEnd().EndsWith(':'))
            {
                arenas.Add((ValueAfterEquals(lines[i + 1]), ValueAfterEquals(lines[i + 2])));
            }
        }

        return arenas;
    }

    /// <summary>
    /// malloc_info's free bytes per heap, in malloc_stats' order: fast + rest, less one per bin chunk (rest counts
    /// <c>chunksize_nomask</c>, PREV_INUSE included, and its count includes top); and its mmap total (count, size).
    /// </summary>
    public static (List<long> FreeBytes, int MmapCount, long MmapBytes) MallocInfo(string mallocInfoText)
    {
        var free = new List<long>();
        long fast = 0;
        (int, long) mmap = (0, 0);
        bool inHeap = false;
        foreach (Match m in Regex.Matches(mallocInfoText, "<heap nr=|</heap>|<total type=\"(\\w+)\" count=\"(\\d+)\" size=\"(\\d+)\"/>"))
        {
            if (m.Value.StartsWith("<heap", StringComparison.Ordinal) || m.Value == "</heap>")
            {
                inHeap = m.Value.StartsWith("<heap", StringComparison.Ordinal);
                continue;
            }

            long count = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), size = long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            switch (m.Groups[1].Value)
            {
                case "fast" when inHeap:
                    fast = size;
                    break;
                case "rest" when inHeap:
                    free.Add(fast + size - (count - 1));
                    break;
                case "mmap" when !inHeap:
                    mmap = ((int)count, size);
                    break;
            }
        }

        return (free, mmap.Item1, mmap.Item2);
    }

    private static long ValueAfterEquals(string line) => long.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim(), CultureInfo.InvariantCulture);

    private static string ReadFrom(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
