using System.Buffers;
using System.Numerics;
using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core.Proc;

/// <summary>
/// Reads a /proc file whole into a reusable buffer. /proc files report a length of 0 and each read of smaps
/// returns about one page (the kernel's seq_file buffer), so it reads until EOF; the buffer grows as needed and is
/// kept, until <see cref="TrimExcess"/> finds it much larger than anything read since the last trim (one huge
/// process that came and went must not pin megabytes for the daemon's lifetime). <see cref="Cancellation"/> is
/// checked before each read, so a stopping daemon leaves even a 100,000-mapping smaps within a page of text.
/// </summary>
public sealed class ProcFileReader : IDisposable
{
    /// <summary>A buffer up to this size is always kept.</summary>
    public const int KeptBytes = 1024 * 1024;

    private readonly int _initialSize;
    private byte[] _buffer;
    private int _largestSinceTrim;

    public ProcFileReader(int initialSize = 64 * 1024)
    {
        _initialSize = initialSize;
        _buffer = ArrayPool<byte>.Shared.Rent(initialSize);
    }

    /// <summary>Bytes the buffer holds now.</summary>
    public int Capacity => _buffer.Length;

    /// <summary>
    /// Shrinks a buffer above <see cref="KeptBytes"/> that is more than twice the largest file read since the last
    /// call (a scan calls it at its end). The large buffer is dropped, not pooled, so the next collection frees it.
    /// </summary>
    public void TrimExcess()
    {
        if (_buffer.Length > KeptBytes && _buffer.Length > 2L * _largestSinceTrim)
        {
            int size = (int)Math.Max(_initialSize, BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _largestSinceTrim)));
            _buffer = ArrayPool<byte>.Shared.Rent(size);
        }

        _largestSinceTrim = 0;
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
                // Small buffers go back to the pool; large ones to the GC, so that the pool does not keep every
                // size a huge file passed through.
                if (_buffer.Length <= KeptBytes)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }

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
                _largestSinceTrim = Math.Max(_largestSinceTrim, length);
                return _buffer.AsSpan(0, length);
            }

            length += read;
        }
    }

    public void Dispose()
    {
        if (_buffer.Length <= KeptBytes)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = [];
    }
}
