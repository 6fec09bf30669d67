using System.Buffers.Text;
using System.Globalization;

namespace MapsExporter.Core;

/// <summary>One thread: its id, a folded name for grouping, and its stack pointer when it was blocked in a syscall.</summary>
public readonly record struct ThreadSample(int Tid, string Group, ulong StackPointer)
{
    public bool HasStackPointer => StackPointer != 0;
}

/// <summary>
/// Reads every thread of a process from <c>/proc/PID/task</c>: <c>comm</c> for the name and <c>syscall</c> for
/// the stack pointer (<c>nr a0..a5 sp pc</c>, or <c>running</c>); syscall needs ptrace-attach permission.
/// </summary>
public static class ThreadSampler
{
    public static List<ThreadSample> Sample(ProcFs procFs, int pid, ProcFileReader reader)
    {
        var threads = new List<ThreadSample>();
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories(procFs.PidPath(pid, "task"));
        }
        catch (DirectoryNotFoundException)
        {
            return threads;
        }

        foreach (string task in tasks)
        {
            if (!int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out int tid))
            {
                continue;
            }

            try
            {
                string group = ThreadGroupName.Fold(reader.ReadAll($"{task}/comm").TrimEnd((byte)'\n'));
                ulong sp = 0;
                try
                {
                    sp = ParseStackPointer(reader.ReadAll($"{task}/syscall"));
                }
                catch (UnauthorizedAccessException)
                {
                    // No ptrace-attach permission: no stack pointer; the classifier falls back and counts it.
                }

                threads.Add(new ThreadSample(tid, group, sp));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
            {
                // The thread exited while we listed them.
            }
        }

        return threads;
    }

    /// <summary>The second-to-last field of <c>syscall</c>; 0 when the thread was running (no stack pointer shown).</summary>
    public static ulong ParseStackPointer(ReadOnlySpan<byte> syscall)
    {
        syscall = syscall.TrimEnd((byte)'\n').TrimEnd((byte)' ');
        int last = syscall.LastIndexOf((byte)' ');
        if (last <= 0)
        {
            return 0;
        }

        ReadOnlySpan<byte> rest = syscall[..last];
        ReadOnlySpan<byte> sp = rest[(rest.LastIndexOf((byte)' ') + 1)..];
        if (sp.StartsWith("0x"u8))
        {
            sp = sp[2..];
        }

        return Utf8Parser.TryParse(sp, out ulong value, out int consumed, 'x') && consumed == sp.Length ? value : 0;
    }
}
