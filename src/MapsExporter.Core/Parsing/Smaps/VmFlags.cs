namespace MapsExporter.Core.Parsing.Smaps;

/// <summary>
/// The smaps <c>VmFlags</c> that tell regions apart. Only the ones the classifier uses are kept;
/// <see cref="Known"/> records that the line was present at all (a maps dump has none).
/// </summary>
[Flags]
public enum VmFlags : ushort
{
    None = 0,
    Known = 1 << 0,
    /// <summary><c>ac</c>: the kernel accounts the mapping (HotSpot commits with mmap, which sets it).</summary>
    Accountable = 1 << 1,
    /// <summary><c>nr</c>: MAP_NORESERVE; glibc arena heaps keep it after mprotect.</summary>
    NoReserve = 1 << 2,
    /// <summary><c>nh</c>: no huge pages; MAP_STACK sets it since Linux 6.7.</summary>
    NoHugePage = 1 << 3,
    /// <summary><c>gd</c>: grows down, the main thread's stack.</summary>
    GrowsDown = 1 << 4,
    /// <summary><c>sd</c>: soft-dirty; not used, kept so parsing stays table driven.</summary>
    SoftDirty = 1 << 5,
    /// <summary><c>hg</c>: MADV_HUGEPAGE advised.</summary>
    HugePage = 1 << 6,
    /// <summary><c>ht</c>: hugetlbfs.</summary>
    HugeTlb = 1 << 7,
    /// <summary><c>dd</c>: not included in core dumps.</summary>
    DontDump = 1 << 8,
    /// <summary><c>lo</c>: locked.</summary>
    Locked = 1 << 9,
}
