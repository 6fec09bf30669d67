using System.Buffers.Binary;
using System.Text;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>What the web side asks the scanner for.</summary>
internal enum IpcKind : byte
{
    /// <summary>The last scan's /metrics parts (text, its open deflate stream, CRC); the web side appends its own families.</summary>
    Metrics = 1,

    /// <summary>Any other GET path the scanner serves (/, /healthz, /process/PID, /api/v1/...), with its query.</summary>
    Page = 2,

    /// <summary>Answered once the scanner has started (its first scan published): the web side listens only then, as one process does.</summary>
    Ready = 3,

    /// <summary>The web side listens: the scanner's start completes (and systemd gets READY=1) only then.</summary>
    Listening = 4,
}

/// <summary>A request frame: the kind and, for <see cref="IpcKind.Page"/>, the path and query as sent (URL-escaped ASCII).</summary>
internal sealed record IpcRequest(IpcKind Kind, string Target);

/// <summary>A response frame: the HTTP status, content type and body to send.</summary>
internal sealed record IpcResponse(IpcKind Kind, int Status, string ContentType, byte[] Body);

/// <summary>A frame that breaks the format: the connection is closed, never the process.</summary>
internal sealed class IpcFormatException(string message) : Exception(message);

/// <summary>
/// The framing between the two processes, version 1, big-endian. Each side reads the other as untrusted input: every
/// length is checked against a bound before anything is allocated, and every field against its set of values.
/// <code>
/// request:  'M' 'X' version kind | u16 target length (≤ 2048) | target (printable ASCII; a Page's starts with '/', others have none)
/// response: 'M' 'X' version kind | u16 status (100-599) | u8 type length (≤ 128) | type (printable ASCII) | u32 body length (≤ 32 MiB) | body
/// </code>
/// </summary>
internal static class IpcFrames
{
    public const byte Version = 1;
    public const int MaxTarget = 2048;
    public const int MaxContentType = 128;
    public const int MaxBody = 32 * 1024 * 1024;
    public const int RequestHeaderLength = 6;
    public const int ResponseHeaderLength = 7;

    private const byte Magic0 = (byte)'M', Magic1 = (byte)'X';

