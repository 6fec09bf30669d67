using System.Buffers.Binary;
using System.Text;

namespace MapsExporter.Web;

/// <summary>
/// The files a web config reads: the config itself and the certificate, key and client CA files it names. From disk;
/// or, in the web side of a split daemon, from the bundle the scanner read for it before it dropped its privilege, so
/// a key only root can read still works and the side that faces the network opens no file by name. The bundle is
/// read as untrusted input (the scanner's frames are), version 1, big-endian:
/// <code>'M' 'X' 'F' version | u8 count (≤ 16) | count × (u16 path length (≤ 4096) | path (UTF-8) | u32 length (≤ 1 MiB) | bytes)</code>
/// </summary>
internal sealed class WebConfigFiles
{
    public const byte Version = 1;
    public const int MaxFiles = 16;
    public const int MaxPath = 4096;
    public const int MaxFile = 1024 * 1024;

    /// <summary>The largest bundle the format allows: every file and path at its bound.</summary>
    public const long MaxBundle = 5 + (MaxFiles * (2L + MaxPath + 4 + MaxFile));

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly bool _fromDisk, _recording;

    private WebConfigFiles(bool fromDisk, bool recording = false)
    {
        _fromDisk = fromDisk;
        _recording = recording;
    }

    /// <summary>Every file from disk, as read at the time.</summary>
    public static WebConfigFiles Disk { get; } = new(fromDisk: true);

    /// <summary>From disk, each file's bytes kept for <see cref="Encode"/>.</summary>
    public static WebConfigFiles Recording() => new(fromDisk: true, recording: true);

    /// <summary>A file's text, decoded as <see cref="File.ReadAllText(string)"/> decodes it (UTF-8, or the encoding of its byte order mark).</summary>
    public string ReadAllText(string path)
    {
        byte[] bytes;
        if (!_fromDisk)
        {
            bytes = _files.TryGetValue(path, out byte[]? held) ? held
                : throw new FileNotFoundException($"'{path}' was not read by the scanner when it started (the web config is read once, at start)");
        }
        else
        {
            bytes = File.ReadAllBytes(path);
            if (_recording)
            {
                _files[path] = bytes;
            }
        }

        using var reader = new StreamReader(new MemoryStream(bytes), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>The files read so far, as a bundle; a file or path past the bounds is an <see cref="IOException"/>.</summary>
    public byte[] Encode()
    {
        if (_files.Count > MaxFiles)
        {
            throw new IOException($"the web config reads {_files.Count} files, more than {MaxFiles}");
        }

        using var bundle = new MemoryStream();
        bundle.Write([(byte)'M', (byte)'X', (byte)'F', Version, (byte)_files.Count]);
        Span<byte> length = stackalloc byte[4];
        foreach (var (path, bytes) in _files)
        {
            byte[] name = Encoding.UTF8.GetBytes(path);
            if (name.Length > MaxPath || bytes.Length > MaxFile)
            {
                throw new IOException($"{path}: a path of more than {MaxPath} bytes or a file of more than {MaxFile} bytes");
            }

            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)name.Length);
            bundle.Write(length[..2]);
            bundle.Write(name);
            BinaryPrimitives.WriteUInt32BigEndian(length, (uint)bytes.Length);
            bundle.Write(length);
            bundle.Write(bytes);
        }

        return bundle.ToArray();
    }

    /// <summary>A bundle's files; anything outside the format is an <see cref="InvalidDataException"/> naming what.</summary>
    public static WebConfigFiles Decode(ReadOnlySpan<byte> bundle)
    {
        if (bundle.Length < 5 || bundle[0] != 'M' || bundle[1] != 'X' || bundle[2] != 'F')
        {
            throw new InvalidDataException("not a web config bundle (bad magic)");
        }

        if (bundle[3] != Version)
        {
            throw new InvalidDataException($"web config bundle version {bundle[3]}, this side reads {Version}");
        }

        int count = bundle[4];
        if (count > MaxFiles)
        {
            throw new InvalidDataException($"a web config bundle of {count} files, more than {MaxFiles}");
        }

        var files = new WebConfigFiles(fromDisk: false);
        ReadOnlySpan<byte> rest = bundle[5..];
        for (int i = 0; i < count; i++)
        {
            int pathLength = rest.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(rest) : throw new InvalidDataException("web config bundle truncated");
            if (pathLength is 0 or > MaxPath || rest.Length < 2 + pathLength + 4)
            {
                throw new InvalidDataException($"a path of {pathLength} bytes in a web config bundle of {rest.Length} bytes left");
            }

            string path;
            try
            {
                path = StrictUtf8.GetString(rest.Slice(2, pathLength));
            }
            catch (DecoderFallbackException)
            {
                throw new InvalidDataException("a path in a web config bundle that is not UTF-8");
            }

            rest = rest[(2 + pathLength)..];
            uint length = BinaryPrimitives.ReadUInt32BigEndian(rest);
            if (length > MaxFile || length > rest.Length - 4)
            {
                throw new InvalidDataException($"a file of {length} bytes in a web config bundle of {rest.Length - 4} bytes left");
            }

            if (!files._files.TryAdd(path, rest.Slice(4, (int)length).ToArray()))
            {
                throw new InvalidDataException("a path twice in a web config bundle");
            }

            rest = rest[(4 + (int)length)..];
        }

        return rest.IsEmpty ? files : throw new InvalidDataException("bytes after the last file of a web config bundle");
    }
}
