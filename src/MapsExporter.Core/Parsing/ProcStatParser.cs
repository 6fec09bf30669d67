using System.Buffers.Text;

namespace MapsExporter.Core.Parsing;

/// <summary>What one read of <c>/proc/PID/stat</c> tells: who the process is (start time and comm) and its threads and size.</summary>
/// <param name="StartTicks">Start time in clock ticks after boot: with the PID, the process's identity (a reused PID starts later).</param>
/// <param name="Threads">num_threads: as many as <c>task/</c> lists.</param>
/// <param name="VirtualBytes">vsize: 0 once the process has let go of its memory on the way out, while its stat is still there.</param>
/// <param name="Comm">The comm, made safe for a label.</param>
public readonly record struct ProcStat(ulong StartTicks, int Threads, ulong VirtualBytes, string Comm);

/// <summary>Reads <c>/proc/PID/stat</c> and <c>/proc/stat</c>'s boot time.</summary>
public static class ProcStatParser
{
    /// <summary>USER_HZ: fixed at 100 on every Linux architecture's user-space ABI.</summary>
    public const double ClockTicksPerSecond = 100;

    /// <summary>
    /// One read of <c>/proc/PID/stat</c>: the comm (field 2, as <c>/proc/PID/comm</c> shows it, so that file need
    /// not be read too), starttime (22), num_threads (20) and vsize (23).
    /// </summary>
    public static ProcStat Parse(ReadOnlySpan<byte> stat, string source)
    {
        int open = stat.IndexOf((byte)'(');
        int close = stat.LastIndexOf((byte)')');
        if (open < 0 || close < open)
        {
            throw new ProcParseException(source, 1, "no comm field in parentheses");
        }

        (ulong start, int threads, ulong size) = ParseStartTimeThreadsAndSize(stat, source);
        return new ProcStat(start, threads, size, AppNameResolver.Sanitize(stat[(open + 1)..close]));
    }

    /// <summary>Field 22 (starttime, in clock ticks after boot). The comm in field 2 may hold spaces and ')', so parse after the last ')'.</summary>
    public static ulong ParseStartTimeTicks(ReadOnlySpan<byte> stat, string source) => Field(stat, source, 22, "starttime");

    /// <summary>
    /// Field 22 (starttime), field 20 (num_threads: the process's threads, as many as <c>task/</c> lists) and field 23
    /// (vsize: 0 once the process has let go of its memory on the way out, while its stat is still there).
    /// </summary>
    public static (ulong StartTicks, int Threads, ulong VirtualBytes) ParseStartTimeThreadsAndSize(ReadOnlySpan<byte> stat, string source) =>
        (Field(stat, source, 22, "starttime"), (int)Math.Min(Field(stat, source, 20, "num_threads"), int.MaxValue), Field(stat, source, 23, "vsize"));

    private static ulong Field(ReadOnlySpan<byte> stat, string source, int wanted, string name)
    {
        int close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            throw new ProcParseException(source, 1, "no ')' after the comm field");
        }

        ReadOnlySpan<byte> rest = stat[(close + 1)..];
        // After ')' come fields 3, 4, ...
        for (int field = 3; field <= wanted; field++)
        {
            rest = rest.TrimStart((byte)' ');
            int space = rest.IndexOf((byte)' ');
            ReadOnlySpan<byte> value = space < 0 ? rest.TrimEnd((byte)'\n') : rest[..space];
            if (field == wanted)
            {
                if (!Utf8Parser.TryParse(value, out ulong number, out int consumed) || consumed != value.Length)
                {
                    throw new ProcParseException(source, 1, $"{name} (field {wanted}) is not a number");
                }

                return number;
            }

            if (space < 0)
            {
                break;
            }

            rest = rest[space..];
        }

        throw new ProcParseException(source, 1, $"fewer than {wanted} fields");
    }

    /// <summary>The <c>btime</c> line of /proc/stat: boot time in seconds since the epoch.</summary>
    public static long ParseBootTime(ReadOnlySpan<byte> stat, string source)
    {
        foreach (ReadOnlySpan<byte> line in new LineEnumerator(stat))
        {
            if (line.StartsWith("btime "u8) && Utf8Parser.TryParse(line[6..], out long seconds, out _))
            {
                return seconds;
            }
        }

        throw new ProcParseException(source, 0, "no btime line");
    }
}
