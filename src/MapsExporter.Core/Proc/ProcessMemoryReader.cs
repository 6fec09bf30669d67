using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core.Proc;

/// <summary>Reads another process's memory at an address.</summary>
public interface IProcessMemory
{
    /// <summary>Fills <paramref name="buffer"/> from <paramref name="address"/>; false if the range is not readable.</summary>
    bool TryRead(ulong address, Span<byte> buffer);

    /// <summary>Resident bytes of [startAddress, endAddress) from the page table (<c>/proc/PID/pagemap</c>); null when it cannot be read.</summary>
    long? ResidentBytes(ulong startAddress, ulong endAddress);

    /// <summary>
    /// Resident bytes of the range mapped only here (pagemap's present and exclusive bits): what freeing them gives back.
    /// Reading an untouched page maps the shared zero page, which is present but neither resident in Rss nor exclusive.
    /// </summary>
    long? ExclusiveResidentBytes(ulong startAddress, ulong endAddress) => ResidentBytes(startAddress, endAddress);
}

/// <summary>
/// Reads a process's memory through <c>/proc/PID/mem</c>, which needs ptrace-read permission (root or
/// CAP_SYS_PTRACE, or the same user with a permissive yama scope). Reading a PROT_NONE page fails with EIO,
/// which is an answer, not an error.
/// </summary>
public sealed class ProcessMemoryReader : IProcessMemory, IDisposable
{
    private const ulong PageSize = 4096;
    private const ulong PresentBit = 1UL << 63;
    private const ulong ExclusiveBit = 1UL << 56;
    private readonly SafeFileHandle _handle;
    private readonly string _pagemapPath;
    private SafeFileHandle? _pagemap;

    private ProcessMemoryReader(SafeFileHandle handle, string pagemapPath)
    {
        _handle = handle;
        _pagemapPath = pagemapPath;
    }

    /// <summary>Opens the process's memory, or returns null with the reason (permission, vanished) when it cannot.</summary>
    public static ProcessMemoryReader? TryOpen(ProcFs procFs, int pid, out string? reason)
    {
        string path = procFs.PidPath(pid, "mem");
        try
        {
            reason = null;
            return new ProcessMemoryReader(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), procFs.PidPath(pid, "pagemap"));
        }
        catch (UnauthorizedAccessException)
        {
            reason = PtraceGuardedFile.Denied(path);
        }
        catch (IOException e)
        {
            reason = $"cannot open {path}: {e.Message}";
        }

        return null;
    }

    /// <summary>How many times <see cref="TryRead"/> was called (for tests and the benchmark).</summary>
    public int Reads { get; private set; }

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        Reads++;
        if (address > long.MaxValue)
        {
            return false;
        }

        try
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int read = RandomAccess.Read(_handle, buffer[total..], (long)address + total);
                if (read <= 0)
                {
                    return false;
                }

                total += read;
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>One 8-byte entry per page; bit 63 says the page is present. Only split VMAs ask, a few MiB at most.</summary>
    public long? ResidentBytes(ulong startAddress, ulong endAddress) => CountPages(startAddress, endAddress, PresentBit);

    public long? ExclusiveResidentBytes(ulong startAddress, ulong endAddress) => CountPages(startAddress, endAddress, PresentBit | ExclusiveBit);

    private long? CountPages(ulong startAddress, ulong endAddress, ulong bits)
    {
        try
        {
            _pagemap ??= File.OpenHandle(_pagemapPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Span<byte> entries = stackalloc byte[8 * 512];
            long resident = 0;
            for (ulong page = startAddress / PageSize; page < endAddress / PageSize;)
            {
                int count = (int)Math.Min(512, (endAddress / PageSize) - page);
                Span<byte> chunk = entries[..(count * 8)];
                if (RandomAccess.Read(_pagemap, chunk, (long)(page * 8)) != chunk.Length)
                {
                    return null;
                }

                for (int i = 0; i < count; i++)
                {
                    if ((System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(chunk[(i * 8)..]) & bits) == bits)
                    {
                        resident += (long)PageSize;
                    }
                }

                page += (ulong)count;
            }

            return resident;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        _handle.Dispose();
        _pagemap?.Dispose();
    }
}
