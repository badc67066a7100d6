# syntax=docker/dockerfile:1
# Vigil as a small static image: the binary is pure Go (SQLite is the
# modernc.org/sqlite port, PostgreSQL is pgx), so it builds with cgo off and
# runs from scratch (CA certificates and time zones included) as a non-root
# user with a read-only root filesystem. Data (the SQLite database and a generated master key) goes to
# /var/lib/vigil, which must be a volume; on PostgreSQL with VIGIL_MASTER_KEY
# set nothing durable is written there.
#
#   docker build -t vigil .
#   docker run --read-only -p 8080:8080 -v vigil-data:/var/lib/vigil vigil

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -tags timetzdata -ldflags "-s -w" -o /out/vigil ./cmd/vigil \
 && mkdir -p /out/data \
 && echo 'vigil:x:65532:65532:vigil:/var/lib/vigil:/sbin/nologin' > /out/passwd \
 && echo 'vigil:x:65532:' > /out/group

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/group /etc/group
COPY --from=build /out/vigil /usr/local/bin/vigil
COPY --from=build --chown=65532:65532 /out/data /var/lib/vigil
USER 65532:65532
ENV VIGIL_DATA_DIR=/var/lib/vigil \
    VIGIL_ADDR=0.0.0.0:8080 \
    VIGIL_LOG_FORMAT=json
VOLUME ["/var/lib/vigil"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vigil"]
CMD ["serve"]
