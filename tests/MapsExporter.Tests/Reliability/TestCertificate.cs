using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MapsExporter.Tests.Reliability;

/// <summary>A self-signed server certificate for 127.0.0.1, written as PEM files into a temp folder.</summary>
internal sealed class TestCertificate : IDisposable
{
    public TestCertificate()
    {
        Directory = Path.Combine(Path.GetTempPath(), $"mapsexporter-tls-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Thumbprint = certificate.Thumbprint;
        File.WriteAllText(CertFile, certificate.ExportCertificatePem());
        File.WriteAllText(KeyFile, key.ExportPkcs8PrivateKeyPem());
    }

    public string Directory { get; }

    public string CertFile => Path.Combine(Directory, "server.crt");

    public string KeyFile => Path.Combine(Directory, "server.key");

    public string Thumbprint { get; }

    /// <summary>A client that trusts exactly this certificate.</summary>
    public HttpClient Client(Uri address) => new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == Thumbprint,
    })
    { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Writes a web config file beside the certificate and returns its path.</summary>
    public string WriteConfig(string yaml)
    {
        string path = Path.Combine(Directory, $"web-{Guid.NewGuid():N}.yml");
        File.WriteAllText(path, yaml);
        return path;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
