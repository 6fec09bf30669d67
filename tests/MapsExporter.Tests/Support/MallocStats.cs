using System.Globalization;

namespace MapsExporter.Tests.Support;

/// <summary>glibc's malloc_stats(): one "Arena N:" block per arena, the main one included, printed to the process's stderr.</summary>
public static class MallocStats
{
    /// <summary>Makes the process call malloc_stats() through gdb and counts the arenas it printed.</summary>
    public static int CountArenas(int pid, string stderrPath)
    {
        long before = new FileInfo(stderrPath).Length;
        var (code, stdout, stderr) = ToolRunner.Run("gdb", ["-p", pid.ToString(CultureInfo.InvariantCulture), "-batch", "-ex", "call (void)malloc_stats()"], TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            throw new InvalidOperationException($"gdb failed ({code}): {stdout}{stderr}");
        }

        string text = ReadFrom(stderrPath, before);
        return CountArenas(text);
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

    private static string ReadFrom(string path, long offset)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
