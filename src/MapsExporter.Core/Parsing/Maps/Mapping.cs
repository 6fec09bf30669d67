using MapsExporter.Core.Parsing.Smaps;

namespace MapsExporter.Core.Parsing.Maps;

/// <summary>What the last column of a maps line names.</summary>
public enum MappingKind : byte
{
    Anonymous,
    File,
    /// <summary><c>[heap]</c>: the brk area, glibc's main arena.</summary>
    Heap,
    /// <summary><c>[stack]</c>: the main thread's stack.</summary>
    Stack,
    /// <summary><c>[vdso]</c>, <c>[vvar]</c>, <c>[vvar_vclock]</c>, <c>[vsyscall]</c>, <c>[uprobes]</c>.</summary>
    Kernel,
    /// <summary><c>[anon:NAME]</c> (PR_SET_VMA_ANON_NAME) or another bracketed pseudo-path.</summary>
    NamedAnonymous,
}

/// <summary>
/// One line of maps (and, from smaps, its sizes and flags). Sizes from smaps are in bytes and are -1 when
/// the source was a maps file, which has no resident figures.
/// </summary>
public readonly record struct Mapping(
    ulong Start,
    ulong End,
    Permissions Permissions,
    ulong Offset,
    uint Device,
    ulong Inode,
    MappingKind Kind,
    int PathId,
    long ResidentBytes,
    long ProportionalBytes,
    long SwapBytes,
    VmFlags Flags)
{
    public ulong Size => End - Start;

    public bool IsAnonymous => Kind is MappingKind.Anonymous;

    public bool IsPrivateReadWrite => (Permissions & ~Permissions.Execute) == (Permissions.Read | Permissions.Write);

    /// <summary>Anonymous private memory (no inode, not a kernel mapping such as [vdso], not shared): where pagemap shows the zero pages as present.</summary>
    public bool IsAnonymousPrivateMemory => Inode == 0 && Kind is not (MappingKind.Kernel or MappingKind.File) && (Permissions & Permissions.Shared) == 0;

    public bool IsNoAccess => (Permissions & (Permissions.Read | Permissions.Write | Permissions.Execute)) == 0;

    public bool HasFlag(VmFlags flag) => (Flags & flag) == flag;
}
