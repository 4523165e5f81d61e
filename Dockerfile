# sessiond container image: a static binary built in a Go image, run as an
# unprivileged user on Debian slim with its data on a volume.
#
#   docker build -t sessiond .
#   docker run -d -p 6379:6379 -v sessiond-data:/data sessiond --requirepass "change me"
#
# Arguments after the image name are flags appended to the command line
# (--name value, as in sessiond.conf). The server listens on all interfaces of
# the container; with protected-mode yes (the default) clients from outside the
# container are refused until a password is set with --requirepass.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# docker build --build-arg VERSION=1.2.0 --build-arg COMMIT=$(git rev-parse HEAD) .
# stamps the version sessiond --version, INFO and HELLO report.
ARG VERSION=0.1.0
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags="-s -w -X github.com/sessiond/sessiond/internal/buildinfo.version=${VERSION} -X github.com/sessiond/sessiond/internal/buildinfo.commit=${COMMIT}" \
    -o /out/sessiond .

FROM debian:bookworm-slim
RUN groupadd --system --gid 999 sessiond \
    && useradd --system --uid 999 --gid sessiond --home-dir /data --no-create-home --shell /usr/sbin/nologin sessiond \
    && mkdir -p /data /etc/sessiond \
    && chown sessiond:sessiond /data
COPY --from=build /out/sessiond /usr/local/bin/sessiond
COPY sessiond.conf /etc/sessiond/sessiond.conf
USER sessiond:sessiond
WORKDIR /data
VOLUME ["/data"]
EXPOSE 6379
# A RESP PING over bash's /dev/tcp (no redis-cli in the image): healthy when the
# server answers, +PONG, or -NOAUTH when a password is set.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\\r\\n' >&3 && head -c 7 <&3 | grep -qE '^(\\+PONG|-NOAUTH)'"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["sessiond", "/etc/sessiond/sessiond.conf", "--dir", "/data", "--bind", "0.0.0.0"]
CMD []
