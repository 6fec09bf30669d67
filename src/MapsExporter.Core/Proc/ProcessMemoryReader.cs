using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core.Proc;

/// <summary>Reads another process's memory at an address.</summary>
public interface IProcessMemory
{
    /// <summary>Fills <paramref name="buffer"/> from <paramref name="address"/>; false if the range is not readable.</summary>
    bool TryRead(ulong address, Span<byte> buffer);

    /// <summary>
    /// Resident bytes of [startAddress, endAddress) from the page table (<c>/proc/PID/pagemap</c>), counted as smaps
    /// counts them in a mapping of that kind (<see cref="PagemapReader.Count"/>); null when it cannot be read.
    /// </summary>
    long? ResidentBytes(ulong startAddress, ulong endAddress, bool anonymousPrivate);

    /// <summary>
    /// Resident bytes of a range of anonymous private memory, as smaps counts them: what freeing them takes off the
    /// process's Rss. An untouched page that was read maps the shared zero page, which is not counted.
    /// </summary>
    long? AnonymousResidentBytes(ulong startAddress, ulong endAddress) => ResidentBytes(startAddress, endAddress, anonymousPrivate: true);
}

/// <summary>
/// Reads a process's memory through <c>/proc/PID/mem</c>, which needs ptrace-read permission (root or
/// CAP_SYS_PTRACE, or the same user with a permissive yama scope). Reading a PROT_NONE page fails with EIO,
/// which is an answer, not an error.
/// </summary>
public sealed class ProcessMemoryReader : IProcessMemory, IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly ProcFs _procFs;
    private readonly int _pid;
    private PagemapReader? _pagemap;

    private ProcessMemoryReader(SafeFileHandle handle, ProcFs procFs, int pid)
    {
        _handle = handle;
        _procFs = procFs;
        _pid = pid;
    }

    /// <summary>Opens the process's memory, or returns null with the reason (permission, vanished) when it cannot.</summary>
    public static ProcessMemoryReader? TryOpen(ProcFs procFs, int pid, out string? reason)
    {
        string path = procFs.PidPath(pid, "mem");
        try
        {
            reason = null;
            return new ProcessMemoryReader(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), procFs, pid);
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

    /// <summary>As smaps counts them (<see cref="PagemapReader.Count"/>). Only split VMAs ask, a few MiB at most.</summary>
    public long? ResidentBytes(ulong startAddress, ulong endAddress, bool anonymousPrivate)
    {
        try
        {
            _pagemap ??= PagemapReader.Open(_procFs, _pid, new ulong[512]);
            return _pagemap.Count(startAddress, endAddress, anonymousPrivate).ResidentBytes;
        }
        catch (ProcessReadException)
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
