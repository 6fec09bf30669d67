using MapsExporter.Web;

namespace MapsExporter.Tests.Reliability;

public sealed class WebConfigYamlTests
{
    [Fact]
    public void Reads_nested_mappings_quotes_and_comments()
    {
        WebConfigYaml.Mapping root = WebConfigYaml.Parse("""
            ---
            # comment
            tls_server_config:   # trailing comment
                cert_file: "/etc/a b.crt"
                key_file: 'it''s.key'
            basic_auth_users:
              alice: $2y$10$abc#notacomment
              "bob:x": "q\"uote"
            empty:
            none: {}
            """);
        var tls = (WebConfigYaml.Mapping)root.Entries[0].Value;
        Assert.Equal("/etc/a b.crt", tls.Entries[0].Value);
        Assert.Equal("it's.key", tls.Entries[1].Value);
        var users = (WebConfigYaml.Mapping)root.Entries[1].Value;
        Assert.Equal("$2y$10$abc#notacomment", users.Entries[0].Value);
        Assert.Equal("bob:x", users.Entries[1].Key);
        Assert.Equal("q\"uote", users.Entries[1].Value);
        Assert.Equal("", root.Entries[2].Value);
        Assert.Empty(((WebConfigYaml.Mapping)root.Entries[3].Value).Entries);
    }

    [Theory]
    [InlineData("a: 1\na: 2\n", "twice")]
    [InlineData("a:\n  - x\n", "sequences")]
    [InlineData("a:\n    b: 1\n  c: 2\n", "indentation")]
    [InlineData("a: \"open\n", "unterminated")]
    [InlineData("just text\n", "expected 'key: value'")]
    [InlineData("a: [1, 2]\n", "flow collections")]
    [InlineData("\ta: 1\n", "tabs")]
    public void Rejects_what_it_does_not_understand_naming_the_line(string yaml, string expected)
    {
        var e = Assert.Throws<FormatException>(() => WebConfigYaml.Parse(yaml));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith("line ", e.Message, StringComparison.Ordinal);
    }
}
