using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing;

/// <summary>
/// Byte classes of 16 bytes at once: 0xff where a byte is in the range. Each range is moved to the bottom of the
/// signed range and tested with one signed compare, as SSE2 (the x86-64 baseline) has no unsigned byte compare.
/// </summary>
internal static class ByteRange
{
    /// <summary>0xff where a byte is in [<paramref name="low"/>, <paramref name="low"/> + <paramref name="count"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> In(Vector128<byte> bytes, byte low, byte count) =>
        Vector128.LessThan((bytes + Vector128.Create((byte)(0x80 - low))).AsSByte(), Vector128.Create((sbyte)(count - 0x80))).AsByte();

    /// <summary>'0' to '9'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Digits(Vector128<byte> bytes) => In(bytes, (byte)'0', 10);

    /// <summary>'a' to 'f' (the kernel prints hex in lowercase).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> HexLetters(Vector128<byte> bytes) => In(bytes, (byte)'a', 6);
}
