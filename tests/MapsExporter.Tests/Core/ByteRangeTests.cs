using System.Runtime.Intrinsics;
using MapsExporter.Core.Parsing;

namespace MapsExporter.Tests.Core;

/// <summary>The 16-byte readers' byte classes (ByteRange) and prefix masks (PrefixMask) against their scalar definitions.</summary>
public sealed class ByteRangeTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData((byte)'0', 10)]
    [InlineData((byte)'a', 6)]
    [InlineData(0x7f, 2)]
    [InlineData(0x80, 1)]
    [InlineData(0xf0, 16)]
    public void Every_byte_value_is_in_the_range_exactly_when_low_le_byte_lt_low_plus_count(byte low, byte count)
    {
        for (int first = 0; first < 256; first += 16)
        {
            Vector128<byte> bytes = Vector128<byte>.Indices + Vector128.Create((byte)first);
            Vector128<byte> inRange = ByteRange.In(bytes, low, count);
            for (int i = 0; i < 16; i++)
            {
                int value = first + i;
                Assert.Equal(value >= low && value < low + count ? 0xff : 0, inRange[i]);
            }
        }
    }

    [Fact]
    public void Digits_and_hex_letters_are_the_kernels_characters()
    {
        for (int first = 0; first < 256; first += 16)
        {
            Vector128<byte> bytes = Vector128<byte>.Indices + Vector128.Create((byte)first);
            Vector128<byte> digits = ByteRange.Digits(bytes), letters = ByteRange.HexLetters(bytes);
            for (int i = 0; i < 16; i++)
            {
                char c = (char)(first + i);
                Assert.Equal(char.IsAsciiDigit(c) ? 0xff : 0, digits[i]);
                Assert.Equal(c is >= 'a' and <= 'f' ? 0xff : 0, letters[i]);
            }
        }
    }

    [Fact]
    public void Prefix_masks_set_the_first_count_bytes()
    {
        for (int count = 0; count <= 32; count++)
        {
            Vector256<byte> wide = PrefixMask.Of256(count);
            for (int i = 0; i < 32; i++)
            {
                Assert.Equal(i < count ? 0xff : 0, wide[i]);
            }

            if (count <= 16)
            {
                Vector128<byte> narrow = PrefixMask.Of128(count);
                for (int i = 0; i < 16; i++)
                {
                    Assert.Equal(i < count ? 0xff : 0, narrow[i]);
                }
            }
        }
    }
}
