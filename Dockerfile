# onnxllm server image: `onnxllm serve` on a model folder mounted at /models.
#
#   scripts/make-base-image.sh                      # Debian 12 base from debootstrap (no registry)
#   scripts/podman.sh build --format docker --network host -t onnxllm .
#   scripts/podman.sh run --rm --network host -v ./models/phi-4-mini-cpu-int4:/models:ro onnxllm \
#       --model /models --host 127.0.0.1 --port 8080
# (docker build / docker run work the same with BASE=debian:12-slim.) deploy/README.md
# says more: compose, lifecycle, nginx, Kubernetes. --format docker keeps HEALTHCHECK
# (the OCI image format has no such field).
ARG BASE=localhost/onnxllm-base:bookworm

# ---- build: the project's own dependency script and CMake -----------------------------
FROM ${BASE} AS build
WORKDIR /src
COPY . .
# ONNXLLM_DEPS=build: compilers and -dev packages from Debian, ONNX Runtime from the
# verified tarball (sent in the context when present, else fetched from npm); no test tools.
RUN ONNXLLM_DEPS=build bash scripts/setup-deps.sh \
 && cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DONNXLLM_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
 && cmake --install build --prefix /opt/onnxllm \
 && rm -rf /opt/onnxllm/include /opt/onnxllm/lib/pkgconfig /opt/onnxllm/lib/*.a

# ---- runtime: the binary, libonnxllm, ONNX Runtime and the Debian libraries they link ----
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcjson1 libutf8proc2 libpcre2-8-0 libmicrohttpd12 \
      libcurl4 libssl3 libedit2 libstdc++6 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --system --gid 10001 onnxllm \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/onnxllm --create-home \
      --shell /usr/sbin/nologin -K SYS_UID_MAX=10001 onnxllm \
 && mkdir -p /models && chown onnxllm:onnxllm /models
COPY --from=build /opt/onnxllm /opt/onnxllm
# Fail the build, not the first start, when a linked library is missing.
RUN ln -s /opt/onnxllm/bin/onnxllm /usr/local/bin/onnxllm \
 && ! ldd /opt/onnxllm/bin/onnxllm | grep 'not found' \
 && onnxllm --version
USER onnxllm
WORKDIR /var/lib/onnxllm
VOLUME ["/models"]
EXPOSE 8080
# Readiness: /health is 200 once the model is loaded, 503 while loading and draining.
# bash's /dev/tcp, so the image needs no HTTP client. PORT: the port given to serve.
ENV PORT=8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/$PORT && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["onnxllm", "serve"]
CMD ["--model", "/models", "--host", "0.0.0.0", "--port", "8080"]
