using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing.Smaps;

/// <summary>The smaps fields <see cref="SmapsParser"/> keeps; every other key is <see cref="Other"/>.</summary>
internal enum SmapsField : byte
{
    Other,
    Size,
    Rss,
    Pss,
    Swap,
    VmFlags,
}

/// <summary>
/// The fixed part of a smaps record, learned from one record of the file: the kernel prints the same fields, in the
/// same order and the same columns, for every mapping ("%-16s%8lu kB", then THPeligible and ProtectionKey as
/// "%-16s%8u"), so everything between a header and its VmFlags line is the same bytes from record to record but
/// for the 8 value columns of each line. <see cref="TryMatch"/> checks a whole record body against it with a few
/// 16-byte compares instead of finding and testing each of its ~24 lines, and reads the kept values from their
/// columns. A body that differs anywhere (a value of 9 digits, a mutated byte) does not match, and the parser reads
/// it line by line as before: a match only ever stands for what the line-by-line reading would have found.
/// </summary>
internal sealed class SmapsRecordTemplate
{
    /// <summary>Lines longer than this are not learned: the template is for the kernel's fixed-width lines.</summary>
    private const int MaxLines = 64;

    private const int ValueColumn = 16;
    private const int ValueWidth = 8;
    private const byte ValueBit = 0x20;

    // Byte i of a body matches when (byte & _mask[i]) == _expected[i]: all its bits for a fixed byte; for a value
    // column only bit 5, which no newline or NUL has (the only bytes there that would change how the line is read:
    // its key and ':' are fixed). Kept values are checked further where they are read (TryReadValue).
    private readonly byte[] _mask = new byte[MaxLines * 32];
    private readonly byte[] _expected = new byte[MaxLines * 32];
    // The value columns of every kept line, and of the last Size, Rss, Pss and Swap (-1: none), by field - 1: the
    // line-by-line reading keeps the last of a repeated key, and reads every one.
    private readonly int[] _kept = new int[MaxLines];
    private readonly int[] _lastAt = new int[4];
    private int _keptCount;

    // Each of the four there once (the kernel's layout): read four at once.
    private bool _fourOnce;

    /// <summary>Bytes from a header's newline to its VmFlags line; 0 when nothing is learned.</summary>
    public int Length { get; private set; }

    /// <summary>Lines the body holds.</summary>
    public int Lines { get; private set; }

    /// <summary>True when the body holds an Rss line.</summary>
    public bool HasRss { get; private set; }

    public void Forget() => Length = 0;

    /// <summary>The key's field, by its bytes (not including the ':').</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SmapsField FieldOf(ReadOnlySpan<byte> key) => key.Length switch
    {
        3 when key.SequenceEqual("Rss"u8) => SmapsField.Rss,
        3 when key.SequenceEqual("Pss"u8) => SmapsField.Pss,
        4 when key.SequenceEqual("Size"u8) => SmapsField.Size,
        4 when key.SequenceEqual("Swap"u8) => SmapsField.Swap,
        7 when key.SequenceEqual("VmFlags"u8) => SmapsField.VmFlags,
        _ => SmapsField.Other,
    };

