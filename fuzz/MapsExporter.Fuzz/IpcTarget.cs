using System.Text;
using MapsExporter.Metrics;
using MapsExporter.PrivilegeSeparation;
using MapsExporter.Web;

namespace MapsExporter.Fuzz;

/// <summary>
/// The privilege separation's frames as the web side reads them (and the scanner reads requests): the input from its
/// third byte is the socket's byte stream, handed out in reads of 1 to 16 bytes as the second byte says (a stream
/// socket splits frames anywhere). The first byte picks the kind the web side expects an answer to. Every response
/// read is checked to re-encode to the bytes it came from; a Metrics body goes through <see cref="IpcScrape.Decode"/>
/// and, when it holds a scan's parts, through <see cref="GzipBody.Build"/> as a scrape would. Only
/// <see cref="IpcFormatException"/> and <see cref="EndOfStreamException"/> may end a read; one input may allocate
/// at most the frame's 32 MiB body bound beyond the usual limit. A first byte of 0x80 or more takes the rest as the
/// scanner's bundle of web config files instead (<see cref="WebConfigFiles.Decode"/>).
/// </summary>
internal static class IpcTarget
{
    private static readonly IpcKind[] Kinds = [IpcKind.Metrics, IpcKind.Page, IpcKind.Ready, IpcKind.Listening];
    private static readonly byte[] Tail = Encoding.ASCII.GetBytes("# HELP mapsexporter_http_requests_total x\n");

    public static void Frames(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }

        if (input[0] >= 0x80)
        {
            WebFiles(input[1..]);
            return;
        }

        IpcKind expected = Kinds[input[0] % Kinds.Length];
        int chunk = (input[1] % 16) + 1;
        byte[] stream = input[2..].ToArray();
        NewReaderTargets.Bounded(IpcFrames.MaxBody + (stream.Length * 64L), () =>
        {
            var responses = new Trickle(stream, chunk);
            while (responses.Position < stream.Length)
            {
                long start = responses.Position;
                IpcResponse response;
                try
                {
                    response = IpcFrames.ReadResponseAsync(responses, expected, CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception e) when (e is IpcFormatException or EndOfStreamException)
                {
                    break;
                }

                NewReaderTargets.Check(IpcFrames.Encode(response).AsSpan().SequenceEqual(stream.AsSpan((int)start, (int)(responses.Position - start))), "a response that does not re-encode to its bytes");
                if (response.Kind == IpcKind.Metrics)
                {
                    Scrape(response.Body);
                }
            }

            var requests = new Trickle(stream, chunk);
            while (true)
            {
                long start = requests.Position;
                IpcRequest? request;
                try
                {
                    request = IpcFrames.ReadRequestAsync(requests, CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception e) when (e is IpcFormatException or EndOfStreamException)
                {
                    break;
                }

                if (request is null)
                {
                    break;
                }

                NewReaderTargets.Check(IpcFrames.Encode(request).AsSpan().SequenceEqual(stream.AsSpan((int)start, (int)(requests.Position - start))), "a request that does not re-encode to its bytes");
            }
        });
    }

    /// <summary>The scanner's bundle of the web config's files (<see cref="WebConfigFiles"/>): one it decodes re-encodes to the same bytes.</summary>
    private static void WebFiles(ReadOnlySpan<byte> input)
    {
        byte[] bundle = input.ToArray();
        NewReaderTargets.Bounded(bundle.Length * 64L, () =>
        {
            WebConfigFiles files;
            try
            {
                files = WebConfigFiles.Decode(bundle);
            }
            catch (InvalidDataException)
            {
                return;
            }

            byte[] again = files.Encode();
            NewReaderTargets.Check(again.AsSpan().SequenceEqual(bundle), "a bundle that does not re-encode to its bytes");
        });
    }

    private static void Scrape(byte[] body)
    {
        RenderedScrape? rendered;
        byte[] plain;
        try
        {
            rendered = IpcScrape.Decode(body, out plain);
        }
        catch (IpcFormatException)
        {
            return;
        }

        if (rendered is null)
        {
            NewReaderTargets.Check(IpcScrape.Encode(null, plain).AsSpan().SequenceEqual(body), "a plain metrics body that does not re-encode");
            return;
        }

        NewReaderTargets.Check(IpcScrape.Encode(rendered, []).AsSpan().SequenceEqual(body), "a metrics body that does not re-encode");
        byte[] gzip = GzipBody.Build(rendered, Tail);
        NewReaderTargets.Check(gzip[0] == 0x1f && gzip[1] == 0x8b && gzip.AsSpan(10, rendered.OpenDeflate.Length).SequenceEqual(rendered.OpenDeflate.Span)
            && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(gzip.AsSpan(gzip.Length - 4)) == (uint)(rendered.Text.Length + Tail.Length), "a gzip member that is not the scan's deflate data, a tail and its trailer");
    }

    /// <summary>A stream over the input that hands out at most <c>chunk</c> bytes a read, as a socket may.</summary>
    private sealed class Trickle(byte[] data, int chunk) : MemoryStream(data, writable: false)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));
    }
}
