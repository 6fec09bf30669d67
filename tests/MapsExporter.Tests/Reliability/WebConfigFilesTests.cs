using System.Buffers.Binary;
using System.Text;
using MapsExporter.Web;

namespace MapsExporter.Tests.Reliability;

/// <summary>
/// The bundle in which the scanner of a split daemon hands the web config's files to the web side: what the scanner
/// read loads the same config with the files gone from disk (the web side opens none), and the web side reads the
/// bundle as untrusted input: every cut, bad magic, version, count, length, path or trailing byte is an
/// <see cref="InvalidDataException"/>, never another exception.
/// </summary>
public sealed class WebConfigFilesTests
{
    [Fact]
    public void What_the_scanner_read_loads_the_same_config_with_no_file_on_disk()
    {
        byte[] bundle;
        string config, thumbprint;
        using (var tls = new TestCertificate())
        {
            config = tls.WriteConfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
            thumbprint = tls.Thumbprint;
            WebConfigFiles read = WebConfigFiles.Recording();
            Assert.Equal(thumbprint, WebConfig.Load(config, read).Tls!.Certificate.Thumbprint);
            bundle = read.Encode();
        }

        Assert.False(File.Exists(config));
        WebConfigFiles files = WebConfigFiles.Decode(bundle);
        Assert.Equal(thumbprint, WebConfig.Load(config, files).Tls!.Certificate.Thumbprint);
        Assert.Equal(bundle, files.Encode());

        // A file the scanner did not read is one line naming it, as a missing file is.
        var e = Assert.Throws<WebConfigException>(() => WebConfig.Load("/etc/other-web.yml", files));
        Assert.Contains("/etc/other-web.yml", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Every_malformed_bundle_is_invalid_data()
    {
        byte[] good = Bundle(("/etc/mapsexporter/web.yml", "basic_auth_users: {}\n"u8.ToArray()), ("/etc/mapsexporter/server.key", new byte[300]));
        Assert.Equal(2, Count(WebConfigFiles.Decode(good)));
        for (int length = 0; length < good.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(good.AsSpan(0, length)));
        }

        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode([.. good, 0]));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Patched(good, 0, (byte)'N')));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Patched(good, 3, 2)));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Patched(good, 4, 17)));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Bundle(("/a", []), ("/a", []))));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Bundle(("", []))));
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode(Bundle(("/a\xff", []))));

        // A length past its bound is refused from the header, before anything of that size is read.
        byte[] huge = Bundle(("/a", []));
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(huge.Length - 4), WebConfigFiles.MaxFile + 1);
        Assert.Throws<InvalidDataException>(() => WebConfigFiles.Decode([.. huge, .. new byte[WebConfigFiles.MaxFile + 1]]));
    }

    private static int Count(WebConfigFiles files) => files.Encode()[4];

    private static byte[] Patched(byte[] bundle, int at, byte value)
    {
        byte[] copy = [.. bundle];
        copy[at] = value;
        return copy;
    }

    /// <summary>The format written out here, byte by byte, so the decoder is checked against the documented layout, not its own encoder.</summary>
    private static byte[] Bundle(params (string Path, byte[] Bytes)[] files)
    {
        var bundle = new List<byte> { (byte)'M', (byte)'X', (byte)'F', 1, (byte)files.Length };
        foreach (var (path, bytes) in files)
        {
            byte[] name = path.EndsWith('\xff') ? [.. Encoding.ASCII.GetBytes(path[..^1]), 0xff] : Encoding.UTF8.GetBytes(path);
            bundle.AddRange([(byte)(name.Length >> 8), (byte)name.Length, .. name]);
            bundle.AddRange([(byte)(bytes.Length >> 24), (byte)(bytes.Length >> 16), (byte)(bytes.Length >> 8), (byte)bytes.Length, .. bytes]);
        }

        return [.. bundle];
    }
}