    /// <summary>
    /// Learns the body that starts at <paramref name="start"/> (just after a header), if each of its lines up to the
    /// VmFlags line is a fixed-width field the parser reads the plain way: a key starting with an uppercase letter,
    /// its ':' and spaces to column 16, a value of spaces and digits in columns 16 to 23, then nothing or " kB".
    /// A kept field (Size, Rss, Pss, Swap) must end in " kB". Returns false and learns nothing otherwise.
    /// </summary>
    public bool TryLearn(ReadOnlySpan<byte> content, int start)
    {
        Length = 0;
        // 128-bit vectors: SSE2 on every x86-64 CPU, AdvSimd on every arm64 one (the release targets those baselines).
        if (!Vector128.IsHardwareAccelerated || !BitConverter.IsLittleEndian)
        {
            return false;
        }

        int at = start;
        int lines = 0;
        int kept = 0;
        _lastAt.AsSpan().Fill(-1);
        while (true)
        {
            ReadOnlySpan<byte> rest = content[at..];
            if (rest.StartsWith("VmFlags:"u8))
            {
                break;
            }

            int newline = rest.IndexOf((byte)'\n');
            if (lines == MaxLines || newline is not (ValueColumn + ValueWidth or ValueColumn + ValueWidth + 3))
            {
                return false;
            }

            ReadOnlySpan<byte> line = rest[..newline];
            int colon = line.IndexOf((byte)':');
            if ((uint)(line[0] - 'A') > 'Z' - 'A' || colon is <= 0 or >= ValueColumn || line[(colon + 1)..ValueColumn].ContainsAnyExcept((byte)' '))
            {
                return false;
            }

            ReadOnlySpan<byte> value = line.Slice(ValueColumn, ValueWidth);
            if (!TryReadValue(BinaryPrimitives.ReadUInt64LittleEndian(value), out _))
            {
                return false;
            }

            SmapsField field = FieldOf(line[..colon]);
            bool kb = line.Length == ValueColumn + ValueWidth + 3 && line.EndsWith(" kB"u8);
            if (field == SmapsField.VmFlags || (field != SmapsField.Other && !kb))
            {
                return false;
            }

            if (field != SmapsField.Other)
            {
                _kept[kept++] = at - start + ValueColumn;
                _lastAt[(int)field - 1] = at - start + ValueColumn;
            }

            int offset = at - start;
            for (int i = 0; i <= newline; i++)
            {
                bool valueColumn = i is >= ValueColumn and < ValueColumn + ValueWidth;
                _mask[offset + i] = valueColumn ? ValueBit : byte.MaxValue;
                _expected[offset + i] = valueColumn ? ValueBit : rest[i];
            }

            at += newline + 1;
            lines++;
        }

        int length = at - start;
        if (length < Vector256<byte>.Count)
        {
            return false;
        }

        Lines = lines;
        _keptCount = kept;
        _fourOnce = kept == _lastAt.Length && _lastAt.AsSpan().IndexOf(-1) < 0;
        HasRss = _lastAt[(int)SmapsField.Rss - 1] >= 0;
        Length = length;
        return true;
    }

