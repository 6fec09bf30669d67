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

    [Fact]
    public void Reads_lists_block_and_flow_and_nulls_as_empty()
    {
        WebConfigYaml.Mapping root = WebConfigYaml.Parse("a:\n  - x\n  - 'y'\nb: [1, two]\nc: ~\nd: \"null\"\n");
        Assert.Equal(["x", "y"], ((WebConfigYaml.Sequence)root.Entries[0].Value).Items);
        Assert.Equal(["1", "two"], ((WebConfigYaml.Sequence)root.Entries[1].Value).Items);
        Assert.Equal("", root.Entries[2].Value);
        Assert.Equal("null", root.Entries[3].Value);
        Assert.Empty(WebConfigYaml.Parse("# only a comment\n").Entries);
        Assert.Empty(WebConfigYaml.Parse("").Entries);
    }

    [Theory]
    [InlineData("a: 1\na: 2\n", "line 2: Duplicate key")]
    [InlineData("a:\n  - [x]\n", "line 2: 'a' lists text values")]
    [InlineData("a:\n    b: 1\n  c: 2\n", "line 3:")]
    [InlineData("a: \"open\n", "line 1:")]
    [InlineData("just text\n", "line 1: expected 'key: value'")]
    [InlineData("- a\n- b\n", "line 1: expected 'key: value'")]
    [InlineData("a: *nowhere\n", "line 1:")]
    [InlineData("a: 1\n---\nb: 2\n", "line 3: one YAML document only")]
    [InlineData("[a]: 1\n", "line 1: a key must be plain text")]
    [InlineData("a: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", "line 1: nested more than 32 levels")]
    [InlineData("min_version: {LS13\n  curve_preferences:\n  - Curtls_server_config:\n", "line ")] // YamlDotNet's InvalidOperationException
    public void Rejects_what_it_does_not_understand_naming_the_line(string yaml, string expected)
    {
        var e = Assert.Throws<FormatException>(() => WebConfigYaml.Parse(yaml));
        Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_key_holding_a_line_break_is_still_a_one_line_error()
    {
        // Found by the webconfig fuzz target: a quoted key with a line break, echoed in the message.
        var e = Assert.Throws<WebConfigException>(() => WebConfig.Parse("\"a\\nb\x1b\": 1\n", "/tmp/web.yml"));
        Assert.Equal("/tmp/web.yml line 1: unknown or unsupported key 'a\\x0ab\\x1b' (supported: tls_server_config, http_server_config, basic_auth_users)", e.Message);
    }
}
