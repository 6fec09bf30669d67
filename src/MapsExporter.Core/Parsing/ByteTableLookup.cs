using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace MapsExporter.Core.Parsing;

/// <summary>
/// A 16-byte table looked up by 16 indices at once, an index of 0x80 or more giving 0: SSSE3's pshufb on x86-64
/// (beyond the baseline, so Native AOT checks the CPU at run time), AdvSimd's tbl on arm64. The VmFlags reader takes
/// its fast path only where <see cref="IsSupported"/>; elsewhere it leaves the line to the general reader.
/// </summary>
internal static class ByteTableLookup
{
    public static bool IsSupported => Ssse3.IsSupported || AdvSimd.Arm64.IsSupported;

    /// <summary>
    /// Byte i is table[indices[i]] for an index below 16, 0 for one of 0x80 or more (others: not used here). Only
    /// where <see cref="IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Lookup(Vector128<byte> table, Vector128<byte> indices)
    {
        if (Ssse3.IsSupported)
        {
            return Ssse3.Shuffle(table, indices);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.VectorTableLookup(table, indices);
        }

        // Not reached: callers take this path only where IsSupported. No fallback to merge with keeps the result in
        // a register (a call here made the compiler spill it on the fast path too).
        throw new PlatformNotSupportedException();
    }
}
