using System.Buffers.Binary;
using MapsExporter.Metrics;
using MapsExporter.PrivilegeSeparation;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// The frame format between the scanner and the web side, each read as untrusted input by the other: round trips,
/// and every malformed frame (garbage, truncated at each byte, lengths past the bounds, unknown version or kind,
/// bad status or content type) is an <see cref="IpcFormatException"/> or an end of stream, never a crash, and a
/// length past its bound is refused before anything of that size is allocated or read.
/// </summary>
public sealed class IpcFramesTests
{
    [Theory]
    [InlineData(1, "")]
    [InlineData(3, "")]
    [InlineData(2, "/")]
    [InlineData(2, "/process/123?x=%20y")]
    public async Task Requests_round_trip(byte kindNumber, string target)
    {
        var kind = (IpcKind)kindNumber;
        var read = await IpcFrames.ReadRequestAsync(new MemoryStream(IpcFrames.Encode(new IpcRequest(kind, target))), default);
        Assert.Equal(new IpcRequest(kind, target), read);
    }

    [Fact]
    public async Task Responses_round_trip_and_a_clean_end_is_no_request()
    {
        var response = new IpcResponse(IpcKind.Page, 404, "text/html; charset=utf-8", "<p>gone</p>"u8.ToArray());
        IpcResponse read = await IpcFrames.ReadResponseAsync(new MemoryStream(IpcFrames.Encode(response)), IpcKind.Page, default);
        Assert.Equal((response.Status, response.ContentType), (read.Status, read.ContentType));
        Assert.Equal(response.Body, read.Body);
        Assert.Null(await IpcFrames.ReadRequestAsync(new MemoryStream(), default));
    }

    [Fact]
    public async Task Every_truncation_of_a_frame_is_an_end_of_stream()
    {
        byte[] request = IpcFrames.Encode(new IpcRequest(IpcKind.Page, "/api/v1/processes"));
        byte[] response = IpcFrames.Encode(new IpcResponse(IpcKind.Page, 200, "text/plain", new byte[100]));
        for (int length = 1; length < request.Length; length++)
        {
            await Assert.ThrowsAsync<EndOfStreamException>(() => IpcFrames.ReadRequestAsync(new MemoryStream(request[..length]), default));
        }

        for (int length = 0; length < response.Length; length++)
        {
            await Assert.ThrowsAsync<EndOfStreamException>(() => IpcFrames.ReadResponseAsync(new MemoryStream(response[..length]), IpcKind.Page, default));
        }
    }

