using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing.Smaps;

/// <summary>
/// The value of a VmFlags line as the kernel prints it (a space, then "%c%c " for each flag: " rd wr mr mw me ac ")
/// read without a loop: up to ten names gathered from two 16-byte loads into 16-bit lanes, each looked up at once.
/// Anything else (other spacing, more than ten flags, no byte table lookup: <see cref="ByteTableLookup"/>) is left to <see cref="SmapsParser.ParseVmFlags"/>,
/// whose result this equals whenever it answers.
/// </summary>
internal static class VmFlagsLineReader
{
    /// <summary>The most flags read at once: 30 bytes, two 16-byte loads that overlap by one.</summary>
    private const int MaxFlags = 10;

    // A name's two bytes as a little-endian ushort times this, top 4 bits of the low 16: a slot of its own for each
    // name kept (sd 13, hg 6, ht 5, nh 10, nr 14, lo 3, ac 8, dd 11, gd 12), found by trying multipliers.
    private const short SlotMultiplier = 313;

    /// <summary>
    /// Reads <paramref name="length"/> bytes at <paramref name="at"/>, the value after "VmFlags:"; false when they
    /// are not in the kernel's form. The caller guarantees 32 readable bytes at <paramref name="at"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryRead(ref byte text, int at, int length, out VmFlags flags)
    {
        flags = VmFlags.None;
        int count = (length - 1) / 3;
        if (!ByteTableLookup.IsSupported || length - 1 != count * 3 || count > MaxFlags || Unsafe.Add(ref text, at) != (byte)' ')
        {
            return false;
        }

        // The names start one byte in; the second load starts at the sixth name (byte 15).
        Vector128<byte> low = Vector128.LoadUnsafe(ref text, (nuint)(at + 1));
        Vector128<byte> high = Vector128.LoadUnsafe(ref text, (nuint)(at + 16));

        // A space exactly after each name and nowhere else within the value: then the names are the tokens the
        // general reader would split.
        uint spaces = Vector128.Equals(low, Vector128.Create((byte)' ')).ExtractMostSignificantBits()
            | (Vector128.Equals(high, Vector128.Create((byte)' ')).ExtractMostSignificantBits() << 15);
        uint within = (1u << (count * 3)) - 1;
        if ((spaces & within) != (SpaceAfterEachName & within))
        {
            return false;
        }

        // OR of the 16 lanes of both halves' found flags.
        Vector128<ushort> folded = Found(low, LowLaneNumbers, count) | Found(high, HighLaneNumbers, count);
        folded |= Vector128.Shuffle(folded.AsUInt64(), Vector128.Create(1UL, 0)).AsUInt16();
        folded |= Vector128.Shuffle(folded.AsUInt32(), Vector128.Create(1u, 0, 3, 2)).AsUInt16();
        flags = VmFlags.Known | (VmFlags)(ushort)(folded.GetElement(0) | folded.GetElement(1));
        return true;
    }

    /// <summary>The flags of one half's five names, a lane each (0 for a name not kept).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ushort> Found(Vector128<byte> half, Vector128<ushort> laneNumbers, int count)
    {
        // Names to 16-bit lanes; lanes past the count are cleared to 0, which is no name's value (a signed compare:
        // SSE2 has no unsigned one).
        Vector128<ushort> lanes = ByteTableLookup.Lookup(half, GatherNames).AsUInt16() & Vector128.LessThan(laneNumbers.AsInt16(), Vector128.Create((short)count)).AsUInt16();

        // Each lane's slot, its byte index in both bytes of the lane, the name and flag kept in that slot.
        Vector128<ushort> slot = (lanes * Vector128.Create((ushort)SlotMultiplier)) >>> 12;
        Vector128<byte> index = (slot | (slot << 8)).AsByte();
        Vector128<ushort> keptName = Join(ByteTableLookup.Lookup(NameLowBytes, index), ByteTableLookup.Lookup(NameHighBytes, index));
        Vector128<ushort> keptFlag = Join(ByteTableLookup.Lookup(FlagLowBytes, index), ByteTableLookup.Lookup(FlagHighBytes, index));
        return keptFlag & Vector128.Equals(keptName, lanes);
    }

    private static Vector128<ushort> Join(Vector128<byte> lowBytes, Vector128<byte> highBytes) =>
        (lowBytes.AsUInt16() & Vector128.Create((ushort)0x00ff)) | (highBytes.AsUInt16() & Vector128.Create((ushort)0xff00));

    // Bits 2, 5, 8, ... 29: the space after each of ten names.
    private const uint SpaceAfterEachName = 0b00100100100100100100100100100100;

    // In each 16-byte half: name bytes 0-1, 3-4, 6-7, 9-10, 12-13 to lanes 0-4; 0x80 clears the rest.
    private static readonly Vector128<byte> GatherNames = Vector128.Create(
        (byte)0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80);

    // Lane numbers in name order: the low half holds names 0-4, the high half 5-9; unused lanes never below a count.
    private static readonly Vector128<ushort> LowLaneNumbers = Vector128.Create((ushort)0, 1, 2, 3, 4, 99, 99, 99);
    private static readonly Vector128<ushort> HighLaneNumbers = Vector128.Create((ushort)5, 6, 7, 8, 9, 99, 99, 99);

    private static readonly Vector128<byte> NameLowBytes = Table(static name => (byte)name);
    private static readonly Vector128<byte> NameHighBytes = Table(static name => (byte)(name >> 8));
    private static readonly Vector128<byte> FlagLowBytes = Table(static name => (byte)(ushort)FlagOf(name));
    private static readonly Vector128<byte> FlagHighBytes = Table(static name => (byte)((ushort)FlagOf(name) >> 8));

    private static ReadOnlySpan<byte> KeptNames => "sdhghtnhnrloacddgd"u8;

    private static VmFlags FlagOf(ushort name) => (name & 0xff, name >> 8) switch
    {
        ('s', 'd') => VmFlags.SoftDirty,
        ('h', 'g') => VmFlags.HugePage,
        ('h', 't') => VmFlags.HugeTlb,
        ('n', 'h') => VmFlags.NoHugePage,
        ('n', 'r') => VmFlags.NoReserve,
        ('l', 'o') => VmFlags.Locked,
        ('a', 'c') => VmFlags.Accountable,
        ('d', 'd') => VmFlags.DontDump,
        ('g', 'd') => VmFlags.GrowsDown,
        _ => VmFlags.None,
    };

    /// <summary>A 16-entry byte table by slot.</summary>
    private static Vector128<byte> Table(Func<ushort, byte> part)
    {
        Span<byte> table = stackalloc byte[16];
        for (int i = 0; i < KeptNames.Length; i += 2)
        {
            ushort name = MemoryMarshal.Read<ushort>(KeptNames[i..]);
            int slot = (ushort)(name * SlotMultiplier) >> 12;
            table[slot] = part(name);
        }

        return Vector128.Create<byte>(table);
    }
}
