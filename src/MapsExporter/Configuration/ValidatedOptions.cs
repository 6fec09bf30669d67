using Microsoft.Extensions.Options;

namespace MapsExporter.Configuration;

internal static class ValidatedOptions
{
    /// <summary>Binds <typeparamref name="TOptions"/> to <paramref name="section"/> and checks it with <typeparamref name="TValidator"/> when the host starts.</summary>
    public static IServiceCollection AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services;
    }
}
