namespace MapsExporter.Core.Proc;

/// <summary>Why a process could not be read; the daemon counts errors by this reason.</summary>
public enum ReadFailure
{
    /// <summary>The process exited before or while it was read.</summary>
    Vanished,
    /// <summary>The kernel refused access (ptrace read permission is missing).</summary>
    Permission,
    /// <summary>A file did not parse.</summary>
    Parse,
    /// <summary>Another I/O error.</summary>
    Io,
    /// <summary>The process's cgroup could not be read or placed (it is still reported, with what could be read).</summary>
    Cgroup,
}

public sealed class ProcessReadException : Exception
{
    public ProcessReadException(ReadFailure reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public ProcessReadException()
    {
    }

    public ProcessReadException(string message)
        : base(message)
    {
    }

    public ProcessReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ReadFailure Reason { get; }

    public static string LabelOf(ReadFailure reason) => reason switch
    {
        ReadFailure.Vanished => "vanished",
        ReadFailure.Permission => "permission",
        ReadFailure.Parse => "parse",
        ReadFailure.Cgroup => "cgroup",
        _ => "io",
    };
}
