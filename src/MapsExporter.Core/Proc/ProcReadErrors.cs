namespace MapsExporter.Core.Proc;

/// <summary>
/// The one translation of a failed read of a process's /proc file into the scan's reasons: <c>vanished</c> (no such
/// file or directory, or ESRCH from a task that exited between open and read), <c>permission</c> (with what the
/// daemon lacks), <c>io</c> (anything else). Parse errors are the parsers' (<see cref="Parsing.ProcParseException"/>).
/// </summary>
public static class ProcReadErrors
{
    // ESRCH: .NET puts the errno in HResult; the message test covers runtimes that do not.
    private const int NoSuchProcess = 3;

    /// <summary>True when <paramref name="e"/> says the process (or thread) is gone.</summary>
    public static bool IsGone(Exception e) =>
        e is FileNotFoundException or DirectoryNotFoundException
        || (e is IOException && (e.HResult == NoSuchProcess || e.Message.Contains("No such process", StringComparison.Ordinal)));

    /// <summary>True for the exceptions a read of a /proc file throws (the ones <see cref="Translate"/> takes).</summary>
    public static bool IsReadFailure(Exception e) => e is IOException or UnauthorizedAccessException;

    /// <summary>The scan's reason for a failed read of <paramref name="path"/> of process <paramref name="pid"/>.</summary>
    public static ProcessReadException Translate(int pid, string path, Exception e)
    {
        if (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new ProcessReadException(ReadFailure.Vanished, $"process {pid} does not exist (no {path})", e);
        }

        if (IsGone(e))
        {
            return new ProcessReadException(ReadFailure.Vanished, $"process {pid} exited while {path} was read", e);
        }

        if (e is UnauthorizedAccessException)
        {
            return new ProcessReadException(
                ReadFailure.Permission,
                $"cannot read {path}: permission denied; reading another user's process memory map needs ptrace read access (run as the process's user or root, or grant CAP_SYS_PTRACE)",
                e);
        }

        return new ProcessReadException(ReadFailure.Io, $"cannot read {path}: {e.Message}", e);
    }
}
