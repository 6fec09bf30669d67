# MapsExporter as a container: the Native AOT binary, built by deploy/publish.sh (the same script as a release),
# on a small glibc base, as a non-root user. It reads the host's processes through the host's /proc:
#   docker run -d --name mapsexporter --pid=host -v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro --cgroupns=host \
#     --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH -p 10135:10135 mapsexporter
# --pid=host: the PIDs and /proc/PID/root paths are the host's. The capabilities: CAP_SYS_PTRACE to read other
# users' maps and smaps, CAP_DAC_READ_SEARCH for /proc/PID/mem, .../syscall and the JVMs' hsperfdata files.
# The host's cgroup tree (read-only) gives each JVM's memory limit, usage and OOM kills; --cgroupns=host makes the
# processes' /proc/PID/cgroup paths absolute (without it, on a v2 host, the exporter resolves relative ones itself).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Native AOT links with clang and needs zlib's headers; setcap comes from libcap2-bin.
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang zlib1g-dev libcap2-bin \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# File capabilities: a non-root process gets no ambient capabilities from Docker or Kubernetes, so the binary
# carries the two it needs (permitted and effective when the container's bounding set allows them, i.e. when
# they are added; nothing when they are not). They are ignored under no_new_privs, so do not set
# allowPrivilegeEscalation: false / --security-opt no-new-privileges.
RUN bash deploy/publish.sh \
 && install -d /out && cp artifacts/mapsexporter /out/ \
 && if [ -f artifacts/appsettings.json ]; then cp artifacts/appsettings.json /out/; fi \
 && setcap cap_sys_ptrace,cap_dac_read_search+ep /out/mapsexporter

# runtime-deps: glibc, libstdc++, ca-certificates and no .NET runtime (the binary carries its own).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
# COPY --from keeps the security.capability attribute (BuildKit).
COPY --from=build /out/ /app/
USER 65534:65534
EXPOSE 10135
ENTRYPOINT ["/app/mapsexporter", "--path.procfs=/host/proc", "--path.cgroupfs=/host/sys/fs/cgroup"]
