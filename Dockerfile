# guidebot: one image for the server, the web console, Slack and Teams.
#   docker build -t guidebot .
#   docker run --rm -p 3978:3978 guidebot            # then open http://127.0.0.1:3978
# The guide's index is built into the image; the question log is SQLite in /app/data
# unless GUIDEBOT_DATABASE_URL points at PostgreSQL (see deploy/k8s/README.md).

# --- build: a virtual environment with CPU-only PyTorch and the project ---------------------
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# PyTorch first, from the CPU wheel index (no CUDA, ~10x smaller): the biggest layer, cached
# until the pin changes. Keep the version in step with pyproject.toml.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY index ./index
COPY knowledge ./knowledge
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu .

# --- runtime: the venv and the source, a non-root user, the index built in -----------------
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    HOME=/tmp \
    GUIDEBOT_KNOWLEDGE_DIR=/app/knowledge \
    GUIDEBOT_DATA_DIR=/app/data \
    GUIDEBOT_PORT=3978

RUN groupadd --system --gid 10001 guidebot \
    && useradd --system --no-log-init --uid 10001 --gid guidebot --home-dir /app --shell /usr/sbin/nologin guidebot

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --from=build /app/bot ./bot
COPY --from=build /app/adapters ./adapters
COPY --from=build /app/index ./index
COPY --from=build /app/knowledge ./knowledge
RUN mkdir -p /app/data && chown guidebot:guidebot /app/data

USER 10001:10001
# The index is part of the image: a pod is ready as soon as the model is loaded, and every
# replica answers from the same build. A new guide means a new image (or `guidebot index` plus
# SIGHUP on a single machine with a volume on /app/data).
RUN guidebot index

EXPOSE 3978
# No curl in the slim image: ask /healthz with Python's standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('GUIDEBOT_PORT', '3978'), timeout=4)"]
CMD ["guidebot", "serve", "--host", "0.0.0.0"]
