# syntax=docker/dockerfile:1

# herald is pure Go (SQLite is modernc.org/sqlite, no cgo), so the binary is
# static and runs on distroless/static.

FROM golang:1.26-bookworm AS build
WORKDIR /src

# Modules first, in a layer of their own that changes only with go.mod/go.sum.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# .git is not sent to the build (.dockerignore), so the revision that
# "herald --version" and herald_build_info show is passed in:
#   docker build --build-arg HERALD_REVISION=$(git rev-parse HEAD) .
ARG HERALD_REVISION=""
RUN --mount=type=cache,target=/cache/go-build \
    GOCACHE=/cache/go-build CGO_ENABLED=0 go build -trimpath \
      -ldflags="-s -w -X github.com/heraldhq/herald/internal/buildinfo.revision=${HERALD_REVISION}" \
      -o /out/herald ./cmd/herald \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
# On the PATH, so that "docker compose exec herald herald token create NAME"
# finds it.
COPY --from=build /out/herald /usr/local/bin/herald
# The working directory holds the defaults (herald.db, outbox/) when no
# PostgreSQL or SMTP server is configured, so the nonroot user must own it.
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
# Listen on all interfaces: inside a container loopback is unreachable from outside.
ENV HERALD_HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
