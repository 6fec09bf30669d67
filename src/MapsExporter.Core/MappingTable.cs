using System.Text;

namespace MapsExporter.Core;

/// <summary>
/// The mappings of one process, in address order, with their path names interned: parsing a file
/// allocates once per distinct path, not once per mapping, and a table is reused across reads.
/// </summary>
public sealed class MappingTable
{
    private Mapping[] _items = new Mapping[256];
    private readonly List<string> _paths = [];
    private readonly Dictionary<string, int> _pathIds = new(StringComparer.Ordinal);
    private char[] _decodeBuffer = new char[256];

    public int Count { get; private set; }

    /// <summary>True when the source was smaps: resident, proportional and swap sizes are known.</summary>
    public bool HasSmapsFields { get; internal set; }

    public ReadOnlySpan<Mapping> Items => _items.AsSpan(0, Count);

    public ref readonly Mapping this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return ref _items[index];
        }
    }

    public string? PathOf(in Mapping mapping) => mapping.PathId < 0 ? null : _paths[mapping.PathId];

    public string? PathOf(int index) => PathOf(_items[index]);

    public void Clear()
    {
        Count = 0;
        HasSmapsFields = false;
        // The path table is kept: the same process (or the next JVM) maps mostly the same files.
        if (_paths.Count > 4096)
        {
            _paths.Clear();
            _pathIds.Clear();
        }
    }

    internal void Add(in Mapping mapping)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[Count++] = mapping;
    }

    internal ref Mapping Last => ref _items[Count - 1];

    internal int InternPath(ReadOnlySpan<byte> utf8)
    {
        int maxChars = Encoding.UTF8.GetMaxCharCount(utf8.Length);
        if (_decodeBuffer.Length < maxChars)
        {
            _decodeBuffer = new char[Math.Max(maxChars, _decodeBuffer.Length * 2)];
        }

        int length = Encoding.UTF8.GetChars(utf8, _decodeBuffer);
        ReadOnlySpan<char> chars = _decodeBuffer.AsSpan(0, length);
        var lookup = _pathIds.GetAlternateLookup<ReadOnlySpan<char>>();
        if (lookup.TryGetValue(chars, out int id))
        {
            return id;
        }

        id = _paths.Count;
        string path = chars.ToString();
        _paths.Add(path);
        _pathIds.Add(path, id);
        return id;
    }
}
