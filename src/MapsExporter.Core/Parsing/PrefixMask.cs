using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MapsExporter.Core.Parsing;

/// <summary>A vector's first n bytes set to 0xff, the rest 0: one load from a table of 32 bytes of 0xff then 32 of 0.</summary>
internal static class PrefixMask
{
    private static ReadOnlySpan<byte> Table =>
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>The first <paramref name="count"/> (0 to 32) of 16 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Of128(int count) => Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(Table), (nuint)(32 - count));

    /// <summary>The first <paramref name="count"/> (0 to 32) of 32 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Of256(int count) => Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(Table), (nuint)(32 - count));
}
