using System.Text.RegularExpressions;

namespace MapsExporter.Core.Cgroups;

/// <summary>
/// What a cgroup path says of the process in it, by the names systemd, the container engines and the kubelet give
/// their cgroups (docs/cgroups.md has the forms and their sources). Empty strings where a part does not apply.
/// </summary>
/// <param name="SystemdUnit">The innermost <c>.service</c> or <c>.scope</c>, for a process that is not in a container or pod (those are named by their ids).</param>
/// <param name="ContainerRuntime"><c>docker</c>, <c>containerd</c>, <c>cri-o</c> or <c>podman</c>; empty when the path's form does not say.</param>
/// <param name="ContainerId">The 64-hex id of the container the process runs in (never a conmon or CRI-O sandbox cgroup's).</param>
/// <param name="PodUid">The Kubernetes pod UID, dashed as the API writes it.</param>
/// <param name="QosClass"><c>Guaranteed</c>, <c>Burstable</c> or <c>BestEffort</c>, as kube_pod_status_qos_class spells them.</param>
/// <param name="UnknownRuntime">The leaf looks like a container (a 64-hex id) of an engine this does not know.</param>
public sealed partial record CgroupIdentity(string SystemdUnit, string ContainerRuntime, string ContainerId, string PodUid, string QosClass, bool UnknownRuntime)
{
    public static CgroupIdentity None { get; } = new("", "", "", "", "", false);

    /// <summary>Reads <paramref name="path"/> (absolute, or relative to a cgroup namespace: leading <c>/..</c> are skipped).</summary>
    public static CgroupIdentity FromPath(string path)
    {
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).SkipWhile(p => p == "..").SelectMany(Expand).ToArray();
        (string podUid, string qos, int podLevel) = FindPod(parts);
        (string runtime, string id, bool unknown, bool monitor) = FindContainer(parts, podLevel);
        string unit = "";
        for (int i = parts.Length - 1; i >= 0 && unit.Length == 0; i--)
        {
            bool isUnit = parts[i].EndsWith(".service", StringComparison.Ordinal) || parts[i].EndsWith(".scope", StringComparison.Ordinal);
            if (isUnit && !EngineScope().IsMatch(parts[i]))
            {
                unit = parts[i];
            }
        }

