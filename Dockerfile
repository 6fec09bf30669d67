# MapsExporter as a container: the Native AOT binary, built by deploy/publish.sh (the same script as a release),
# on a small glibc base, as a non-root user. It reads the host's processes through the host's /proc:
#   docker run -d --name mapsexporter --pid=host -v /proc:/host/proc:ro -v /sys/fs/cgroup:/host/sys/fs/cgroup:ro --cgroupns=host \
#     --cap-drop=ALL --cap-add=SYS_PTRACE --cap-add=DAC_READ_SEARCH -p 10135:10135 mapsexporter
# --pid=host: the PIDs and /proc/PID/root paths are the host's. The capabilities: CAP_SYS_PTRACE to read other
# users' maps and smaps, CAP_DAC_READ_SEARCH for /proc/PID/mem, .../syscall and the JVMs' hsperfdata files.
# The host's cgroup tree (read-only) gives each JVM's memory limit, usage and OOM kills; --cgroupns=host makes the
# processes' /proc/PID/cgroup paths absolute (without it, on a v2 host, the exporter resolves relative ones itself).

# One build stage on the build machine's own platform, cross-compiling for each target platform: Native AOT
# cannot run under emulation fast, and does not need to. Both images from one command (BuildKit):
#   docker buildx build --platform linux/amd64,linux/arm64 --build-arg SOURCE_REVISION=$(git rev-parse --short=12 HEAD) \
#     -t REGISTRY/mapsexporter:$(cat VERSION) --push .
# The DaemonSet (deploy/kubernetes/) pulls the variant of each node's architecture from the same tag.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
# .git is not in the build context: the commit for --version and mapsexporter_build_info comes in as an argument.
ARG SOURCE_REVISION=unknown
# Native AOT links with clang and lld; for another architecture than the build machine's, Ubuntu's cross
# toolchain and C library for it (gcc's crt files and libgcc, binutils' objcopy). setcap comes from libcap2-bin.
RUN set -eu; \
    case "$TARGETARCH" in \
      amd64) cross="gcc-x86-64-linux-gnu binutils-x86-64-linux-gnu libc6-dev-amd64-cross" ;; \
      arm64) cross="gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross" ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH (amd64 or arm64)" >&2; exit 1 ;; \
    esac; \
    [ "$(dpkg --print-architecture)" = "$TARGETARCH" ] && cross=""; \
    apt-get update \
 && apt-get install -y --no-install-recommends clang lld libcap2-bin $cross \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# File capabilities: a non-root process gets no ambient capabilities from Docker or Kubernetes, so the binary
# carries the two it needs (permitted and effective when the container's bounding set allows them, i.e. when
# they are added; nothing when they are not). They are ignored under no_new_privs, so do not set
# allowPrivilegeEscalation: false / --security-opt no-new-privileges.
RUN rid=$([ "$TARGETARCH" = amd64 ] && echo x64 || echo arm64) \
 && ARCHS=$rid bash deploy/publish.sh -p:SourceRevision="$SOURCE_REVISION" \
 && install -d /out && cp "artifacts/linux-$rid/mapsexporter" /out/ \
 && if [ -f "artifacts/linux-$rid/appsettings.json" ]; then cp "artifacts/linux-$rid/appsettings.json" /out/; fi \
 && setcap cap_sys_ptrace,cap_dac_read_search+ep /out/mapsexporter

# runtime-deps of the target platform: glibc, libstdc++, ca-certificates and no .NET runtime (the binary carries
# its own).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
# COPY --from keeps the security.capability attribute (BuildKit).
COPY --from=build /out/ /app/
USER 65534:65534
EXPOSE 10135
ENTRYPOINT ["/app/mapsexporter", "--path.procfs=/host/proc", "--path.cgroupfs=/host/sys/fs/cgroup"]