    /// <summary>
    /// True when the body at <paramref name="start"/> matches: then the kept fields' values (in kB) are returned as
    /// the line-by-line reading would have kept them (the last of a repeated key; -1 for a Size the body lacks, 0 for
    /// the others). The caller has checked that the body lies inside the text.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryMatch(ref byte text, int start, out long sizeKb, out long rssKb, out long pssKb, out long swapKb)
    {
        sizeKb = -1;
        rssKb = pssKb = swapKb = 0;
        ref byte mask = ref MemoryMarshal.GetArrayDataReference(_mask);
        ref byte expected = ref MemoryMarshal.GetArrayDataReference(_expected);
        ref byte body = ref Unsafe.Add(ref text, start);
        nuint last = (nuint)(Length - Vector128<byte>.Count);

        // Four 16-byte blocks a turn on native-sized offsets (the loop's own instructions, sign extensions included,
        // were a third of it), the last block overlapping.
        Vector128<byte> differences = Difference(ref body, ref mask, ref expected, last);
        Vector128<byte> more = Vector128<byte>.Zero;
        nuint i = 0;
        for (; i + (4 * 16) <= last; i += 4 * 16)
        {
            differences |= Difference(ref body, ref mask, ref expected, i) | Difference(ref body, ref mask, ref expected, i + 16);
            more |= Difference(ref body, ref mask, ref expected, i + 32) | Difference(ref body, ref mask, ref expected, i + 48);
        }

        for (; i < last; i += 16)
        {
            differences |= Difference(ref body, ref mask, ref expected, i);
        }

        differences |= more;
        if (differences != Vector128<byte>.Zero)
        {
            return false;
        }

        if (_fourOnce)
        {
            return TryReadFour(ref body, out sizeKb, out rssKb, out pssKb, out swapKb);
        }

        // Every kept line must read the plain way (a repeated key's first value too), then the last of each is kept.
        for (int k = 0; k < _keptCount; k++)
        {
            if (!TryReadValue(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, _kept[k])), out _))
            {
                return false;
            }
        }

        sizeKb = LastValue(ref body, SmapsField.Size, -1);
        rssKb = LastValue(ref body, SmapsField.Rss, 0);
        pssKb = LastValue(ref body, SmapsField.Pss, 0);
        swapKb = LastValue(ref body, SmapsField.Swap, 0);
        return true;
    }

    /// <summary>The field's last value (its columns already checked), or <paramref name="absent"/>.</summary>
    private long LastValue(ref byte body, SmapsField field, long absent)
    {
        int at = _lastAt[(int)field - 1];
        if (at < 0)
        {
            return absent;
        }

        TryReadValue(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, at)), out long kb);
        return kb;
    }

    /// <summary>
    /// <see cref="TryReadValue"/> for Size, Rss, Pss and Swap at once, one 8-byte lane each of two 16-byte vectors:
    /// the same test (spaces, then digits to the last column) and the same numbers, in a fraction of the instructions.
    /// Only shifts, adds and compares, which SSE2 and AdvSimd both have, so every CPU of either baseline takes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadFour(ref byte body, out long sizeKb, out long rssKb, out long pssKb, out long swapKb)
    {
        ref int at = ref MemoryMarshal.GetArrayDataReference(_lastAt);
        Vector128<byte> sizeRss = Vector128.Create(
            Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, at)),
            Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, Unsafe.Add(ref at, 1)))).AsByte();
        Vector128<byte> pssSwap = Vector128.Create(
            Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, Unsafe.Add(ref at, 2))),
            Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref body, Unsafe.Add(ref at, 3)))).AsByte();
        if (!ArePlainValues(sizeRss) || !ArePlainValues(pssSwap))
        {
            sizeKb = rssKb = pssKb = swapKb = 0;
            return false;
        }

        Vector128<ulong> first = Values(sizeRss), second = Values(pssSwap);
        sizeKb = (long)first.GetElement(0);
        rssKb = (long)first.GetElement(1);
        pssKb = (long)second.GetElement(0);
        swapKb = (long)second.GetElement(1);
        return true;
    }

    /// <summary>
    /// Both 8-byte lanes are columns every one a digit or a space, a digit in the last column, and no space after a
    /// digit (a digit's column shifted one to the right must be a digit too).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ArePlainValues(Vector128<byte> columns)
    {
        Vector128<byte> digits = ByteRange.Digits(columns);
        Vector128<byte> spaces = Vector128.Equals(columns, Vector128.Create((byte)' '));
        Vector128<ulong> digitLanes = digits.AsUInt64();
        Vector128<ulong> digitThenSpace = Vector128.AndNot(digitLanes << 8, digitLanes);
        return (~(digits | spaces)).AsUInt64() == Vector128<ulong>.Zero && digitThenSpace == Vector128<ulong>.Zero
            && digitLanes.ExtractMostSignificantBits() == 0b11;
    }

    /// <summary>
    /// Each lane's digits (a space's low nibble is 0) to its number: pairs, fours, then eights of digits, the leftmost
    /// column (the low byte) the most significant; the products by 10, 100 and 10,000 as shifts and adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Values(Vector128<byte> columns)
    {
        Vector128<ushort> digits = (columns & Vector128.Create((byte)0x0f)).AsUInt16();
        Vector128<ushort> high = digits & Vector128.Create((ushort)0x00ff);
        Vector128<uint> pairs = ((high << 3) + (high << 1) + (digits >>> 8)).AsUInt32();
        Vector128<uint> highPairs = pairs & Vector128.Create(0x0000ffffu);
        Vector128<ulong> fours = ((highPairs << 6) + (highPairs << 5) + (highPairs << 2) + (pairs >>> 16)).AsUInt64();
        Vector128<ulong> highFours = fours & Vector128.Create(0x00000000ffffffffUL);
        return (highFours << 13) + (highFours << 10) + (highFours << 9) + (highFours << 8) + (highFours << 4) + (fours >>> 32);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Difference(ref byte body, ref byte mask, ref byte expected, nuint at) =>
        (Vector128.LoadUnsafe(ref body, at) & Vector128.LoadUnsafe(ref mask, at)) ^ Vector128.LoadUnsafe(ref expected, at);

    /// <summary>
    /// The 8 value columns (little-endian, the leftmost column in the low byte): spaces, then at least one digit and
    /// only digits to the last column, as "%8lu" prints; anything else (a '+', a space between digits, all spaces)
    /// is false, and the parser reads the line the general way.
    /// </summary>
    private static bool TryReadValue(ulong columns, out long kb)
    {
        // Every column ' ' to '9' (below 0x80, with bit 5, and below 0x3a); of those only the digits have bit 4.
        const ulong Ones = 0x0101010101010101UL;
        ulong digits = columns & (Ones * 0x10);
        int spaceBits = BitOperations.TrailingZeroCount(digits) - 4;
        ulong spaceMask = (1UL << spaceBits) - 1;
        if (((columns | (columns + (Ones * 0x46))) & (Ones * 0x80)) != 0 || (columns & (Ones * 0x20)) != Ones * 0x20
            || digits == 0 || digits != (Ones * 0x10) << spaceBits || (columns & spaceMask) != ((Ones * 0x20) & spaceMask))
        {
            kb = 0;
            return false;
        }

        // Eight digits at once (spaces count as leading zeros: ' ' & 0x0f is 0): pairs, then fours, then all eight.
        ulong value = (columns & 0x0f0f0f0f0f0f0f0fUL) * 2561 >> 8;
        value = (value & 0x00ff00ff00ff00ffUL) * 6553601 >> 16;
        kb = (long)((value & 0x0000ffff0000ffffUL) * 42949672960001UL >> 32);
        return true;
    }
}