        // A container or pod is named by its id and UID: the units around it (containerd.service, a pod's scope) are not its own.
        bool workloadOfItsOwn = id.Length == 0 && podUid.Length == 0 && !monitor;
        return new CgroupIdentity(workloadOfItsOwn ? unit : "", runtime, id, podUid, qos, unknown);
    }

    /// <summary>
    /// A systemd-style cgroupsPath (<c>slice:prefix:id</c>) that a runtime on the cgroupfs driver took as a directory
    /// name (containerd without SystemdCgroup under a systemd-driver kubelet) reads as the slice and the scope it means.
    /// </summary>
    private static IEnumerable<string> Expand(string part)
    {
        Match colon = SystemdCgroupsPath().Match(part);
        return colon.Success ? [colon.Groups["slice"].Value, $"{colon.Groups["prefix"].Value}-{colon.Groups["id"].Value}.scope"] : [part];
    }

    /// <summary>
    /// The kubelet's pod cgroup: <c>pod&lt;UID&gt;</c> under <c>kubepods</c>[<c>/burstable</c>|<c>/besteffort</c>] (cgroupfs
    /// driver) or <c>kubepods[-burstable|-besteffort]-pod&lt;UID with _&gt;.slice</c> (systemd driver, which names the QoS
    /// in the slice itself). Guaranteed pods sit directly under the root.
    /// </summary>
    private static (string Uid, string Qos, int Level) FindPod(string[] parts)
    {
        for (int i = 0; i < parts.Length; i++)
        {
            Match slice = PodSlice().Match(parts[i]);
            if (slice.Success)
            {
                return (slice.Groups["uid"].Value.Replace('_', '-'), Qos(slice.Groups["qos"].Value), i);
            }

            Match dir = PodDirectory().Match(parts[i]);
            if (dir.Success && i > 0 && (parts[i - 1] is "burstable" or "besteffort" or "kubepods"))
            {
                string qos = parts[i - 1] == "kubepods" ? "Guaranteed" : Qos(parts[i - 1]);
                return (dir.Groups["uid"].Value, qos, i);
            }

            // A path relative to a cgroup namespace may begin at the pod level: its QoS parent is not shown.
            if (dir.Success && i == 0)
            {
                return (dir.Groups["uid"].Value, "", i);
            }
        }

        return ("", "", -1);
    }

    private static string Qos(string name) => name switch
    {
        "burstable" => "Burstable",
        "besteffort" => "BestEffort",
        _ => "Guaranteed",
    };

    /// <summary>The container from the leaf (one lowercase word below a scope is dropped: rootless and crun leaves such as <c>init</c>, <c>container</c>).</summary>
    private static (string Runtime, string Id, bool Unknown, bool Monitor) FindContainer(string[] parts, int podLevel)
    {
        int leaf = parts.Length - 1;
        if (leaf >= 1 && parts[leaf - 1].EndsWith(".scope", StringComparison.Ordinal) && LowercaseWord().IsMatch(parts[leaf]))
        {
            leaf--;
        }

        if (leaf < 0)
        {
            return ("", "", false, false);
        }

        string name = parts[leaf];
        if (Monitor().IsMatch(name))
        {
            return ("", "", false, true);
        }

        Match scope = EngineScope().Match(name);
        if (scope.Success)
        {
            return (RuntimeOf(scope.Groups["prefix"].Value), scope.Groups["id"].Value, false, false);
        }

        Match plain = PlainEngineDirectory().Match(name);
        if (plain.Success)
        {
            // CRI-O's sandbox (pause) cgroup under the systemd driver is a plain crio-ID directory in the pod slice.
            bool sandbox = plain.Groups["prefix"].Value == "crio" && leaf > 0 && parts[leaf - 1].EndsWith(".slice", StringComparison.Ordinal);
            return sandbox ? ("", "", false, true) : (RuntimeOf(plain.Groups["prefix"].Value), plain.Groups["id"].Value, false, false);
        }

        if (BareId().IsMatch(name))
        {
            // cgroupfs drivers: the engine names the parent (Docker's /docker); under the kubelet's pod cgroup the
            // bare id is containerd's or Docker's (cri-dockerd), which the path does not tell apart.
            string runtime = leaf > 0 && parts[leaf - 1] == "docker" ? "docker" : "";
            bool known = runtime.Length > 0 || (podLevel >= 0 && podLevel == leaf - 1);
            return (runtime, name, !known, false);
        }

        Match other = OtherScope().Match(name);
        return other.Success ? ("", other.Groups["id"].Value, true, false) : ("", "", false, false);
    }

    private static string RuntimeOf(string prefix) => prefix switch
    {
        "docker" => "docker",
        "cri-containerd" => "containerd",
        "crio" => "cri-o",
        _ => "podman",
    };

    [GeneratedRegex("^(?<prefix>docker|cri-containerd|crio|libpod)-(?<id>[0-9a-f]{64})\\.scope$")]
    private static partial Regex EngineScope();

    [GeneratedRegex("^(?<prefix>crio|libpod)-(?<id>[0-9a-f]{64})$")]
    private static partial Regex PlainEngineDirectory();

    [GeneratedRegex("^(crio|libpod)-conmon-[0-9a-f]{64}(\\.scope)?$")]
    private static partial Regex Monitor();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex BareId();

    [GeneratedRegex("^[a-z0-9_.-]+-(?<id>[0-9a-f]{64})\\.scope$")]
    private static partial Regex OtherScope();

    [GeneratedRegex("^[a-z]+$")]
    private static partial Regex LowercaseWord();

    [GeneratedRegex("^kubepods(-(?<qos>burstable|besteffort))?-pod(?<uid>[0-9a-f_-]+)\\.slice$")]
    private static partial Regex PodSlice();

    [GeneratedRegex("^(?<slice>[^:]+\\.slice):(?<prefix>[a-z-]+):(?<id>[0-9a-f]{64})$")]
    private static partial Regex SystemdCgroupsPath();

    [GeneratedRegex("^pod(?<uid>[0-9a-f-]+)$")]
    private static partial Regex PodDirectory();
}
