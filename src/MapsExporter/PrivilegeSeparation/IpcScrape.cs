using System.Buffers.Binary;
using MapsExporter.Metrics;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The body of a <see cref="IpcKind.Metrics"/> response: the scan's rendered parts, so the web side can append its HTTP
/// families and finish the gzip member itself (<see cref="GzipBody"/>), or before the first scan the whole text.
/// <code>u8 1 | u32 text length | text | u32 deflate length | deflate                          (rendered)
/// u8 0 | u32 text length | text                                                    (before the first scan)</code>
/// </summary>
internal static class IpcScrape
{
    public static byte[] Encode(RenderedScrape? rendered, byte[] text)
    {
        if (rendered is null)
        {
            byte[] plain = new byte[5 + text.Length];
            BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(1), (uint)text.Length);
            text.CopyTo(plain, 5);
            return plain;
        }

        byte[] body = new byte[1 + 4 + rendered.Text.Length + 4 + rendered.OpenDeflate.Length];
        body[0] = 1;
        int at = 1;
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(at), (uint)rendered.Text.Length);
        rendered.Text.Span.CopyTo(body.AsSpan(at += 4));
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(at += rendered.Text.Length), (uint)rendered.OpenDeflate.Length);
        rendered.OpenDeflate.Span.CopyTo(body.AsSpan(at + 4));
        return body;
    }

    /// <summary>
    /// The parts, or <paramref name="plain"/> set and null returned before the first scan. Lengths are checked
    /// against the body. The parts are slices of <paramref name="body"/>, not copies: a scrape of a large host then
    /// holds one copy of its text on the web side, not two.
    /// </summary>
    public static RenderedScrape? Decode(ReadOnlyMemory<byte> body, out byte[] plain)
    {
        plain = [];
        if (body.Length < 5 || body.Span[0] > 1)
        {
            throw new IpcFormatException("metrics body too short or of an unknown form");
        }

        ReadOnlyMemory<byte> text = Slice(body[1..], out ReadOnlyMemory<byte> rest);
        if (body.Span[0] == 0)
        {
            if (!rest.IsEmpty)
            {
                throw new IpcFormatException("bytes after the metrics text");
            }

            plain = text.ToArray();
            return null;
        }

        ReadOnlyMemory<byte> deflate = Slice(rest, out rest);
        if (!rest.IsEmpty)
        {
            throw new IpcFormatException("bytes after the metrics deflate data");
        }

        // No CRC crosses: the web side computes the gzip trailer's over the text it got (GzipBody).
        return new RenderedScrape(text, deflate);
    }

    private static ReadOnlyMemory<byte> Slice(ReadOnlyMemory<byte> from, out ReadOnlyMemory<byte> rest)
    {
        if (from.Length < 4)
        {
            throw new IpcFormatException("metrics body truncated");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(from.Span);
        if (length > from.Length - 4)
        {
            throw new IpcFormatException($"metrics part of {length} bytes, more than the {from.Length - 4} left");
        }

        rest = from[(4 + (int)length)..];
        return from.Slice(4, (int)length);
    }
}
