using MapsExporter.Core.Parsing;

namespace MapsExporter.Core.Proc;

/// <summary>
/// The one way a scan reads a process's /proc files: through <see cref="ProcFs"/>'s root, into one reusable buffer
/// (<see cref="ProcFileReader"/>), each failure translated once (<see cref="ProcReadErrors"/>) into a
/// <see cref="ProcessReadException"/> that names the file. A span returned is valid until the next read.
/// Not thread-safe: one per scanning loop.
/// </summary>
public sealed class ProcessFiles(ProcFs procFs) : IDisposable
{
    private readonly ProcFileReader _reader = new();

    public ProcFs ProcFs { get; } = procFs;

    /// <summary>The buffer behind every read, for readers of files that are not the process's own (hsperfdata, task files).</summary>
    public ProcFileReader Reader => _reader;

    /// <summary>Checked before every read() of a file: set it to stop a long read (a huge smaps) part-way.</summary>
    public CancellationToken Cancellation
    {
        get => _reader.Cancellation;
        set => _reader.Cancellation = value;
    }

    /// <summary><c>/proc/PID/FILE</c>, whole.</summary>
    public ReadOnlySpan<byte> Read(int pid, string file)
    {
        string path = ProcFs.PidPath(pid, file);
        try
        {
            return _reader.ReadAll(path);
        }
        catch (Exception e) when (ProcReadErrors.IsReadFailure(e))
        {
            throw ProcReadErrors.Translate(pid, path, e);
        }
    }

    /// <summary><c>/proc/PID/stat</c>: the process's identity (start time, comm) and its thread count and size.</summary>
    public ProcStat ReadStat(int pid) => ParseOrThrow(pid, "stat", static (text, source) => ProcStatParser.Parse(text, source));

    /// <summary>Resident bytes from <c>/proc/PID/statm</c> (the kernel's counters: no page-table walk), or -1 when unknown.</summary>
    public long ReadResidentBytes(int pid)
    {
        try
        {
            return StatmReader.ParseResidentBytes(Read(pid, "statm"));
        }
        catch (ProcessReadException)
        {
            // Unknown: the read that follows reports what is wrong with the process.
            return -1;
        }
    }

    /// <summary>Reads and parses <c>/proc/PID/FILE</c>; a parse error becomes the scan's <c>parse</c> reason.</summary>
    public T ParseOrThrow<T>(int pid, string file, SpanParser<T> parse) =>
        ParseOrThrow(pid, file, parse, static (text, source, parse) => parse(text, source));

    /// <summary>The same with an argument for the parser (a static lambda then allocates no closure).</summary>
    public T ParseOrThrow<TArg, T>(int pid, string file, TArg arg, SpanParser<TArg, T> parse)
    {
        ReadOnlySpan<byte> text = Read(pid, file);
        try
        {
            return parse(text, ProcFs.PidPath(pid, file), arg);
        }
        catch (ProcParseException e)
        {
            throw new ProcessReadException(ReadFailure.Parse, e.Message, e);
        }
    }

    /// <summary>Gives back a read buffer grown for a file much larger than any read since the last call (see <see cref="ProcFileReader.TrimExcess"/>).</summary>
    public void TrimBuffers() => _reader.TrimExcess();

    public void Dispose() => _reader.Dispose();
}

/// <summary>Parses a file's text; <paramref name="source"/> names it in errors.</summary>
public delegate T SpanParser<out T>(ReadOnlySpan<byte> text, string source);

/// <summary>Parses a file's text with an argument; <paramref name="source"/> names it in errors.</summary>
public delegate T SpanParser<in TArg, out T>(ReadOnlySpan<byte> text, string source, TArg arg);
