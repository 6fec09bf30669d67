using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace MapsExporter.Metrics;

/// <summary>
/// A gzip member (RFC 1952) made of a scan's cached deflate data and a per-scrape tail: the scan's part is compressed
/// once per scan, the tail (a few KB) per scrape. One member, not two concatenated ones: not every client reads past
/// the first member (curl, some browsers).
/// </summary>
internal static class GzipBody
{
    // ID1 ID2, CM=deflate, no flags, no mtime, XFL 0, OS=unix.
    private static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];

    public static byte[] Build(RenderedScrape scan, ReadOnlySpan<byte> tail)
    {
        using var tailDeflate = new MemoryStream();
        using (var deflate = new DeflateStream(tailDeflate, CompressionLevel.Fastest, leaveOpen: true))
        {
            deflate.Write(tail); // a new deflate stream's blocks, its last one final: the scan's stream continues with them
        }

        int length = Header.Length + scan.OpenDeflate.Length + (int)tailDeflate.Length + 8;
        byte[] body = new byte[length];
        Header.CopyTo(body, 0);
        scan.OpenDeflate.Span.CopyTo(body.AsSpan(Header.Length));
        tailDeflate.GetBuffer().AsSpan(0, (int)tailDeflate.Length).CopyTo(body.AsSpan(Header.Length + scan.OpenDeflate.Length));
        // The CRC of text and tail, per scrape: vectorised, tens of microseconds for the whole exposition.
        var crc = new Crc32();
        crc.Append(scan.Text.Span);
        crc.Append(tail);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(length - 8), crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(length - 4), (uint)(scan.Text.Length + tail.Length));
        return body;
    }
}
