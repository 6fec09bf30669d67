using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core.Proc;

/// <summary>How <see cref="PagemapReader"/> tells resident pages from the zero pages.</summary>
public enum PagemapCounting
{
    /// <summary>The <c>PAGEMAP_SCAN</c> ioctl (Linux 6.7+): present and not <c>PAGE_IS_PFNZERO</c>, exactly smaps' Rss.</summary>
    Scan,
    /// <summary>Older kernels: each page's entry, the zero page told apart by its flags (see <see cref="PagemapReader.Count"/>).</summary>
    Entries,
}

/// <summary>
/// Counts the resident and swapped pages of address ranges of one process from <c>/proc/PID/pagemap</c>. Where the
/// kernel has <c>PAGEMAP_SCAN</c> it asks for the ranges of present and swapped pages, with the zero pages marked
/// (<see cref="PagemapCounting.Scan"/>); before 6.7 it reads one 8-byte entry per page and tells the zero pages by
/// their flags, which also leaves out anonymous pages the kernel does not show exclusive (<see cref="PagemapCounting.Entries"/>).
/// Either way the kernel holds the target's mmap lock for 2 MiB of address space at a time (the entries' read walks
/// <c>PAGEMAP_WALK_SIZE</c> at a time; the scan is asked for 2 MiB windows, since one call would hold the lock over
/// the whole range), so a read never stalls the target the way smaps' walk of a whole VMA does. Needs the same
/// ptrace-read access as smaps; page frame numbers (CAP_SYS_ADMIN) are not needed.
/// </summary>
public sealed partial class PagemapReader : IDisposable
{
    /// <summary>Entries per read: 1 MiB of entries, 512 MiB of address space.</summary>
    public const int BlockEntries = 128 * 1024;

    private static readonly ulong PageSize = SystemPage.Size;
    private const ulong Present = 1UL << 63;
    private const ulong Swapped = 1UL << 62;
    private const ulong FilePage = 1UL << 61;
    private const ulong Exclusive = 1UL << 56;

    private const ulong ScanWindow = 2UL << 20;
    private const ulong PageIsPresent = 1 << 3;
    private const ulong PageIsSwapped = 1 << 4;
    private const ulong PageIsPfnZero = 1 << 5;
    private const int ScanArgWords = 12;

    // _IOWR('f', 16, struct pm_scan_arg): the same number on every architecture (the struct is twelve u64).
    private const nuint PagemapScanRequest = 0xC0606610;
    private const int Enotty = 25;
    private const int Einval = 22;
    private const int Enosys = 38;
    private const int Efault = 14;

    // Asked once of this process's own pagemap: a captured tree's regular file refuses the ioctl, the kernel may not.
    private static readonly Lazy<bool> s_kernelHasScan = new(KernelHasScan);

    private readonly SafeFileHandle _handle;
    private readonly ulong[] _block;
    private readonly int _pid;
    private readonly string _path;
    private GCHandle _pinnedBlock;

    private PagemapReader(SafeFileHandle handle, ulong[] block, int pid, string path, PagemapCounting counting)
    {
        _handle = handle;
        _block = block;
        _pid = pid;
        _path = path;
        Counting = counting;
    }

    /// <summary>Opens the process's pagemap; <paramref name="block"/> (<see cref="BlockEntries"/> long for whole mappings) is the caller's, reused.</summary>
    /// <exception cref="ProcessReadException">It cannot be opened (vanished, permission).</exception>
    public static PagemapReader Open(ProcFs procFs, int pid, ulong[] block) =>
        Open(procFs, pid, block, s_kernelHasScan.Value ? PagemapCounting.Scan : PagemapCounting.Entries);

