using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MapsExporter.Web;

internal static class WebConfigServiceCollectionExtensions
{
    /// <summary>
    /// <c>--web.config.file</c>: TLS on every listener and basic auth on every path. Must be added before
    /// <c>AddWeb</c>: Kestrel applies endpoint defaults to a listener when it is created.
    /// </summary>
    public static IServiceCollection AddWebConfig(this IServiceCollection services)
    {
        services.TryAddSingleton(WebConfigFiles.Disk); // the web side of a split daemon adds the scanner's bundle first
        services.AddSingleton<IValidateOptions<WebOptions>>(provider => new WebConfigValidator(provider.GetRequiredService<WebConfigFiles>()));
        services.AddSingleton(provider =>
        {
            string path = provider.GetRequiredService<IOptions<WebOptions>>().Value.ConfigFile;
            return path.Length == 0 ? WebConfig.None : WebConfig.Load(path, provider.GetRequiredService<WebConfigFiles>());
        });
        services.AddSingleton(provider => new BasicAuth(provider.GetRequiredService<WebConfig>().BasicAuthUsers));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<AuthFailureLog>();
        services.AddOptions<KestrelServerOptions>().Configure<WebConfig>((kestrel, config) =>
        {
            if (config.Tls is not { } tls)
            {
                return;
            }

            kestrel.ConfigureEndpointDefaults(listen =>
            {
                // http_server_config.http2 (on by default, as in the toolkit): HTTP/2 is offered through ALPN.
                listen.Protocols = config.Http.Http2 ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = tls.Certificate;
                    https.SslProtocols = tls.Protocols;
                    https.ClientCertificateMode = tls.ClientCertificateMode;
                    https.ClientCertificateValidation = (certificate, _, _) => tls.ValidateClient(certificate);
                    https.OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = tls.CipherSuitesPolicy();
                });
            });
        });
        return services;
    }

    /// <summary>
    /// Basic auth in front of every endpoint when the web config names users; one line at start says what is on.
    /// Nothing is resolved here: settings are validated after the host is built, and a bad one must stay one line.
    /// </summary>
    public static WebApplication UseWebConfig(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            WebConfig config = app.Services.GetRequiredService<WebConfig>();
            app.Logger.LogInformation("TLS is {Tls}; basic auth is {Auth}", config.Tls is null ? "disabled" : "enabled",
                config.BasicAuthUsers.Count > 0 ? $"enabled for {config.BasicAuthUsers.Count} users" : "disabled");
            if (config.Tls is { CurvePreferences.Count: > 0 })
            {
                app.Logger.LogWarning("tls_server_config: curve_preferences is checked but not applied (.NET has no per-listener setting); OpenSSL's default groups are offered");
            }
        });
        app.Use(async (context, next) =>
        {
            // http_server_config.headers, on every response (401s too), as the toolkit sets them.
            foreach (var (name, value) in context.RequestServices.GetRequiredService<WebConfig>().Http.Headers)
            {
                context.Response.Headers[name] = value;
            }

            BasicAuth auth = context.RequestServices.GetRequiredService<BasicAuth>();
            if (!auth.Enabled || auth.IsAuthorized(context.Request.Headers.Authorization))
            {
                await next(context);
                return;
            }

            if (context.Request.Headers.Authorization.Count > 0)
            {
                context.RequestServices.GetRequiredService<AuthFailureLog>().Failed(context.Connection.RemoteIpAddress);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic";
            await context.Response.WriteAsync("Unauthorized\n");
        });
        return app;
    }
}

/// <summary>A web config that cannot be used fails start-up as a bad setting: one line, exit 78.</summary>
internal sealed class WebConfigValidator(WebConfigFiles files) : IValidateOptions<WebOptions>
{
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        if (options.ConfigFile.Length == 0)
        {
            return ValidateOptionsResult.Success;
        }

        try
        {
            WebConfig.Load(options.ConfigFile, files);
            return ValidateOptionsResult.Success;
        }
        catch (WebConfigException e)
        {
            return ValidateOptionsResult.Fail($"{WebOptions.Flags.ConfigFile.Describe()}: {e.Message}");
        }
    }
}
