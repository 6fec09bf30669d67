using MapsExporter.Tests.Support;

namespace MapsExporter.Tests.Deploy;

/// <summary>deploy/kubernetes/: the DaemonSet, Service and PodMonitor, parsed and checked field by field.</summary>
public sealed class KubernetesManifestTests
{
    private static readonly Dictionary<string, object> Manifests = Directory
        .GetFiles(Path.Combine(RepoPaths.Root, "deploy", "kubernetes"), "*.yaml")
        .SelectMany(Yaml.LoadAll)
        .Select(d => Yaml.Map(d, "a manifest"))
        .ToDictionary(d => Yaml.Text(d, "kind"), d => (object)d);

    private static object Container => Yaml.List(Yaml.At(Manifests["DaemonSet"], "spec.template.spec.containers"), "containers").Single();

    [Fact]
    public void There_is_a_daemonset_a_service_and_a_podmonitor_with_matching_labels()
    {
        Assert.Equal(["DaemonSet", "PodMonitor", "Service"], Manifests.Keys.Order());
        Assert.Equal("apps/v1", Yaml.Text(Manifests["DaemonSet"], "apiVersion"));
        Assert.Equal("monitoring.coreos.com/v1", Yaml.Text(Manifests["PodMonitor"], "apiVersion"));
        var podLabels = Yaml.Map(Yaml.At(Manifests["DaemonSet"], "spec.template.metadata.labels"), "pod labels");
        foreach (string selector in new[] { "DaemonSet:spec.selector.matchLabels", "Service:spec.selector", "PodMonitor:spec.selector.matchLabels" })
        {
            string[] parts = selector.Split(':');
            var labels = Yaml.Map(Yaml.At(Manifests[parts[0]], parts[1]), selector);
            Assert.All(labels, l => Assert.Equal(l.Value, podLabels.GetValueOrDefault(l.Key)));
        }

        Assert.Equal("metrics", Yaml.Text(Yaml.List(Yaml.At(Manifests["PodMonitor"], "spec.podMetricsEndpoints"), "endpoints")[0], "port"));
        Assert.Equal("metrics", Yaml.Text(Yaml.List(Yaml.At(Manifests["Service"], "spec.ports"), "ports")[0], "targetPort"));
    }

    [Theory]
    [InlineData("/proc", "/host/proc", "--path.procfs=/host/proc")]
    [InlineData("/sys/fs/cgroup", "/host/sys/fs/cgroup", "--path.cgroupfs=/host/sys/fs/cgroup")]
    public void The_daemonset_sees_the_hosts_processes_and_cgroups_read_only(string hostPath, string mountPath, string flag)
    {
        object pod = Yaml.At(Manifests["DaemonSet"], "spec.template.spec");
        Assert.Equal("true", Yaml.Text(pod, "hostPID"));
        var volume = Yaml.List(Yaml.At(pod, "volumes"), "volumes").Single(v => Yaml.Text(v, "hostPath.path") == hostPath);
        var mount = Yaml.List(Yaml.At(Container, "volumeMounts"), "volumeMounts").Single(m => Yaml.Text(m, "name") == Yaml.Text(volume, "name"));
        Assert.Equal(mountPath, Yaml.Text(mount, "mountPath"));
        Assert.Equal("true", Yaml.Text(mount, "readOnly"));
        Assert.Contains(flag, Yaml.List(Yaml.At(Container, "args"), "args").Cast<string>());
    }

    [Fact]
    public void The_container_is_non_root_read_only_with_only_the_two_capabilities_and_limits()
    {
        object security = Yaml.At(Container, "securityContext");
        Assert.Equal("true", Yaml.Text(security, "runAsNonRoot"));
        Assert.NotEqual("0", Yaml.Text(security, "runAsUser"));
        Assert.Equal("true", Yaml.Text(security, "readOnlyRootFilesystem"));
        Assert.Equal(["ALL"], Yaml.List(Yaml.At(security, "capabilities.drop"), "drop").Cast<string>());
        // The same two the systemd unit grants, in Kubernetes' spelling.
        Assert.Equal(SystemdUnit.Capabilities().Select(c => c.ToUpperInvariant()).Order(), Yaml.List(Yaml.At(security, "capabilities.add"), "add").Cast<string>().Order());
        foreach (string kind in new[] { "requests", "limits" })
        {
            Assert.NotEmpty(Yaml.Text(Container, $"resources.{kind}.cpu"));
            Assert.NotEmpty(Yaml.Text(Container, $"resources.{kind}.memory"));
        }
    }

    [Fact]
    public void Probes_ask_healthz_on_the_metrics_port_10135()
    {
        var port = Yaml.List(Yaml.At(Container, "ports"), "ports").Single();
        Assert.Equal("10135", Yaml.Text(port, "containerPort"));
        Assert.Equal("metrics", Yaml.Text(port, "name"));
        Assert.Contains("--web.listen-address=:10135", Yaml.List(Yaml.At(Container, "args"), "args").Cast<string>());
        foreach (string probe in new[] { "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("/healthz", Yaml.Text(Container, $"{probe}.httpGet.path"));
            Assert.Equal("metrics", Yaml.Text(Container, $"{probe}.httpGet.port"));
        }
    }
}
