using System.Buffers.Text;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>One thread: its id, a folded name for grouping, and its stack pointer when it was blocked in a syscall.</summary>
public readonly record struct ThreadSample(int Tid, string Group, ulong StackPointer)
{
    public bool HasStackPointer => StackPointer != 0;
}

/// <summary>
/// A thread's <c>/proc/PID/task/TID/syscall</c> (<c>nr a0..a5 sp pc</c>, or <c>running</c>; it needs ptrace-attach
/// permission). <see cref="ThreadStateCache"/> reads it, and <c>comm</c> for the name.
/// </summary>
public static class ThreadSampler
{
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
