using System.Buffers.Binary;
using System.Text;
using MapsExporter.Core.Parsing;
using MapsExporter.Core.Proc;

namespace MapsExporter.Core.Classifying.HotSpot;

/// <summary>
/// The JVM's own counters from its hsperfdata file (what jstat reads, no attach): heap and metaspace sizes,
/// collector, version, main class. Only the counters named here are kept; <c>java.rt.vmArgs</c>, properties
/// and other strings that could hold secrets are never read into memory as strings.
/// Layout: OpenJDK perfMemory.hpp (prologue) and jdk.internal.jvmstat v2_0/PerfDataBuffer (entries).
/// </summary>
public sealed class HsPerfData
{
    private const uint Magic = 0xCAFEC0C0;
    private const int PrologueSize = 32;
    private static readonly long Page = (long)SystemPage.Size;

    private static readonly HashSet<string> WantedStrings = new(StringComparer.Ordinal)
    {
        "java.property.java.vm.version", "java.property.java.vm.name", "sun.rt.javaCommand", "sun.gc.policy.name", "sun.gc.collector.0.name", "sun.gc.collector.1.name",
        "sun.gc.collector.2.name",
    };

    private readonly Dictionary<string, long> _longs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    private HsPerfData()
    {
    }

    public long? Counter(string name) => _longs.TryGetValue(name, out long v) ? v : null;

    public string? Text(string name) => _strings.TryGetValue(name, out string? v) ? v : null;

    /// <summary>The JVM's version (java.vm.version), e.g. <c>17.0.15+6-Debian-1deb12u1</c>.</summary>
    public string? JvmVersion => Text("java.property.java.vm.version");

    /// <summary>The VM's name (java.vm.name), e.g. <c>OpenJDK 64-Bit Server VM</c> or <c>OpenJDK 64-Bit Zero VM</c>.</summary>
    public string? VmName => Text("java.property.java.vm.name");

    /// <summary>The main class or jar: the first word of sun.rt.javaCommand; the rest (arguments) is dropped.</summary>
    public string? MainClass
    {
        get
        {
            string? command = Text("sun.rt.javaCommand");
            if (string.IsNullOrWhiteSpace(command))
            {
                return null;
            }

            // "com.example.Main args", "/srv/app.jar args" or "module/com.example.Main args": the class or jar name only.
            string first = command.Split(' ', 2)[0];
            return AppNameResolver.Sanitize(first[(first.LastIndexOf('/') + 1)..]);
        }
    }

    /// <summary>The collector: G1, Parallel, Serial, ZGC or Shenandoah (the first word of its counters' names).</summary>
    public string? GcName
    {
        get
        {
            for (int i = 0; i < 3; i++)
            {
                if (Text($"sun.gc.collector.{i}.name") is { Length: > 0 } name)
                {
                    string first = name.Split(' ', 2)[0];
                    return first is "Z" ? "ZGC" : AppNameResolver.Sanitize(first);
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Heap reservation. Region-based collectors (G1, ZGC, Shenandoah) give each generation the whole heap as its
    /// maximum (JDK 17's ZGC has only the old one; JDK 17's G1 adds a few bytes); Serial and Parallel split the
    /// heap into young and old. Rounded down to the page: the reservation is whole pages.
    /// </summary>
    public long? HeapMaxBytes
    {
        get
        {
            long? young = Counter("sun.gc.generation.0.maxCapacity"), old = Counter("sun.gc.generation.1.maxCapacity");
            if (young is null && old is null)
            {
                return null;
            }

            long max = IsRegionBased ? Math.Max(young ?? 0, old ?? 0) : (young ?? 0) + (old ?? 0);
            return max / Page * Page;
        }
    }

    /// <summary>Committed heap: the generations' capacities (JDK 17's G1 adds a few bytes: rounded down to the page).</summary>
    public long? HeapCommittedBytes => Sum("sun.gc.generation.0.capacity", "sun.gc.generation.1.capacity", sumWhenRegionBased: true) / Page * Page;

    public long? HeapUsedBytes
    {
        get
        {
            long total = 0;
            bool any = false;
            for (int g = 0; g < 2; g++)
            {
                for (int s = 0; s < 4; s++)
                {
                    if (Counter($"sun.gc.generation.{g}.space.{s}.used") is { } used)
                    {
                        total += used;
                        any = true;
                    }
                }
            }

            return any ? total : null;
        }
    }

    public long? MetaspaceMaxBytes => Counter("sun.gc.metaspace.maxCapacity");

    public long? MetaspaceCommittedBytes => Counter("sun.gc.metaspace.capacity");

    public long? ClassSpaceMaxBytes => Counter("sun.gc.compressedclassspace.maxCapacity");

    /// <summary>G1, Shenandoah and ZGC describe the heap as regions: both generations share one maximum.</summary>
    private bool IsRegionBased => GcName is "G1" or "ZGC" or "Shenandoah";

    private long? Sum(string a, string b, bool sumWhenRegionBased)
    {
        long? x = Counter(a), y = Counter(b);
        if (x is null && y is null)
        {
            return null;
        }

        return sumWhenRegionBased || !IsRegionBased ? (x ?? 0) + (y ?? 0) : Math.Max(x ?? 0, y ?? 0);
    }

    /// <summary>Parses an hsperfdata file; null if it is not one (wrong magic, byte order or version, bad offsets).</summary>
    public static HsPerfData? Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < PrologueSize || BinaryPrimitives.ReadUInt32BigEndian(data) != Magic || data[4] != 1 || data[5] != 2)
        {
            return null;
        }

        int used = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        int entryOffset = BinaryPrimitives.ReadInt32LittleEndian(data[24..]);
        int entries = BinaryPrimitives.ReadInt32LittleEndian(data[28..]);
        int limit = Math.Min(data.Length, used > 0 ? used : data.Length);
        if (entryOffset < PrologueSize || entryOffset > limit || entries < 0 || entries > 100_000)
        {
            return null;
        }

        var result = new HsPerfData();
        int offset = entryOffset;
        for (int i = 0; i < entries; i++)
        {
            if (offset + 20 > limit)
            {
                break;
            }

            ReadOnlySpan<byte> entry = data[offset..limit];
            int length = BinaryPrimitives.ReadInt32LittleEndian(entry);
            int nameOffset = BinaryPrimitives.ReadInt32LittleEndian(entry[4..]);
            int vectorLength = BinaryPrimitives.ReadInt32LittleEndian(entry[8..]);
            byte type = entry[12];
            int dataOffset = BinaryPrimitives.ReadInt32LittleEndian(entry[16..]);
            if (length <= 0 || length > entry.Length || nameOffset < 20 || nameOffset >= length || dataOffset < 20 || dataOffset > length)
            {
                break;
            }

            ReadOnlySpan<byte> name = entry[nameOffset..length];
            int nul = name.IndexOf((byte)0);
            name = nul < 0 ? name : name[..nul];
            string key = Encoding.ASCII.GetString(name);
            if (type == (byte)'J' && vectorLength == 0 && dataOffset + 8 <= length)
            {
                result._longs[key] = BinaryPrimitives.ReadInt64LittleEndian(entry[dataOffset..]);
            }
            else if (type == (byte)'B' && vectorLength > 0 && WantedStrings.Contains(key))
            {
                ReadOnlySpan<byte> value = entry[dataOffset..Math.Min(length, dataOffset + vectorLength)];
                int end = value.IndexOf((byte)0);
                result._strings[key] = Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
            }

            offset += length;
        }

        return result;
    }
}
