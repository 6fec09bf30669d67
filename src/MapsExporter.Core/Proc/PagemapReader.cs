using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core.Proc;

/// <summary>
/// Counts the resident and swapped pages of address ranges of one process from <c>/proc/PID/pagemap</c> (one 8-byte
/// entry per 4 KiB page). The kernel takes the target's mmap lock for 2 MiB of address space at a time
/// (<c>PAGEMAP_WALK_SIZE</c>), whatever the read size, so a read never stalls the target the way smaps' walk of a
/// whole VMA does; reading in 1 MiB blocks keeps the syscalls few. Needs the same ptrace-read access as smaps;
/// page frame numbers (CAP_SYS_ADMIN) are not needed: the flag bits tell everything counted here.
/// </summary>
public sealed class PagemapReader : IDisposable
{
    /// <summary>Entries per read: 1 MiB of entries, 512 MiB of address space.</summary>
    public const int BlockEntries = 128 * 1024;

    private static readonly ulong PageSize = SystemPage.Size;
    private const ulong Present = 1UL << 63;
    private const ulong Swapped = 1UL << 62;
    private const ulong FilePage = 1UL << 61;
    private const ulong Exclusive = 1UL << 56;

    private readonly SafeFileHandle _handle;
    private readonly ulong[] _block;
    private readonly int _pid;
    private readonly string _path;

    private PagemapReader(SafeFileHandle handle, ulong[] block, int pid, string path)
    {
        _handle = handle;
        _block = block;
        _pid = pid;
        _path = path;
    }

    /// <summary>Opens the process's pagemap; <paramref name="block"/> (<see cref="BlockEntries"/> long for whole mappings) is the caller's, reused.</summary>
    /// <exception cref="ProcessReadException">It cannot be opened (vanished, permission).</exception>
    public static PagemapReader Open(ProcFs procFs, int pid, ulong[] block)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(block.Length, 512, nameof(block));
        string path = procFs.PidPath(pid, "pagemap");
        try
        {
            return new PagemapReader(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), block, pid, path);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            throw ProcReadErrors.Translate(pid, path, e);
        }
    }

    /// <summary>Entries read so far (for the benchmark).</summary>
    public long Entries { get; private set; }

    /// <summary>
    /// Resident and swapped bytes of [<paramref name="start"/>, <paramref name="end"/>), counted as smaps' Rss counts
    /// them: pagemap shows the shared zero page and the huge zero page as present, smaps and the RSS counters do not.
    /// In an anonymous private mapping (<paramref name="anonymousPrivate"/>) a page counts when it is present,
    /// exclusive and not a file page (the zero page is not exclusive; the huge zero page reads as a file page);
    /// elsewhere when it is present and a file page or exclusive (a file's page cache, shmem, COW copies).
    /// </summary>
    /// <exception cref="ProcessReadException">The read failed (the process exited: vanished).</exception>
    public (long ResidentBytes, long SwapBytes) Count(ulong start, ulong end, bool anonymousPrivate)
    {
        long resident = 0, swapped = 0;
        Span<byte> bytes = MemoryMarshal.AsBytes(_block.AsSpan());
        for (ulong page = start / PageSize, last = end / PageSize; page < last;)
        {
            int count = (int)Math.Min((ulong)_block.Length, last - page);
            int read;
            try
            {
                read = RandomAccess.Read(_handle, bytes[..(count * 8)], (long)(page * 8)) / 8;
            }
            catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
            {
                throw ProcReadErrors.Translate(_pid, _path, e);
            }

            if (read == 0)
            {
                // Past the end of the user address space ([vsyscall]) or the mm is gone: nothing more to count.
                break;
            }

            (long r, long s) = anonymousPrivate ? CountAnonymous(_block.AsSpan(0, read)) : CountOther(_block.AsSpan(0, read));
            resident += r;
            swapped += s;
            Entries += read;
            page += (ulong)read;
        }

        return (resident * (long)PageSize, swapped * (long)PageSize);
    }

    private static (long Resident, long Swapped) CountAnonymous(ReadOnlySpan<ulong> entries)
    {
        long resident = 0, swapped = 0;
        foreach (ulong e in entries)
        {
            resident += (e & (Present | Exclusive | FilePage)) == (Present | Exclusive) ? 1 : 0;
            swapped += (e & (Present | Swapped)) == Swapped ? 1 : 0;
        }

        return (resident, swapped);
    }

    private static (long Resident, long Swapped) CountOther(ReadOnlySpan<ulong> entries)
    {
        long resident = 0, swapped = 0;
        foreach (ulong e in entries)
        {
            resident += (e & Present) != 0 && (e & (FilePage | Exclusive)) != 0 ? 1 : 0;
            swapped += (e & (Present | Swapped)) == Swapped ? 1 : 0;
        }

        return (resident, swapped);
    }

    public void Dispose() => _handle.Dispose();
}
