namespace MapsExporter.Core.Parsing;

/// <summary>A /proc file or a dump that does not parse; the message names the source and the line.</summary>
public sealed class ProcParseException : Exception
{
    public ProcParseException(string source, int line, string problem)
        : base(line > 0 ? $"{source}: line {line}: {problem}" : $"{source}: {problem}")
    {
        Source = source;
        Line = line;
        Problem = problem;
    }

    public ProcParseException()
    {
    }

    public ProcParseException(string message)
        : base(message)
    {
    }

    public ProcParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public new string? Source { get; }

    public int Line { get; }

    public string? Problem { get; }
}