    public static byte[] Encode(IpcRequest request)
    {
        byte[] target = Encoding.ASCII.GetBytes(request.Target);
        CheckTarget(request.Kind, target);
        byte[] frame = new byte[RequestHeaderLength + target.Length];
        WritePreamble(frame, request.Kind);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)target.Length);
        target.CopyTo(frame, RequestHeaderLength);
        return frame;
    }

    public static byte[] Encode(IpcResponse response)
    {
        byte[] type = Encoding.ASCII.GetBytes(response.ContentType);
        CheckResponse(response.Status, type, response.Body.Length);
        byte[] frame = new byte[ResponseHeaderLength + type.Length + 4 + response.Body.Length];
        WritePreamble(frame, response.Kind);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(4), (ushort)response.Status);
        frame[6] = (byte)type.Length;
        type.CopyTo(frame, ResponseHeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(ResponseHeaderLength + type.Length), (uint)response.Body.Length);
        response.Body.CopyTo(frame, ResponseHeaderLength + type.Length + 4);
        return frame;
    }

    /// <summary>The next request, or null at a clean end of stream (no byte of a new frame).</summary>
    public static async Task<IpcRequest?> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[RequestHeaderLength];
        if (!await FillAsync(stream, header, allowEnd: true, cancellationToken))
        {
            return null;
        }

        IpcKind kind = CheckPreamble(header);
        int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4));
        if (length > MaxTarget)
        {
            throw new IpcFormatException($"request target of {length} bytes, more than {MaxTarget}");
        }

        byte[] target = new byte[length];
        await FillAsync(stream, target, allowEnd: false, cancellationToken);
        CheckTarget(kind, target);
        return new IpcRequest(kind, Encoding.ASCII.GetString(target));
    }

    /// <summary>The response to a request of <paramref name="expected"/> kind; end of stream is an <see cref="EndOfStreamException"/>.</summary>
    public static async Task<IpcResponse> ReadResponseAsync(Stream stream, IpcKind expected, CancellationToken cancellationToken)
    {
        byte[] header = new byte[ResponseHeaderLength];
        await FillAsync(stream, header, allowEnd: false, cancellationToken);
        IpcKind kind = CheckPreamble(header);
        if (kind != expected)
        {
            throw new IpcFormatException($"response of kind {kind} to a {expected} request");
        }

        int status = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(4));
        int typeLength = header[6];
        if (typeLength > MaxContentType)
        {
            throw new IpcFormatException($"content type of {typeLength} bytes, more than {MaxContentType}");
        }

        byte[] typeAndLength = new byte[typeLength + 4];
        await FillAsync(stream, typeAndLength, allowEnd: false, cancellationToken);
        uint bodyLength = BinaryPrimitives.ReadUInt32BigEndian(typeAndLength.AsSpan(typeLength));
        if (bodyLength > MaxBody)
        {
            throw new IpcFormatException($"body of {bodyLength} bytes, more than {MaxBody}");
        }

        byte[] type = typeAndLength[..typeLength];
        CheckResponse(status, type, (int)bodyLength);
        byte[] body = new byte[bodyLength];
        await FillAsync(stream, body, allowEnd: false, cancellationToken);
        return new IpcResponse(kind, status, Encoding.ASCII.GetString(type), body);
    }

    private static void WritePreamble(Span<byte> frame, IpcKind kind)
    {
        frame[0] = Magic0;
        frame[1] = Magic1;
        frame[2] = Version;
        frame[3] = (byte)kind;
    }

    private static IpcKind CheckPreamble(ReadOnlySpan<byte> header)
    {
        if (header[0] != Magic0 || header[1] != Magic1)
        {
            throw new IpcFormatException("not a frame (bad magic)");
        }

        if (header[2] != Version)
        {
            throw new IpcFormatException($"frame version {header[2]}, this side speaks {Version}");
        }

        return header[3] switch
        {
            (byte)IpcKind.Metrics => IpcKind.Metrics,
            (byte)IpcKind.Page => IpcKind.Page,
            (byte)IpcKind.Ready => IpcKind.Ready,
            (byte)IpcKind.Listening => IpcKind.Listening,
            _ => throw new IpcFormatException($"unknown request kind {header[3]}"),
        };
    }

    private static void CheckTarget(IpcKind kind, ReadOnlySpan<byte> target)
    {
        if (target.Length > MaxTarget)
        {
            throw new IpcFormatException($"request target of {target.Length} bytes, more than {MaxTarget}");
        }

        if (kind == IpcKind.Page ? target.Length == 0 || target[0] != '/' : target.Length != 0)
        {
            throw new IpcFormatException(kind == IpcKind.Page ? "a page target must start with '/'" : $"a {kind} request carries no target");
        }

        if (!IsPrintableAscii(target))
        {
            throw new IpcFormatException("request target is not printable ASCII");
        }
    }

    private static void CheckResponse(int status, ReadOnlySpan<byte> type, int bodyLength)
    {
        if (status is < 100 or > 599)
        {
            throw new IpcFormatException($"status {status} is not an HTTP status");
        }

        if (type.Length > MaxContentType || !IsPrintableAscii(type) || type.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
        {
            throw new IpcFormatException("content type is not a short printable ASCII string");
        }

        if (bodyLength is < 0 or > MaxBody)
        {
            throw new IpcFormatException($"body of {bodyLength} bytes, more than {MaxBody}");
        }
    }

    // Space (a content type's "; charset") through '~'; no control characters.
    private static bool IsPrintableAscii(ReadOnlySpan<byte> text) => !text.ContainsAnyExceptInRange((byte)0x20, (byte)0x7E);

    /// <summary>Reads exactly <paramref name="buffer"/>'s length; false at an end of stream before its first byte when allowed.</summary>
    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, bool allowEnd, CancellationToken cancellationToken)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                if (read == 0 && allowEnd)
                {
                    return false;
                }

                throw new EndOfStreamException($"end of stream after {read} of {buffer.Length} bytes");
            }

            read += n;
        }

        return true;
    }
}
