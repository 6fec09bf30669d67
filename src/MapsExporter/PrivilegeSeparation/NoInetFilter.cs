using System.Runtime.InteropServices;

namespace MapsExporter.PrivilegeSeparation;

/// <summary>
/// The scanner's own seccomp filter: socket(2) and socketpair(2) for any family but AF_UNIX fail with EACCES, on every
/// thread (SECCOMP_FILTER_FLAG_TSYNC: the runtime has started its threads before Main). A call from another
/// architecture's system call table (x32, i386 through int 0x80), whose numbers mean other calls, fails with EPERM, and
/// so does io_uring_setup (its IORING_OP_SOCKET would make sockets past the filter).
/// Set with no_new_privs, as an unprivileged process must; a filter can never be removed, only stacked.
/// </summary>
internal static partial class NoInetFilter
{
    private const uint AuditArchX8664 = 0xC000003E;
    private const uint AuditArchAarch64 = 0xC00000B7;
    private const uint X32SyscallBit = 0x40000000;

    /// <summary>io_uring_setup: 425 in both tables.</summary>
    private const uint IoUringSetup = 425;

    private const ushort LdAbsW = 0x20; // BPF_LD | BPF_W | BPF_ABS
    private const ushort JeqK = 0x15;   // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JgeK = 0x35;   // BPF_JMP | BPF_JGE | BPF_K
    private const ushort RetK = 0x06;   // BPF_RET | BPF_K

    private const uint RetAllow = 0x7fff0000;
    private const uint RetErrno = 0x00050000;

    private const int SeccompSetModeFilter = 1;
    private const int SeccompFilterFlagTsync = 1;

    /// <summary>seccomp_data: nr at 0, arch at 4, args[0] at 16 (its low 32 bits on both little-endian targets).</summary>
    private const uint OffsetNr = 0, OffsetArch = 4, OffsetArg0 = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct SockFilter(ushort code, byte jt, byte jf, uint k)
    {
        public ushort Code = code;
        public byte Jt = jt;
        public byte Jf = jf;
        public uint K = k;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct SockFprog
    {
        public ushort Length;
        public SockFilter* Filter;
    }

    /// <summary>The program, for this process's architecture (the arch check also refuses the other one).</summary>
    private static SockFilter[] Program()
    {
        uint arch = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? AuditArchAarch64 : AuditArchX8664;
        uint socket = (uint)LinuxCalls.Numbers.Socket, socketPair = (uint)LinuxCalls.Numbers.SocketPair;
        return
        [
            new(LdAbsW, 0, 0, OffsetArch),
            new(JeqK, 1, 0, arch),                         // 1: our table: go on
            new(RetK, 0, 0, RetErrno | LinuxCalls.Eperm),  // 2: another table
            new(LdAbsW, 0, 0, OffsetNr),
            new(JgeK, 0, 1, X32SyscallBit),                // 4: x32 numbers on x86-64
            new(RetK, 0, 0, RetErrno | LinuxCalls.Eperm),
            new(JeqK, 0, 1, IoUringSetup),                 // 6: io_uring's socket operations bypass seccomp
            new(RetK, 0, 0, RetErrno | LinuxCalls.Eperm),
            new(JeqK, 1, 0, socket),                       // 8
            new(JeqK, 0, 3, socketPair),                   // 9: neither: allow (at 13)
            new(LdAbsW, 0, 0, OffsetArg0),                 // 10: the family
            new(JeqK, 1, 0, LinuxCalls.AfUnix),            // 11: AF_UNIX: allow (at 13)
            new(RetK, 0, 0, RetErrno | LinuxCalls.Eacces), // 12
            new(RetK, 0, 0, RetAllow),                     // 13
        ];
    }

    /// <summary>Applies the filter to every thread of this process; the error number on failure, 0 on success.</summary>
    public static unsafe int Apply()
    {
        if (LinuxCalls.Prctl(LinuxCalls.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        SockFilter[] program = Program();
        fixed (SockFilter* filter = program)
        {
            var fprog = new SockFprog { Length = (ushort)program.Length, Filter = filter };
            nint result = LinuxCalls.Syscall(LinuxCalls.Numbers.Seccomp, SeccompSetModeFilter, SeccompFilterFlagTsync, (nint)(&fprog));
            // With TSYNC a positive result is the id of a thread that could not be synchronised.
            return result == 0 ? 0 : result > 0 ? LinuxCalls.Eperm : Marshal.GetLastPInvokeError();
        }
    }

    /// <summary>Tries socket(AF_INET); the error number it failed with, or 0 when it was created (and closed at once).</summary>
    public static int ProbeInet()
    {
        int fd = LinuxCalls.Socket(LinuxCalls.AfInet, LinuxCalls.SockStream | LinuxCalls.SockCloexec, 0);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeError();
        }

        LinuxCalls.Close(fd);
        return 0;
    }
}
