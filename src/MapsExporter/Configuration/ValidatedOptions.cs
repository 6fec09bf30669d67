using System.Diagnostics.CodeAnalysis;
using MapsExporter.Logging;
using MapsExporter.Scanning;
using MapsExporter.Web;
using Microsoft.Extensions.Options;

namespace MapsExporter.Configuration;

internal static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and checks it with <typeparamref name="TValidator"/> when the host starts.</summary>
    public static IServiceCollection AddValidatedOptions<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TValidator>(
        this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        IConfigurationSection source = configuration.GetSection(section);
        services.AddOptions<TOptions>().Configure(options => Bind(source, options)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services;
    }

    /// <summary>
    /// Each options type bound with its static type, so the configuration binder's source generator writes the
    /// binding (Native AOT has no reflection binder; a generic Bind&lt;T&gt; is not generated).
    /// </summary>
    private static void Bind(IConfigurationSection source, object options)
    {
        switch (options)
        {
            case ScanOptions scan: source.Bind(scan); break;
            case SelectionOptions selection: source.Bind(selection); break;
            case WebOptions web: source.Bind(web); break;
            case LogOptions log: source.Bind(log); break;
            default: throw new NotSupportedException($"no configuration binding for {options.GetType().Name}: add it to ValidatedOptions.Bind");
        }
    }
}
