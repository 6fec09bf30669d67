namespace MapsExporter.Core.Parsing;

/// <summary>Splits UTF-8 text into lines without allocating; a final line without newline is still returned.</summary>
public ref struct LineEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public LineEnumerator(ReadOnlySpan<byte> text)
    {
        _rest = text;
        Current = default;
    }

    public ReadOnlySpan<byte> Current { get; private set; }

    public readonly LineEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        int newline = _rest.IndexOf((byte)'\n');
        if (newline < 0)
        {
            Current = _rest;
            _rest = [];
        }
        else
        {
            Current = _rest[..newline];
            _rest = _rest[(newline + 1)..];
        }

        return true;
    }
}
