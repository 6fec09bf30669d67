namespace MapsExporter.Metrics;

/// <summary>
/// CRC-32 (IEEE 802.3, gzip's), continued from a previous value as zlib's <c>crc32(crc, buf, len)</c> is: the gzip
/// trailer of a scan's cached body followed by a per-scrape part is the CRC of the first part continued over the second.
/// </summary>
internal static class Crc32
{
    private static readonly uint[] Table = CreateTable();

    /// <summary>The CRC of the bytes before <paramref name="data"/> (0 for none), continued over it.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (byte b in data)
        {
            crc = Table[(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
