using System.Text;
using MapsExporter.Core.Parsing;

namespace MapsExporter.Tests.Core;

public sealed class AppNameResolverTests
{
    [Theory]
    [InlineData("/usr/bin/java|-Xmx512m|-cp|/opt/secret-path/lib.jar|com.example.Main|--password=hunter2", "com.example.Main")]
    [InlineData("java|-Dpassword=hunter2|-jar|/srv/app/billing-service-1.2.jar|--token|abc", "billing-service-1.2.jar")]
    [InlineData("java|--module-path|/m|-m|com.example/com.example.App|secret", "com.example.App")]
    [InlineData("java|--module=com.example/com.example.App", "com.example.App")]
    [InlineData("java|-XX:NativeMemoryTracking=summary|-classpath|/tmp/x|Workload|20", "Workload")]
    [InlineData("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java|--add-opens|java.base/java.lang=ALL-UNNAMED|Main", "Main")]
    [InlineData("java|/tmp/Script.java|arg", "Script.java")]
    public void Names_the_main_class_or_jar_and_nothing_else(string cmdline, string expected)
    {
        string? name = AppNameResolver.FromJavaCommandLine(Encoding.UTF8.GetBytes(cmdline.Replace('|', '\0') + "\0"));
        Assert.Equal(expected, name);
        Assert.DoesNotContain("hunter2", name, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/usr/sbin/jsvc|-cp|x|Main")]
    [InlineData("java|-version")]
    [InlineData("")]
    public void Gives_up_on_other_launchers_or_no_main_class(string cmdline)
    {
        Assert.Null(AppNameResolver.FromJavaCommandLine(Encoding.UTF8.GetBytes(cmdline.Replace('|', '\0'))));
    }

    [Fact]
    public void Sanitize_replaces_control_characters_and_bounds_length()
    {
        Assert.Equal("a?b", AppNameResolver.Sanitize("a\u001bb"));
        Assert.Equal(AppNameResolver.MaxLength, AppNameResolver.Sanitize(new string('x', 10_000)).Length);
        Assert.Equal("unknown", AppNameResolver.Sanitize("   "));
    }
}
