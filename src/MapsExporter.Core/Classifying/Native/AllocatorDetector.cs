using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.Native;

/// <summary>
/// Names a process's malloc from what it maps and from glibc's main arena. An allocator library (jemalloc, tcmalloc,
/// mimalloc) mapped next to libc.so.6 replaces glibc's malloc when it was preloaded or linked, and then the main
/// arena is never initialised; one dlopened by a library (RTLD_LOCAL) does not, and glibc's main arena then is in
/// use: glibc. libc.so.6 alone with an uninitialised main arena is a program with its own malloc linked in: other.
/// musl's libc (ld-musl-ARCH.so.1, Debian's /usr/lib/ARCH-linux-musl/libc.so) is musl. Nothing mapped (a static
/// binary) cannot be told: other. The environment and command line (LD_PRELOAD) are never read.
/// </summary>
public static class AllocatorDetector
{
    /// <param name="table">The process's mappings (their file names).</param>
    /// <param name="mainArenaInitialised">glibc's main arena has been set up (true), never was (false), or was not read (null).</param>
    public static NativeAllocator Detect(MappingTable table, bool? mainArenaInitialised)
    {
        NativeAllocator? library = null;
        bool glibc = false, musl = false;
        foreach (ref readonly Mapping m in table.Items)
        {
            if (m.Kind != MappingKind.File)
            {
                continue;
            }

            ReadOnlySpan<char> path = FileMappingClassifier.StripDeleted(table.PathOf(m));
            ReadOnlySpan<char> name = FileMappingClassifier.BaseName(path);
            library ??= LibraryAllocator(name);
            glibc |= IsGlibc(name);
            musl |= IsMusl(path, name);
        }

        if (musl)
        {
            return library ?? NativeAllocator.Musl;
        }

        if (!glibc)
        {
            return library ?? NativeAllocator.Other;
        }

        return (library, mainArenaInitialised) switch
        {
            (not null, true) => NativeAllocator.Glibc,
            (not null, _) => library.Value,
            (null, false) => NativeAllocator.Other,
            _ => NativeAllocator.Glibc,
        };
    }

    /// <summary>libjemalloc.so.2, libtcmalloc.so.4, libtcmalloc_minimal.so.4.5.10, libmimalloc.so.2.0, libmimalloc-secure.so.</summary>
    private static NativeAllocator? LibraryAllocator(ReadOnlySpan<char> name) =>
        IsLibrary(name, "libjemalloc") ? NativeAllocator.Jemalloc
        : IsLibrary(name, "libtcmalloc") ? NativeAllocator.Tcmalloc
        : IsLibrary(name, "libmimalloc") ? NativeAllocator.Mimalloc
        : null;

    private static bool IsLibrary(ReadOnlySpan<char> name, string stem) =>
        name.StartsWith(stem, StringComparison.Ordinal) && name.Contains(".so", StringComparison.Ordinal)
        && (name.Length == stem.Length || name[stem.Length] is '.' or '_' or '-');

    /// <summary>libc.so.6, or libc-2.NN.so before glibc 2.34 named it so.</summary>
    private static bool IsGlibc(ReadOnlySpan<char> name) =>
        name.SequenceEqual("libc.so.6") || (name.StartsWith("libc-2.", StringComparison.Ordinal) && name.EndsWith(".so", StringComparison.Ordinal));

    private static bool IsMusl(ReadOnlySpan<char> path, ReadOnlySpan<char> name) =>
        name.StartsWith("ld-musl-", StringComparison.Ordinal) || name.StartsWith("libc.musl-", StringComparison.Ordinal)
        || (name.SequenceEqual("libc.so") && path.Contains("-musl/", StringComparison.Ordinal));
}
