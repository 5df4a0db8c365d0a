# Build stage: cache dependencies separately from the source.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /app
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY config ./config
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

# Runtime: the binary (knowledge base embedded) and its settings, as a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
COPY --from=builder /app/target/release/spasm-triage /app/spasm-triage
COPY --from=builder /app/config/default.toml /app/config/production.toml /app/config/
ENV APP_ENV=production
EXPOSE 8080
USER nonroot
# Probes: liveness GET /health, readiness GET /ready (see deploy/ and the README).
ENTRYPOINT ["/app/spasm-triage"]
