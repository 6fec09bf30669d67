using Microsoft.Win32.SafeHandles;

namespace MapsExporter.Core;

/// <summary>Reads another process's memory at an address.</summary>
public interface IProcessMemory
{
    /// <summary>Fills <paramref name="buffer"/> from <paramref name="address"/>; false if the range is not readable.</summary>
    bool TryRead(ulong address, Span<byte> buffer);
}

/// <summary>
/// Reads a process's memory through <c>/proc/PID/mem</c>, which needs ptrace-read permission (root or
/// CAP_SYS_PTRACE, or the same user with a permissive yama scope). Reading a PROT_NONE page fails with EIO,
/// which is an answer, not an error.
/// </summary>
public sealed class ProcessMemoryReader : IProcessMemory, IDisposable
{
    private readonly SafeFileHandle _handle;

    private ProcessMemoryReader(SafeFileHandle handle)
    {
        _handle = handle;
    }

    /// <summary>Opens the process's memory, or returns null with the reason (permission, vanished) when it cannot.</summary>
    public static ProcessMemoryReader? TryOpen(ProcFs procFs, int pid, out string? reason)
    {
        string path = procFs.PidPath(pid, "mem");
        try
        {
            reason = null;
            return new ProcessMemoryReader(File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        }
        catch (UnauthorizedAccessException)
        {
            reason = $"cannot open {path}: permission denied (needs CAP_SYS_PTRACE)";
        }
        catch (IOException e)
        {
            reason = $"cannot open {path}: {e.Message}";
        }

        return null;
    }

    public bool TryRead(ulong address, Span<byte> buffer)
    {
        if (address > long.MaxValue)
        {
            return false;
        }

        try
        {
            int total = 0;
            while (total < buffer.Length)
            {
                int read = RandomAccess.Read(_handle, buffer[total..], (long)address + total);
                if (read <= 0)
                {
                    return false;
                }

                total += read;
            }

            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose() => _handle.Dispose();
}
