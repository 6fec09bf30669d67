namespace MapsExporter.Core.Parsing.Maps;

/// <summary>The perms column of a maps line (<c>rwxp</c>, <c>r--s</c>, ...).</summary>
[Flags]
public enum Permissions : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
    Shared = 8,
}

public static class PermissionsText
{
    public static string Format(Permissions p) => string.Create(4, p, static (span, perms) =>
    {
        span[0] = (perms & Permissions.Read) != 0 ? 'r' : '-';
        span[1] = (perms & Permissions.Write) != 0 ? 'w' : '-';
        span[2] = (perms & Permissions.Execute) != 0 ? 'x' : '-';
        span[3] = (perms & Permissions.Shared) != 0 ? 's' : 'p';
    });
}
