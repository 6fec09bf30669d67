using MapsExporter.Core.Parsing.Maps;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// A process runs a HotSpot JVM when it maps <c>libjvm.so</c>: that covers <c>java</c>, jsvc, jpackage launchers and
/// JNI embedders whose comm and exe say nothing of Java. (OpenJ9 maps libj9vm*.so and is not HotSpot.)
/// </summary>
public static class JvmDetector
{
    public static bool MapsLibJvm(MappingTable table)
    {
        foreach (ref readonly Mapping m in table.Items)
        {
            if (m.Kind == MappingKind.File && IsLibJvm(table.PathOf(m)))
            {
                return true;
            }
        }

        return false;
    }

    public static bool IsLibJvm(string? path) =>
        FileMappingClassifier.BaseName(FileMappingClassifier.StripDeleted(path)).SequenceEqual("libjvm.so");

    /// <summary>Cheap test on raw maps text, without building a table: used to pick JVMs out of every process.</summary>
    public static bool MapsTextHasLibJvm(ReadOnlySpan<byte> maps) =>
        maps.IndexOf("/libjvm.so\n"u8) >= 0 || maps.IndexOf("/libjvm.so (deleted)\n"u8) >= 0;
}