    [Theory]
    [InlineData(new byte[] { (byte)'X', (byte)'M', 1, 2, 0, 1, (byte)'/' })] // magic
    [InlineData(new byte[] { (byte)'M', (byte)'X', 2, 2, 0, 1, (byte)'/' })] // version
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 9, 0, 1, (byte)'/' })] // kind
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 2, 0, 1, (byte)'a' })] // a page target not starting with '/'
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 2, 0, 2, (byte)'/', 0x0a })] // a control character
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 2, 0, 2, (byte)'/', 0xc3 })] // not ASCII
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 1, 0, 1, (byte)'/' })] // a metrics request with a target
    [InlineData(new byte[] { (byte)'M', (byte)'X', 1, 2, 0xff, 0xff })] // a target past 2048 bytes: refused before it is read
    public async Task Bad_requests_are_format_errors(byte[] frame)
    {
        await Assert.ThrowsAsync<IpcFormatException>(() => IpcFrames.ReadRequestAsync(new MemoryStream(frame), default));
    }

    [Fact]
    public async Task A_body_past_the_bound_is_refused_before_it_is_allocated_or_read()
    {
        byte[] header = [(byte)'M', (byte)'X', 1, 2, 0, 200, 0, 0xff, 0xff, 0xff, 0xff];
        // Then the stream ends: reading on would be an end of stream, allocating 4 GiB an OutOfMemoryException.
        var stream = new MemoryStream(header);
        var e = await Assert.ThrowsAsync<IpcFormatException>(() => IpcFrames.ReadResponseAsync(stream, IpcKind.Page, default));
        Assert.Contains("more than", e.Message, StringComparison.Ordinal);
        Assert.Equal(header.Length, stream.Position); // nothing past the header was asked for
    }

    [Theory]
    [InlineData(99)]
    [InlineData(600)]
    public async Task A_status_outside_http_is_a_format_error(int status)
    {
        byte[] frame = IpcFrames.Encode(new IpcResponse(IpcKind.Page, 200, "", []));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)status);
        await Assert.ThrowsAsync<IpcFormatException>(() => IpcFrames.ReadResponseAsync(new MemoryStream(frame), IpcKind.Page, default));
    }

    [Fact]
    public async Task A_content_type_with_a_line_break_or_an_answer_of_the_wrong_kind_is_a_format_error()
    {
        byte[] frame = IpcFrames.Encode(new IpcResponse(IpcKind.Page, 200, "text/plain", []));
        frame[IpcFrames.ResponseHeaderLength + 4] = (byte)'\n';
        await Assert.ThrowsAsync<IpcFormatException>(() => IpcFrames.ReadResponseAsync(new MemoryStream(frame), IpcKind.Page, default));
        byte[] metrics = IpcFrames.Encode(new IpcResponse(IpcKind.Metrics, 200, "", []));
        await Assert.ThrowsAsync<IpcFormatException>(() => IpcFrames.ReadResponseAsync(new MemoryStream(metrics), IpcKind.Page, default));
        Assert.Throws<IpcFormatException>(() => IpcFrames.Encode(new IpcResponse(IpcKind.Page, 200, "text/plain\r\nX-Injected: 1", [])));
    }

    [Fact]
    public void Scrape_parts_round_trip_and_inconsistent_lengths_are_format_errors()
    {
        var rendered = new RenderedScrape("a 1\n"u8.ToArray(), new byte[] { 1, 2, 3 });
        RenderedScrape decoded = IpcScrape.Decode(IpcScrape.Encode(rendered, []), out _)!;
        Assert.Equal(rendered.Text.ToArray(), decoded.Text.ToArray());
        Assert.Equal(rendered.OpenDeflate.ToArray(), decoded.OpenDeflate.ToArray());
        Assert.Null(IpcScrape.Decode(IpcScrape.Encode(null, "b 2\n"u8.ToArray()), out byte[] plain));
        Assert.Equal("b 2\n"u8.ToArray(), plain);

        byte[] body = IpcScrape.Encode(rendered, []);
        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<IpcFormatException>(() => IpcScrape.Decode(body.AsMemory(0, length), out _));
        }

        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), uint.MaxValue);
        Assert.Throws<IpcFormatException>(() => IpcScrape.Decode(body, out _));
    }

    [Fact]
    public async Task Random_bytes_are_a_format_error_an_end_of_stream_or_a_frame_never_anything_else()
    {
        var random = new Random(19);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length >= 3)
            {
                bytes[0] = (byte)'M'; // past the magic and version, so the later checks are reached too
                bytes[1] = (byte)'X';
                bytes[2] = IpcFrames.Version;
            }

            await ReadsSafely(() => IpcFrames.ReadRequestAsync(new MemoryStream(bytes), default));
            await ReadsSafely(() => IpcFrames.ReadResponseAsync(new MemoryStream(bytes), (IpcKind)(1 + (i % 2)), default));
            try
            {
                IpcScrape.Decode(bytes, out _);
            }
            catch (IpcFormatException)
            {
            }
        }
    }

    private static async Task ReadsSafely<T>(Func<Task<T>> read)
    {
        try
        {
            await read();
        }
        catch (Exception e) when (e is IpcFormatException or EndOfStreamException)
        {
        }
    }
}
