using System.Text.RegularExpressions;
using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Tests.Core;

/// <summary>
/// What a maps line's pathname says the mapping is, from the kernel's own rules (man 5 proc, "/proc/pid/maps", and
/// show_map_vma in fs/proc/task_mmu.c), written apart from MapsLineParser: the line is read as text, its pathname and
/// inode taken by a pattern, and the first rule of <see cref="Rules"/> whose pattern matches the pathname decides.
/// It is the reference parsers' classification, so that the equivalence tests can catch a mistake in the parser's.
/// </summary>
internal static partial class MappingKindOracle
{
    /// <summary>In the kernel's order of checks: a mapping with a file prints the file's path, else the kernel's name for it.</summary>
    private static readonly (Regex Pathname, MappingKind Kind, string Rule)[] Rules =
    [
        (new("^$"), MappingKind.Anonymous, "blank pathname: an anonymous mapping (mmap MAP_ANONYMOUS)"),
        (new(@"^\[heap\]$"), MappingKind.Heap, "[heap]: the process's heap (brk)"),
        (new(@"^\[stack\]$"), MappingKind.Stack, "[stack]: the initial thread's stack"),
        (new(@"^\[(vdso|vvar|vvar_vclock|vsyscall|uprobes)\]$"), MappingKind.Kernel, "a special mapping the kernel provides: the vDSO, its data pages, the vsyscall page, uprobes' XOL area"),
        (new(@"^\[anon(_shmem)?:"), MappingKind.NamedAnonymous, "[anon:NAME] / [anon_shmem:NAME]: an anonymous (or shared anonymous) mapping named with prctl(PR_SET_VMA_ANON_NAME)"),
        (new(@"^\["), MappingKind.NamedAnonymous, "any other name in brackets: a pseudo-path, no file behind it"),
        (new("^/"), MappingKind.File, "a file's path (d_path), ' (deleted)' once unlinked: memfd:NAME, SYSV shared memory and /dev/zero (MAP_SHARED anonymous) are files too"),
    ];

    /// <summary>The kind of the mapping <paramref name="line"/> (one maps line, no newline) describes, and the rule that said so.</summary>
    public static (MappingKind Kind, string Rule) Classify(string line)
    {
        Match fields = Fields().Match(line);
        if (!fields.Success)
        {
            throw new ArgumentException($"not a maps line: '{line}'", nameof(line));
        }

        string pathname = fields.Groups["pathname"].Value;
        foreach (var (pattern, kind, rule) in Rules)
        {
            if (pattern.IsMatch(pathname))
            {
                return (kind, rule);
            }
        }

        // Neither a path from / nor a bracketed name (anon_inode:[...], a file outside the process's root): the inode
        // column says whether a file is behind it.
        return fields.Groups["inode"].Value.AsSpan().IndexOfAnyInRange('1', '9') >= 0
            ? (MappingKind.File, "a name with a file behind it (inode not 0)")
            : (MappingKind.NamedAnonymous, "a name with no file behind it (inode 0)");
    }

    // address perms offset dev inode, then the padding and the pathname (which may hold spaces).
    [GeneratedRegex("^[^ ]+ [^ ]+ [^ ]+ [^ ]+ (?<inode>[^ ]+)(?: +(?<pathname>.*))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Fields();
}
