using MapsExporter.Core.Cgroups;

namespace MapsExporter.Tests.Core.Cgroups;

/// <summary>
/// Paths relative to a private cgroup namespace (a DaemonSet on a cgroup-v2 containerd host) resolved in the host's
/// tree mounted into the container: the mount's root field in our mountinfo says how far above our namespace root
/// it is, our own PID in cgroup.procs at that depth says which directory our root is (cgroup-v2.rst, "The Root and Views").
/// </summary>
public sealed class CgroupNamespaceRootTests : IDisposable
{
    private const string Ours = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod11111111_2222_3333_4444_555555555555.slice/cri-containerd-1111111111111111111111111111111111111111111111111111111111111111.scope";
    private const string Theirs = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod66666666_7777_8888_9999_000000000000.slice/cri-containerd-2222222222222222222222222222222222222222222222222222222222222222.scope";
    private readonly string _mount = Directory.CreateTempSubdirectory("host-cgroup-").FullName;

    public CgroupNamespaceRootTests()
    {
        File.WriteAllText(Path.Combine(_mount, "cgroup.controllers"), "memory\n");
        foreach (string cgroup in (string[])[Ours, Theirs, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podaaaa.slice/cri-containerd-3333333333333333333333333333333333333333333333333333333333333333.scope"])
        {
            Directory.CreateDirectory(_mount + cgroup);
            File.WriteAllText(_mount + cgroup + "/cgroup.procs", cgroup == Ours ? "1\n4242\n" : "77\n");
        }
    }

    [Fact]
    public void Another_pods_relative_path_resolves_to_its_host_path()
    {
        // Our namespace root is our container's cgroup, four levels below the host's root: the host mount shows as /../../../..
        string mountInfo = $"1550 1540 0:30 /../../../.. {_mount} ro,nosuid,nodev,noexec,relatime master:9 - cgroup2 cgroup2 rw,nsdelegate\n";
        CgroupNamespaceRoot? root = CgroupNamespaceRoot.Find(_mount, "cgroup:[4026532712]", mountInfo, "/", 4242);
        Assert.Equal(new CgroupNamespaceRoot(Ours), root);
        var fs = new CgroupFs(_mount, root);
        // What /proc/PID/cgroup of the other pod's JVM reads from inside our namespace.
        Assert.Equal(Theirs, fs.Absolute("/../../../kubepods-besteffort.slice/kubepods-besteffort-pod66666666_7777_8888_9999_000000000000.slice/cri-containerd-2222222222222222222222222222222222222222222222222222222222222222.scope"));
        Assert.Equal(Ours, fs.Absolute("/"));
        Assert.Null(fs.Absolute("/../../../../../beyond"));
    }

    [Fact]
    public void The_init_namespace_needs_no_root_and_a_mount_of_elsewhere_gives_none()
    {
        Assert.Null(CgroupNamespaceRoot.Find(_mount, CgroupNamespaceRoot.InitNamespace, "", "/", 4242));
        string sibling = $"1550 1540 0:30 /../other {_mount} ro - cgroup2 cgroup2 rw\n";
        Assert.Null(CgroupNamespaceRoot.Find(_mount, "cgroup:[4026532712]", sibling, "/", 4242));
        // No PID of ours anywhere at that depth: not found, and only absolute paths resolve.
        string far = $"1550 1540 0:30 /../../../.. {_mount} ro - cgroup2 cgroup2 rw\n";
        Assert.Null(CgroupNamespaceRoot.Find(_mount, "cgroup:[4026532712]", far, "/", 5151));
        Assert.Null(new CgroupFs(_mount).Absolute("/../x"));
        Assert.Equal("/system.slice/a.service", new CgroupFs(_mount).Absolute("/system.slice/a.service"));
    }

    public void Dispose() => Directory.Delete(_mount, recursive: true);
}