    /// <summary>As <see cref="Open(ProcFs, int, ulong[])"/>, with the method chosen (the tests compare the two).</summary>
    public static PagemapReader Open(ProcFs procFs, int pid, ulong[] block, PagemapCounting counting)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(block.Length, 512, nameof(block));
        string path = procFs.PidPath(pid, "pagemap");
        try
        {
            return new PagemapReader(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), block, pid, path, counting);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            throw ProcReadErrors.Translate(pid, path, e);
        }
    }

    /// <summary>Whether this kernel has <c>PAGEMAP_SCAN</c> (Linux 6.7+); without it readers count entries.</summary>
    public static bool ScanSupported => s_kernelHasScan.Value;

    /// <summary>The method this reader counts with (it turns to <see cref="PagemapCounting.Entries"/> if its file refuses the scan).</summary>
    public PagemapCounting Counting { get; private set; }

    /// <summary>Pages looked at so far (for the benchmark).</summary>
    public long Entries { get; private set; }

    /// <summary>
    /// Resident and swapped bytes of [<paramref name="start"/>, <paramref name="end"/>), counted as smaps' Rss counts
    /// them: pagemap shows the shared zero page and the huge zero page as present, smaps and the RSS counters do not.
    /// The scan marks them. Counting entries, in an anonymous private mapping (<paramref name="anonymousPrivate"/>) a
    /// page counts when it is present, exclusive and not a file page (the zero page is not exclusive; the huge zero
    /// page reads as a file page), which misses anonymous pages shared after fork or by KSM and pages of a large
    /// folio the kernel reports as maybe shared; elsewhere when it is present and a file page or exclusive.
    /// </summary>
    /// <exception cref="ProcessReadException">The read failed (the process exited: vanished).</exception>
    public (long ResidentBytes, long SwapBytes) Count(ulong start, ulong end, bool anonymousPrivate)
    {
        if (Counting == PagemapCounting.Scan && TryScan(start, end, out (long, long) scanned))
        {
            return scanned;
        }

        return CountEntries(start, end, anonymousPrivate);
    }

    private bool TryScan(ulong start, ulong end, out (long ResidentBytes, long SwapBytes) result)
    {
        if (!_pinnedBlock.IsAllocated)
        {
            _pinnedBlock = GCHandle.Alloc(_block, GCHandleType.Pinned);
        }

        // The regions come back in the caller's block, three words each (start, end, categories).
        Span<PageRegion> regions = MemoryMarshal.Cast<ulong, PageRegion>(_block.AsSpan());
        Span<ulong> arg = stackalloc ulong[ScanArgWords];
        long resident = 0, swapped = 0;
        for (ulong window = start; window < end;)
        {
            ulong windowEnd = Math.Min(end, (window + ScanWindow) & ~(ScanWindow - 1));
            int count = Scan(_handle, arg, window, windowEnd, _pinnedBlock.AddrOfPinnedObject(), regions.Length);
            if (count < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is Enotty or Einval or Enosys)
                {
                    // No PAGEMAP_SCAN on this file (a captured tree's, an emulator's): entries, from the range's start.
                    Counting = PagemapCounting.Entries;
                    result = default;
                    return false;
                }

                if (errno == Efault)
                {
                    // Above the user address space ([vsyscall]): nothing more to count, as the entries' read says.
                    break;
                }

                throw new ProcessReadException(ReadFailure.Io, $"cannot scan {_path} of process {_pid}: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            foreach (ref readonly PageRegion region in regions[..count])
            {
                ulong pages = (region.End - region.Start) / PageSize;
                resident += (region.Categories & (PageIsPresent | PageIsPfnZero)) == PageIsPresent ? (long)pages : 0;
                swapped += (region.Categories & PageIsSwapped) != 0 ? (long)pages : 0;
            }

            // A full buffer ends the walk early at walk_end; an exited process's mm has no VMAs and walks to the end.
            ulong walkEnd = arg[4];
            Entries += (long)((Math.Max(walkEnd, window) - window) / PageSize);
            window = walkEnd > window ? walkEnd : windowEnd;
        }

        result = (resident * (long)PageSize, swapped * (long)PageSize);
        return true;
    }

    private (long ResidentBytes, long SwapBytes) CountEntries(ulong start, ulong end, bool anonymousPrivate)
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

    private static bool KernelHasScan()
    {
        var regions = new ulong[3];
        GCHandle pinned = GCHandle.Alloc(regions, GCHandleType.Pinned);
        try
        {
            using SafeFileHandle self = File.OpenHandle("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            Span<ulong> arg = stackalloc ulong[ScanArgWords];
            return Scan(self, arg, 0x10000, 0x20000, pinned.AddrOfPinnedObject(), 1) >= 0;
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            return false;
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>
    /// One <c>PAGEMAP_SCAN</c> of [<paramref name="start"/>, <paramref name="end"/>) for present and swapped pages, the
    /// zero pages marked, into <paramref name="regionCount"/> page_regions at <paramref name="regions"/>: their number,
    /// or -1 with errno set. <paramref name="arg"/> (struct pm_scan_arg) holds walk_end (word 4) afterwards.
    /// </summary>
    private static int Scan(SafeFileHandle pagemap, Span<ulong> arg, ulong start, ulong end, nint regions, int regionCount)
    {
        arg.Clear();
        arg[0] = ScanArgWords * sizeof(ulong); // size; flags (word 1) 0
        arg[2] = start;
        arg[3] = end;
        arg[5] = (ulong)regions; // vec
        arg[6] = (ulong)regionCount; // vec_len; max_pages (7) 0: no limit
        arg[10] = PageIsPresent | PageIsSwapped; // category_anyof_mask (category_inverted 8, category_mask 9: 0)
        arg[11] = PageIsPresent | PageIsSwapped | PageIsPfnZero; // return_mask
        return PagemapScan(pagemap, PagemapScanRequest, arg);
    }

    public void Dispose()
    {
        if (_pinnedBlock.IsAllocated)
        {
            _pinnedBlock.Free();
        }

        _handle.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int PagemapScan(SafeFileHandle fd, nuint request, Span<ulong> arg);

    /// <summary>struct page_region of linux/fs.h.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct PageRegion
    {
        public readonly ulong Start;
        public readonly ulong End;
        public readonly ulong Categories;
    }
}
