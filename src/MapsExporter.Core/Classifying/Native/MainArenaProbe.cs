using System.Buffers;
using System.Buffers.Binary;
using MapsExporter.Core.Parsing.Maps;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Whether glibc's main arena was ever set up: the least <see cref="AllocatorDetector"/> needs (the malloc_state
/// reader of issue 14 reads far more; the two are to be merged). main_arena is a static in libc's .data initialised
/// as <c>{ .mutex = 0, .next = &amp;main_arena, .attached_threads = 1 }</c>: until glibc's malloc first runs every
/// other field is zero. In every layout from 2.26 to 2.43, next is followed by next_free, attached_threads and
/// system_mem, and next is the last pointer after the bins, 0x818 (2.43, no fastbins) to 0x870 bytes in. So a word of
/// libc's writable data that points that far back to itself is main_arena's next while it is alone in its ring:
/// uninitialised if everything before it and system_mem are zero, initialised if system_mem is not. Thread arenas
/// (found from their heap headers) mean glibc's malloc ran; the ring then leaves main_arena, and this is not needed.
/// </summary>
public static class MainArenaProbe
{
    private static readonly ulong[] NextOffsets = [0x870, 0x868, 0x818];
    private const int MaxDataBytes = 64 * 1024;

    /// <summary>true or false when it could tell; null without libc.so.6, memory, or a main_arena found.</summary>
    public static bool? IsInitialised(MappingTable table, Classification result, IProcessMemory? memory)
    {
        if (result.LibcArenas > 0)
        {
            return true;
        }

        if (memory is null)
        {
            return null;
        }

        ReadOnlySpan<Mapping> items = table.Items;
        for (int i = 0; i < items.Length; i++)
        {
            ref readonly Mapping m = ref items[i];
            if (m.Kind != MappingKind.File || !m.IsPrivateReadWrite || m.Size > MaxDataBytes
                || !FileMappingClassifier.BaseName(FileMappingClassifier.StripDeleted(table.PathOf(m))).SequenceEqual("libc.so.6"))
            {
                continue;
            }

            // The .data mapping and the .bss right after it: main_arena may straddle their boundary.
            ulong end = i + 1 < items.Length && items[i + 1].Start == m.End && AnonymousRun.IsAnonymousPrivate(items[i + 1])
                ? Math.Min(items[i + 1].End, m.End + SystemPage.Size) : m.End;
            byte[] data = ArrayPool<byte>.Shared.Rent((int)(end - m.Start));
            try
            {
                Span<byte> span = data.AsSpan(0, (int)(end - m.Start));
                if (!memory.TryRead(m.Start, span))
                {
                    return null;
                }

                if (Find(span, m.Start) is { } found)
                {
                    return found;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(data);
            }
        }

        return null;
    }

    private static bool? Find(ReadOnlySpan<byte> data, ulong start)
    {
        foreach (ulong offset in NextOffsets)
        {
            for (int at = (int)offset; at + 32 <= data.Length; at += 8)
            {
                ulong self = start + (ulong)at - offset;
                if (BinaryPrimitives.ReadUInt64LittleEndian(data[at..]) != self)
                {
                    continue;
                }

                ulong systemMem = BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 24)..]);
                ulong attached = BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 16)..]);
                ReadOnlySpan<byte> before = data[(at - (int)offset)..at];
                if (systemMem == 0 && attached == 1 && before.IndexOfAnyExcept((byte)0) < 0)
                {
                    return false;
                }

                if (systemMem != 0 && systemMem % SystemPage.Size == 0)
                {
                    return true;
                }
            }
        }

        return null;
    }
}
