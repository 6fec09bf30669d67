using System.Runtime.InteropServices;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The few Linux calls privilege separation needs, through libc (no NuGet); seccomp(2) through the raw <c>syscall</c>,
/// which glibc does not wrap.
/// </summary>
internal static partial class LinuxCalls
{
    public const int AfUnix = 1;
    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int SockStream = 1;
    public const int SockCloexec = 0x80000;

    public const int PrSetPdeathsig = 1;
    public const int PrSetDumpable = 4;
    public const int PrCapbsetDrop = 24;
    public const int PrSetNoNewPrivs = 38;
    public const int PrCapAmbient = 47;
    public const int PrCapAmbientClearAll = 4;

    public const int FGetFd = 1;
    public const int FSetFd = 2;
    public const int FdCloexec = 1;

    public const uint MfdCloexec = 1;

    public const int Eacces = 13;
    public const int Eperm = 1;

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, Span<int> fds);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>The raw system call, by number.</summary>
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial nint Syscall(nint number, nint arg1, nint arg2, nint arg3);

    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint GetUid();

    /// <summary>System call numbers that differ between the two architectures the binary is built for.</summary>
    public static class Numbers
    {
        private static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

        public static nint Socket => Arm64 ? 198 : 41;

        public static nint SocketPair => Arm64 ? 199 : 53;

        public static nint Seccomp => Arm64 ? 277 : 317;

        public static nint Capset => Arm64 ? 91 : 126;
    }
}
