using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core;

/// <summary>
/// Reads a /proc file whole into a reusable buffer. /proc files report a length of 0 and each read of smaps
/// returns about one page (the kernel's seq_file buffer), so it reads until EOF; the buffer grows from the shared
/// pool and is kept. <see cref="Cancellation"/> is checked before each read, so a stopping daemon leaves even a
/// 100,000-mapping smaps within a page of text.
/// </summary>
public sealed class ProcFileReader : IDisposable
{
    private byte[] _buffer;

    public ProcFileReader(int initialSize = 64 * 1024)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
    }

    /// <summary>Largest file it reads; beyond it the read fails instead of growing without bound.</summary>
    public long MaxBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Checked before every read(): a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken Cancellation { get; set; }

    /// <summary>Reads <paramref name="path"/>; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> ReadAll(string path)
    {
        using SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int length = 0;
        while (true)
        {
            if (length == _buffer.Length)
            {
                if (_buffer.Length >= MaxBytes)
                {
                    throw new IOException($"{path}: larger than {MaxBytes} bytes");
                }

                byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(MaxBytes, _buffer.Length * 2L));
                _buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }

            Cancellation.ThrowIfCancellationRequested();

            // Sequential reads: /proc/PID files ignore the offset argument's meaning beyond "where we were".
            int read;
            try
            {
                read = RandomAccess.Read(handle, _buffer.AsSpan(length), length);
            }
            catch (NotSupportedException e)
            {
                // A pipe or socket where a /proc file should be (only a made-up procfs has one): an I/O error of
                // that process, never an exception that escapes the scan (it stopped the daemon).
                throw new IOException($"{path}: not a regular file", e);
            }

            if (read == 0)
            {
                return _buffer.AsSpan(0, length);
            }

            length += read;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
