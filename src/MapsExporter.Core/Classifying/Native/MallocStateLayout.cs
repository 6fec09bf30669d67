using System.Buffers.Binary;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Where glibc keeps the fields of an arena's <c>struct malloc_state</c> (LP64: x86-64 and aarch64). Three layouts
/// cover 2.26 to 2.43: 2.26 has no <c>have_fastchunks</c> (everything after it 8 bytes lower), 2.27 to 2.42 are one
/// layout (2200 bytes, verified with gdb's <c>ptype /o</c> on Debian's 2.36), and 2.43 drops the fastbins. Which one a
/// process uses is decided by validating its arenas against each (<see cref="Validates"/>), never by a version string:
/// distributions backport malloc changes.
/// </summary>
public sealed record MallocStateLayout(
    string Name,
    int Size,
    int FastbinsOffset,
    int TopOffset,
    int BinsOffset,
    int NextOffset,
    int AttachedThreadsOffset,
    int SystemMemOffset)
{
    /// <summary>NFASTBINS on LP64; 2.43 has none.</summary>
    public const int FastbinCount = 10;

    /// <summary>NBINS: bin 1 is the unsorted bin, 2..63 small, 64..126 large; 0 and 127 are unused but still empty lists.</summary>
    public const int BinCount = 128;

    public static readonly MallocStateLayout Glibc226 = new("2.26", 2192, 8, 88, 104, 2152, 2168, 2176);
    public static readonly MallocStateLayout Glibc227To242 = new("2.27-2.42", 2200, 16, 96, 112, 2160, 2176, 2184);
    public static readonly MallocStateLayout Glibc243 = new("2.43", 2112, -1, 8, 24, 2072, 2088, 2096);

    /// <summary>The one in use almost everywhere first.</summary>
    public static readonly IReadOnlyList<MallocStateLayout> All = [Glibc227To242, Glibc243, Glibc226];

    public bool HasFastbins => FastbinsOffset >= 0;

    /// <summary><c>bin_at(av, i)</c>: a fake chunk whose fd and bk are <c>bins[2(i-1)]</c> and <c>bins[2(i-1)+1]</c>.</summary>
    public ulong BinAt(ulong state, int bin) => state + (ulong)BinsOffset + ((ulong)(bin - 1) * 16) - 16;

    public static int Mutex(ReadOnlySpan<byte> state) => BinaryPrimitives.ReadInt32LittleEndian(state);

    public ulong Top(ReadOnlySpan<byte> state) => Word(state, TopOffset);

    public ulong Next(ReadOnlySpan<byte> state) => Word(state, NextOffset);

    public ulong AttachedThreads(ReadOnlySpan<byte> state) => Word(state, AttachedThreadsOffset);

    public ulong SystemMem(ReadOnlySpan<byte> state) => Word(state, SystemMemOffset);

    public ulong Fastbin(ReadOnlySpan<byte> state, int index) => Word(state, FastbinsOffset + (index * 8));

    /// <summary>A bin's first (fd) and last (bk) chunk.</summary>
    public (ulong First, ulong Last) Bin(ReadOnlySpan<byte> state, int bin) =>
        (Word(state, BinsOffset + ((bin - 1) * 16)), Word(state, BinsOffset + ((bin - 1) * 16) + 8));

    /// <summary>
    /// Whether <paramref name="state"/>, read at <paramref name="address"/>, is an initialised arena in this layout:
    /// the lock word a lock's (0, 1 or 2), top and every non-empty bin's ends inside the arena's heaps, every empty bin
    /// pointing back at itself (the part no other layout can pass: the self-references sit at this layout's offsets).
    /// </summary>
    public bool Validates(ReadOnlySpan<byte> state, ulong address, MallocArenaBounds bounds)
    {
        if (state.Length < Size || (uint)Mutex(state) > 2 || !bounds.HoldsChunk(Top(state), 32))
        {
            return false;
        }

        for (int bin = 1; bin < BinCount; bin++)
        {
            (ulong first, ulong last) = Bin(state, bin);
            ulong self = BinAt(address, bin);
            bool empty = first == self && last == self;
            if (!empty && (first == self || last == self || !bounds.HoldsChunk(first, 32) || !bounds.HoldsChunk(last, 32)))
            {
                return false;
            }
        }

        if (HasFastbins)
        {
            for (int i = 0; i < FastbinCount; i++)
            {
                ulong head = Fastbin(state, i);
                if (head != 0 && !bounds.HoldsChunk(head, 32))
                {
                    return false;
                }
            }
        }

        return Next(state) % 8 == 0 && Next(state) != 0;
    }

    /// <summary>
    /// A main_arena glibc never allocated from (another allocator interposed malloc): as its static initialiser left
    /// it (all zero but <c>next</c> pointing at itself and one attached thread), or set up but empty, as glibc's own
    /// <c>mallopt</c>, <c>malloc_stats</c> or <c>malloc_trim</c> leave it (every bin empty, top the initial top, which
    /// is the unsorted bin itself, no system memory).
    /// </summary>
    public bool IsUnusedMain(ReadOnlySpan<byte> state, ulong address)
    {
        if (state.Length < Size || Next(state) != address || AttachedThreads(state) != 1 || SystemMem(state) != 0)
        {
            return false;
        }

        bool initialised = Top(state) == BinAt(address, 1);
        if (!initialised && Top(state) != 0)
        {
            return false;
        }

        for (int bin = 1; bin < BinCount; bin++)
        {
            (ulong first, ulong last) = Bin(state, bin);
            ulong empty = initialised ? BinAt(address, bin) : 0;
            if (first != empty || last != empty)
            {
                return false;
            }
        }

        return true;
    }

    private static ulong Word(ReadOnlySpan<byte> state, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(state[offset..]);
}
