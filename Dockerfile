# toonzoo: the drawing-guessing Telegram bot on a CUDA runtime (runs on the CPU unless a GPU is passed in).
#   docker build -t toonzoo .
#   export TELEGRAM_BOT_TOKEN=...   # then:
#   docker run -d -e TELEGRAM_BOT_TOKEN -v toonzoo-data:/data -v toonzoo-cache:/cache toonzoo
#   the canvas: add -e TOONZOO_WEBAPP_URL=https://... -e TOONZOO_WEBAPP_LISTEN=0.0.0.0 -p 127.0.0.1:8080:8080
#   add --gpus all for an NVIDIA GPU (needs the NVIDIA Container Toolkit on the host); see README.md
FROM nvidia/cuda:13.0.2-runtime-ubuntu24.04

ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HOME=/cache/huggingface \
    TOONZOO_DB=/data/toonzoo.db

# Distribution packages follow the base image's release; their versions are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv

WORKDIR /app
COPY pyproject.toml README.md ./
COPY classifier ./classifier
COPY bot ./bot
RUN pip install --no-compile . \
    && useradd --create-home --uid 10001 --user-group toonzoo \
    && mkdir -p /data /cache \
    && chown 10001:10001 /data /cache

USER 10001:10001
VOLUME ["/data", "/cache"]
EXPOSE 8080
ENTRYPOINT ["toonzoo"]
CMD ["run"]
