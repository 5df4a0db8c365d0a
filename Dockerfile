# syntax=docker/dockerfile:1
#
# spasm-triage container image.
#
#   docker build -t spasm-triage:latest .
#   docker run --rm -p 8080:8080 -e APP__AUTH__KEYS='[{"client":"dev","sha256":"<hex>"}]' spasm-triage:latest
#
# Two stages: a Rust builder (dependencies cached in their own layer, then the source) and a
# distroless runtime holding only the binary and its two settings files, run as a non-root
# user. The build command is the one CI runs: `cargo build --release --locked`.
# Deployment (Kubernetes manifests, probes, secrets, logs): deploy/README.md.

# Same toolchain as CI and the development machines (rustc 1.95.0); Cargo.toml's
# rust-version (1.85) is the minimum. bookworm matches the runtime's glibc (distroless debian12).
ARG RUST_VERSION=1.95.0

# ---------------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /app

# 1. Dependencies only. This layer is rebuilt only when Cargo.toml or Cargo.lock change.
#    The real manifest and lockfile are built against stub targets. Cargo.toml's [[bench]] and
#    [[example]] entries need benches/engine.rs and examples/ceiling.rs to exist to parse (they
#    are not compiled by `cargo build`). The stub main exits 1, so the kb-check below fails
#    the build if the stub ever ends up in the image. The crate's own stub artefacts are then
#    removed so the source build cannot look "fresh" against them, whatever the file mtimes.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches examples \
    && printf 'fn main() { std::process::exit(1) }\n' > src/main.rs \
    && printf '\n' > src/lib.rs \
    && printf 'fn main() {}\n' > benches/engine.rs \
    && printf 'fn main() {}\n' > examples/ceiling.rs \
    && cargo build --release --locked \
    && rm -rf src benches examples \
        target/release/spasm-triage target/release/spasm-triage.d \
        target/release/.fingerprint/spasm-triage-* \
        target/release/deps/spasm_triage-* target/release/deps/libspasm_triage-*

# 2. The source. config/rules/ is embedded into the binary at compile time (include_str!).
#    The real benches/ and examples/ are copied so the manifest sees the same tree as CI.
COPY src ./src
COPY config ./config
COPY benches ./benches
COPY examples ./examples
# kb-check validates the embedded knowledge base with the binary just built: an image whose
# knowledge base would refuse to load is never produced.
RUN cargo build --release --locked \
    && ./target/release/spasm-triage kb-check

# ---------------------------------------------------------------------------------------------
# Runtime: glibc + libgcc only, no shell, no package manager. In production pin the digest
# (gcr.io/distroless/cc-debian12:nonroot@sha256:...) so rebuilds are reproducible.
FROM gcr.io/distroless/cc-debian12:nonroot

LABEL org.opencontainers.image.title="spasm-triage" \
      org.opencontainers.image.description="Explainable triage decision support for back muscle spasm and low back pain" \
      org.opencontainers.image.licenses="UNLICENSED"

# The server reads config/default.toml and config/{APP_ENV}.toml relative to its working
# directory; both are optional (built-in defaults apply) and APP__SECTION__KEY variables
# override them. Files are root-owned and read-only to the service user.
WORKDIR /app
COPY --from=builder /app/target/release/spasm-triage /app/spasm-triage
COPY --from=builder /app/config/default.toml /app/config/production.toml /app/config/

# production: bind 0.0.0.0, JSON logs on stdout, API keys required (APP__AUTH__KEYS).
ENV APP_ENV=production
EXPOSE 8080

# distroless "nonroot" (65532:65532), numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532

# Probes, both served without an API key: Kubernetes uses HTTP probes
#   liveness   GET /health  -> 200 {"status":"ok"}
#   readiness  GET /ready   -> 200 {"status":"ok"} (knowledge base loaded and validated)
# and plain Docker / Compose the binary's own check (the image has no shell or curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD ["/app/spasm-triage", "healthcheck"]
ENTRYPOINT ["/app/spasm-triage"]
# Other commands: kb-check [DIR], kb-report, openapi (e.g. `docker run --rm IMAGE kb-check`).
CMD ["serve"]
