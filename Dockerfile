# encoda container image: the `encoda` binary on Debian 12's runtime libraries (libav*, SVT-AV1, x264).
#
#   podman build -t localhost/encoda .                  # or: docker build -t encoda .
#   podman run --rm localhost/encoda --version
#
# Base images are build arguments so a site without Docker Hub can point at its own registry:
#   --build-arg SWIFT_IMAGE=registry.example/swift:6.3-bookworm --build-arg RUNTIME_IMAGE=registry.example/debian:bookworm-slim
#
# Workers run as an unprivileged user (uid/gid 1000 unless built otherwise). Files they create on the shared
# folder belong to that uid, and with root_squash on the NFS export root could not write there anyway. Match the
# owner of the share either at build time
#   --build-arg ENCODA_UID=$(stat -c %u /mnt/encoda) --build-arg ENCODA_GID=$(stat -c %g /mnt/encoda)
# or per container, which needs no rebuild:
#   podman run --user "$(stat -c %u:%g /mnt/encoda)" ...
#
# Targets:
#   runtime           (default, last stage) compiles encoda inside the Swift image.
#   runtime-prebuilt  packages an encoda binary built on a Debian 12 host, skipping the Swift stage (the binary
#     must link Swift's runtime statically; the build context `prebuilt` is a folder holding just `encoda`):
#       swift build -c release --static-swift-stdlib --product encoda
#       mkdir -p /tmp/encoda-prebuilt && cp "$(swift build -c release --show-bin-path)/encoda" /tmp/encoda-prebuilt/
#       podman build --target runtime-prebuilt --build-context prebuilt=/tmp/encoda-prebuilt -t localhost/encoda .
#     (scripts/containers/test-containers.sh does this for its fast worker tests.)
#     A separate named target rather than an ARG that picks the binary's stage: buildah resolves a
#     `COPY --from=${STAGE}` as an image name and fails.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# Unpinned on purpose (hadolint DL3008): bookworm's point releases and security fixes keep these ABI-stable.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libsvtav1enc-dev libx264-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
# The API's OpenAPI document is compiled into the server (Sources/EncodaServer/openapi.json links to it).
COPY docs/openapi.json ./docs/openapi.json
COPY Tests ./Tests
# The SwiftPM build folder lives in a cache mount, so a rebuild after a source change is incremental; the
# binary is copied out of it (and stripped: the image is for running, not debugging) in the same step.
RUN --mount=type=cache,id=encoda-swiftpm-build,target=/src/.build,sharing=locked \
    swift build -c release --static-swift-stdlib --product encoda \
 && install -D -m 0755 "$(swift build -c release --show-bin-path)/encoda" /out/encoda \
 && strip /out/encoda \
 && /out/encoda --version

FROM ${RUNTIME_IMAGE} AS runtime-base
# Only the shared libraries the binary links (Swift's runtime is linked in statically); the sonames pin the ABI.
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libavformat59 libavcodec59 libavutil57 libswscale6 libswresample4 libsvtav1enc1 libx264-164 \
 && rm -rf /var/lib/apt/lists/*
# Declared after the package layer, so building for another uid/gid reuses it.
ARG ENCODA_UID=1000
ARG ENCODA_GID=1000
RUN groupadd --gid "${ENCODA_GID}" encoda \
 && useradd --uid "${ENCODA_UID}" --gid "${ENCODA_GID}" --no-create-home --home-dir /share --shell /usr/sbin/nologin encoda \
 && mkdir -p /share
# Mount the shared folder here (INPUT, OUTPUT and TMP relative to it): `encoda worker /share/tmp`.
WORKDIR /share
USER ${ENCODA_UID}:${ENCODA_GID}
ENTRYPOINT ["/usr/local/bin/encoda"]
CMD ["--help"]

# Host-built binary (see the top of this file).
FROM runtime-base AS runtime-prebuilt
# `prebuilt` is a named build context (--build-context), not a stage.
# hadolint ignore=DL3022
COPY --from=prebuilt encoda /usr/local/bin/encoda

# Default target: the binary compiled in the build stage.
FROM runtime-base AS runtime
COPY --from=build /out/encoda /usr/local/bin/encoda
