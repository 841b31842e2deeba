# syntax=docker/dockerfile:1
# rpcbridge's image: one static binary on distroless, run as the non-root user 65532.
#   docker build -t rpcbridge .
#   docker run --rm -p 19901:19901 -v $PWD/rpcbridge.yaml:/etc/rpcbridge/rpcbridge.yaml:ro rpcbridge
# The same image runs every command: serve (the default), gateway, bootstrap, idl, ...
# deploy/kubernetes's test checks this file (stages, Go version = go.mod's, CGO off, user).

FROM golang:1.26-bookworm AS build
WORKDIR /src
# The module cache is a layer of its own: it is downloaded again only when go.mod/go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# rpcbridge version reads the module version and the Go version from the binary's build
# information (cmd/rpcbridge/version.go has no -X variables); .git is not in the build context,
# so the VCS lines are left out (-buildvcs=false) rather than failing the build.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o /out/rpcbridge ./cmd/rpcbridge && \
    mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/rpcbridge /usr/local/bin/rpcbridge
# dataDir (the local store) for `docker run`; owned by the user, as WORKDIR alone would not ensure
COPY --from=build --chown=65532:65532 /out/data /var/lib/rpcbridge
USER 65532:65532
WORKDIR /var/lib/rpcbridge
# gateway HTTP (serve's embedded gateway and `rpcbridge gateway`), gateway HTTPS (deploy/kubernetes),
# xDS, serve's admin API, the standalone gateway's admin (probes, metrics).
EXPOSE 8080 8443 18000 19901 19902
ENTRYPOINT ["/usr/local/bin/rpcbridge"]
CMD ["serve", "--config", "/etc/rpcbridge/rpcbridge.yaml"]
