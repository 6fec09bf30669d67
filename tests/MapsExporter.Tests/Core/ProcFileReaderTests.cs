using MapsExporter.Core.Proc;

namespace MapsExporter.Tests.Core;

/// <summary>
/// The read buffer grows for a huge file and is given back once nothing that large is read between two trims (a
/// scan trims at its end): a 60,000-mapping process that came and went held 8 MB in the daemon for good before.
/// </summary>
public sealed class ProcFileReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("procfilereader").FullName;

    [Fact]
    public void A_buffer_grown_for_a_huge_file_is_kept_while_such_files_are_read_and_given_back_after()
    {
        string huge = Write("huge", 3 * 1024 * 1024 + 17);
        string small = Write("small", 10_000);
        using var reader = new ProcFileReader();

        Assert.Equal(File.ReadAllBytes(huge), reader.ReadAll(huge).ToArray());
        Assert.True(reader.Capacity >= 3 * 1024 * 1024);

        // Read in the period before this trim: kept.
        reader.TrimExcess();
        Assert.True(reader.Capacity >= 3 * 1024 * 1024, $"{reader.Capacity}");

        // Only small files since: given back.
        Assert.Equal(10_000, reader.ReadAll(small).Length);
        reader.TrimExcess();
        Assert.True(reader.Capacity <= ProcFileReader.KeptBytes, $"{reader.Capacity}");

        // And grown again when needed, with the right content.
        Assert.Equal(File.ReadAllBytes(huge), reader.ReadAll(huge).ToArray());
        Assert.Equal(File.ReadAllBytes(small), reader.ReadAll(small).ToArray());
    }

    [Fact]
    public void A_buffer_within_the_kept_size_is_never_shrunk()
    {
        string medium = Write("medium", 900_000);
        string small = Write("small", 100);
        using var reader = new ProcFileReader();
        reader.ReadAll(medium);
        int grown = reader.Capacity;
        reader.TrimExcess();
        reader.ReadAll(small);
        reader.TrimExcess();
        Assert.Equal(grown, reader.Capacity);
    }

    private string Write(string name, int bytes)
    {
        string path = Path.Combine(_dir, name);
        var content = new byte[bytes];
        new Random(bytes).NextBytes(content);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
